//! Custom elementary functions: a value and its partial derivatives,
//! written once, used by every mode.
//!
//! Implement [`Elementary`] for a function of `N` arguments and call it with
//! [`apply`] from generic code. On plain floats `apply` is the value; on
//! dual numbers the tangents follow from the partials; on tape variables
//! the partials are the recorded edge weights, so reverse mode sweeps them
//! like any built-in operation. Second and higher derivatives come from
//! running `partials` itself on dual numbers (the nested number types do
//! that on their own), exactly as the built-in rules get theirs, so
//! `partials` must be written generically, with the number type's
//! operations, not with `f64`s taken out of it. A rule may instead state
//! its second partials ([`Elementary::second_partials`]); every
//! second-order mode then uses those.
//!
//! Use it for a numerically stable form (log-sum-exp), a function known
//! only through a library call or an iteration whose derivative has a
//! closed form (a root found by Newton's method, differentiated by the
//! implicit function theorem), or a faster derivative than the composed one.
//!
//! ```
//! use chainrule::{apply, grad, hessian, Elementary, Real};
//!
//! /// ln(e^a + e^b), stable for large arguments.
//! #[derive(Clone)]
//! struct LogAddExp;
//!
//! impl Elementary<2> for LogAddExp {
//!     const NAME: &'static str = "logaddexp";
//!     fn value<T: Real>(&self, [a, b]: [T; 2]) -> T {
//!         let m = a.max(b);
//!         m + ((a - m).exp() + (b - m).exp()).ln()
//!     }
//!     fn partials<T: Real>(&self, [a, b]: [T; 2]) -> [T; 2] {
//!         // softmax: e^a / (e^a + e^b) = σ(a − b)
//!         [(a - b).sigmoid(), (b - a).sigmoid()]
//!     }
//! }
//!
//! fn f<T: Real>(x: &[T]) -> T {
//!     apply(&LogAddExp, [x[0], x[1]])
//! }
//! // At (1000, 1000) the composed form overflows; the custom one does not.
//! assert_eq!(f(&[1000.0, 1000.0]), 1000.0 + 2f64.ln());
//! assert_eq!(grad(f, &[1000.0, 1000.0])?, vec![0.5, 0.5]);
//! // Second derivatives from `partials` on dual numbers: σ' = σ(1 − σ).
//! let h = hessian(f, &[0.0, 0.0])?;
//! assert_eq!(h.to_rows(), vec![vec![0.25, -0.25], vec![-0.25, 0.25]]);
//! # Ok::<(), chainrule::Error>(())
//! ```
//!
//! Recorded [programs](crate::program) keep the rule and run it at each new
//! point, in every mode they offer. Graph captures draw only the rule
//! table's operations: capturing a function that applies a custom rule
//! returns [`Error::NotRecordable`](crate::Error::NotRecordable).

use crate::Real;

/// An elementary function of `N` arguments with its partial derivatives.
/// See the [module docs](self).
///
/// `Clone + Send + Sync + 'static` because a recorded
/// [`Program`](crate::program::Program) keeps a copy of the rule, to run it
/// at every new point and on any thread; rules are usually unit structs or
/// hold a few parameters.
pub trait Elementary<const N: usize>: Clone + Send + Sync + 'static {
    /// A short name, for error messages and pictures.
    const NAME: &'static str;

    /// The value at `args`.
    fn value<T: Real>(&self, args: [T; N]) -> T;

    /// The partial derivative with respect to each argument at `args`.
    fn partials<T: Real>(&self, args: [T; N]) -> [T; N];

    /// The second partial derivatives `∂²f/∂xᵢ∂xⱼ` at `args`, row `i` the
    /// derivatives of partial `i`, if the rule states them. The default,
    /// `None`, gets them by running [`partials`](Elementary::partials) on
    /// dual numbers, which is exact; state them when `partials` is costly or
    /// awkward to differentiate (an iteration, a library call). Third and
    /// higher derivatives come from running this method on dual numbers.
    ///
    /// ```
    /// use chainrule::{apply, hessian, Elementary, Real};
    ///
    /// /// The root y of y³ + y = x, with both derivatives from the implicit
    /// /// function theorem: y' = 1/(3y² + 1), y'' = −6·y·y'³.
    /// #[derive(Clone)]
    /// struct CubicRoot;
    ///
    /// impl CubicRoot {
    ///     fn slope<T: Real>(y: T) -> T {
    ///         (T::from(3.0).unwrap() * y * y + T::one()).recip()
    ///     }
    /// }
    ///
    /// impl Elementary<1> for CubicRoot {
    ///     const NAME: &'static str = "cubic_root";
    ///     fn value<T: Real>(&self, [x]: [T; 1]) -> T {
    ///         let mut y = x / (x.abs() + T::one()).cbrt();
    ///         for _ in 0..60 {
    ///             y -= (y * y * y + y - x) * Self::slope(y);
    ///         }
    ///         y
    ///     }
    ///     fn partials<T: Real>(&self, [x]: [T; 1]) -> [T; 1] {
    ///         [Self::slope(self.value([x]))]
    ///     }
    ///     fn second_partials<T: Real>(&self, [x]: [T; 1]) -> Option<[[T; 1]; 1]> {
    ///         let y = self.value([x]);
    ///         let slope = Self::slope(y);
    ///         Some([[T::from(-6.0).unwrap() * y * slope.powi(3)]])
    ///     }
    /// }
    ///
    /// // y(2) = 1, y'(2) = 1/4, y''(2) = −6/64.
    /// let h = hessian(|x| apply(&CubicRoot, [x[0]]), &[2.0])?;
    /// assert_eq!(h[(0, 0)], -0.09375);
    /// # Ok::<(), chainrule::Error>(())
    /// ```
    fn second_partials<T: Real>(&self, args: [T; N]) -> Option<[[T; N]; N]> {
        let _ = args;
        None
    }
}

/// Applies the custom elementary function `f` to `args`, on any number
/// type: the value, and the derivatives its partials give. See the [module
/// docs](self).
#[inline]
pub fn apply<T: Real, E: Elementary<N>, const N: usize>(f: &E, args: [T; N]) -> T {
    T::apply_elementary(f, args)
}

/// The partials of `f` at `args` as numbers of the differentiable type `S`
/// (whose values are `values`): with the rule's stated second partials,
/// `by_chain_rule(partial, its gradient)` makes each; without them,
/// `partials` runs on `S` itself.
pub(crate) fn lifted_partials<S: Real, T: Real, E: Elementary<K>, const K: usize>(
    f: &E,
    args: [S; K],
    values: [T; K],
    by_chain_rule: impl Fn(T, [T; K]) -> S,
) -> [S; K] {
    match f.second_partials(values) {
        None => f.partials(args),
        Some(second) => {
            let first = T::elementary_partials(f, values);
            std::array::from_fn(|i| by_chain_rule(first[i], second[i]))
        }
    }
}

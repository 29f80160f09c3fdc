//! Custom vector functions: `y = f(x)` from `n` numbers to `m`, with the
//! derivative given as products with the Jacobian `J = ∂y/∂x`.
//!
//! Implement [`VectorRule`] with the value, the Jacobian-vector product
//! `J·ẋ` and the vector-Jacobian product `ȳᵀ·J`, and call it with
//! [`apply_vector`] from generic code:
//!
//! - on plain floats it is the value;
//! - on dual numbers ([`Dual`], [`DualN`](crate::DualN)) the outputs'
//!   tangents are the Jacobian-vector product of the arguments' tangents
//!   (one product per direction that moves);
//! - on tape variables ([`Var`]) the outputs are recorded as one call with
//!   the products as callbacks: a backward sweep hands the outputs'
//!   adjoints to `vjp`, a forward sweep the arguments' tangents to `jvp`.
//!
//! The products receive the point `x` and the value `y`, so a rule can
//! reuse the value (a linear solve's adjoint needs the solution). They run
//! on the number type of the sweep, so a rule written generically is
//! differentiated again by the nested types: Hessians through a custom
//! solve are exact.
//!
//! Use it where the Jacobian is never needed as a matrix: a linear solve
//! (`A x = b`, whose adjoint is the solve `Aᵀ λ = x̄`), an implicit
//! function, an iterative method differentiated at its fixed point, a call
//! into a library that provides its own adjoint.
//!
//! ```
//! use chainrule::custom::{VectorRule, apply_vector};
//! use chainrule::{grad, hessian, Real};
//!
//! /// x / |x|: its Jacobian (I − y yᵀ) / |x| is never formed.
//! #[derive(Clone)]
//! struct Normalize;
//!
//! impl VectorRule for Normalize {
//!     const NAME: &'static str = "normalize";
//!     fn value<T: Real>(&self, x: &[T]) -> Vec<T> {
//!         let norm = x.iter().map(|&v| v * v).sum::<T>().sqrt();
//!         x.iter().map(|&v| v / norm).collect()
//!     }
//!     fn jvp<T: Real>(&self, x: &[T], y: &[T], x_dot: &[T]) -> Vec<T> {
//!         project(x, y, x_dot)
//!     }
//!     fn vjp<T: Real>(&self, x: &[T], y: &[T], y_bar: &[T]) -> Vec<T> {
//!         project(x, y, y_bar) // the Jacobian is symmetric
//!     }
//! }
//!
//! /// (v − y (y·v)) / |x|
//! fn project<T: Real>(x: &[T], y: &[T], v: &[T]) -> Vec<T> {
//!     let norm = x.iter().map(|&a| a * a).sum::<T>().sqrt();
//!     let along = y.iter().zip(v).map(|(&a, &b)| a * b).sum::<T>();
//!     y.iter().zip(v).map(|(&a, &b)| (b - a * along) / norm).collect()
//! }
//!
//! // The first component of x / |x|, with the rule and composed.
//! fn custom<T: Real>(x: &[T]) -> T {
//!     apply_vector(&Normalize, x)[0]
//! }
//! fn composed<T: Real>(x: &[T]) -> T {
//!     x[0] / x.iter().map(|&v| v * v).sum::<T>().sqrt()
//! }
//! let x = [3.0_f64, 4.0, 12.0];
//! let (g, h) = (grad(custom, &x)?, hessian(custom, &x)?);
//! let (g0, h0) = (grad(composed, &x)?, hessian(composed, &x)?);
//! for i in 0..3 {
//!     assert!((g[i] - g0[i]).abs() < 1e-15);
//!     for j in 0..3 {
//!         assert!((h[(i, j)] - h0[(i, j)]).abs() < 1e-15);
//!     }
//! }
//! # Ok::<(), chainrule::Error>(())
//! ```
//!
//! Recorded [programs](crate::program) keep a copy of the rule and run its
//! value forward and its `vjp` backward at every new point. Graph captures
//! draw only the rule table's operations: capturing a custom vector
//! function returns [`Error::NotRecordable`](crate::Error::NotRecordable).

use std::rc::Rc;

use crate::reverse::call::Callback;
use crate::{Dual, Real, TapeScalar, Var};

/// A function from `n` numbers to `m` with its Jacobian products. See the
/// [module docs](self).
///
/// Each method is generic over the number type and must compute with that
/// type's operations (not with `f64`s taken out of it), so that nested
/// number types differentiate it again. `Clone + Send + Sync + 'static`
/// because tape variables and recorded programs keep a copy of the rule for
/// later sweeps, and programs may be shared between threads.
pub trait VectorRule: Clone + Send + Sync + 'static {
    /// A short name, for error messages.
    const NAME: &'static str;

    /// The value `y = f(x)`.
    fn value<T: Real>(&self, x: &[T]) -> Vec<T>;

    /// The Jacobian-vector product `J(x)·ẋ`, one value per output; `y` is
    /// the value at `x`.
    fn jvp<T: Real>(&self, x: &[T], y: &[T], x_dot: &[T]) -> Vec<T>;

    /// The vector-Jacobian product `ȳᵀ·J(x)`, one value per argument; `y` is
    /// the value at `x`.
    fn vjp<T: Real>(&self, x: &[T], y: &[T], y_bar: &[T]) -> Vec<T>;
}

/// Applies the custom vector function `f` to `x`, on any number type: the
/// value, and the derivatives its products give. See the [module docs](self).
///
/// # Panics
/// If the rule's `jvp` returns a different number of values than `value`
/// (a bug in the rule: one tangent per output).
#[inline]
pub fn apply_vector<T: Real, F: VectorRule>(f: &F, x: &[T]) -> Vec<T> {
    T::apply_vector(f, x)
}

/// Records a vector function with a hand-written vector-Jacobian product on
/// the tape, for reverse mode: `forward` computes the outputs from the
/// inputs' values, with whatever it wants to keep for the backward sweep
/// (the residuals: a factorisation, the solution); `vjp` maps the residuals
/// and the outputs' adjoints to the inputs' adjoints.
///
/// This is the closure form of [`VectorRule`] for first derivatives in
/// reverse mode: the products run on the tape's scalar `T`, so they are not
/// differentiated again, a forward sweep over the recording (a `jvp` on
/// the [`Recording`](crate::Recording)) returns
/// [`Error::NoForwardRule`](crate::Error::NoForwardRule), and a recorded
/// [program](crate::program) cannot keep it
/// ([`Error::NotRecordable`](crate::Error::NotRecordable)). For every mode,
/// every order and programs, implement [`VectorRule`].
///
/// ```
/// use chainrule::custom::custom_vjp;
/// use chainrule::Recording;
///
/// // (p, q) = (a·b, a + b) with its adjoint written by hand.
/// let rec = Recording::<f64>::new();
/// let x = rec.inputs(&[2.0, 3.0]);
/// let y = custom_vjp(
///     &x,
///     |v| (vec![v[0] * v[1], v[0] + v[1]], (v[0], v[1])),
///     |&(a, b), y_bar| vec![y_bar[0] * b + y_bar[1], y_bar[0] * a + y_bar[1]],
/// );
/// assert_eq!(y[0].value(), 6.0);
/// assert_eq!(rec.vjp(&y, &[1.0, 10.0])?, vec![13.0, 12.0]);
/// # Ok::<(), chainrule::Error>(())
/// ```
pub fn custom_vjp<T, R, Forward, Backward>(inputs: &[Var<T>], forward: Forward, vjp: Backward) -> Vec<Var<T>>
where
    T: TapeScalar,
    R: 'static,
    Forward: FnOnce(&[T]) -> (Vec<T>, R),
    Backward: Fn(&R, &[T]) -> Vec<T> + 'static,
{
    let values: Vec<T> = inputs.iter().map(|v| v.value()).collect();
    let (outputs, residuals) = forward(&values);
    let pullback: Callback<T> = Rc::new(move |y_bar: &[T]| vjp(&residuals, y_bar));
    Var::record_call("custom_vjp", inputs, &outputs, pullback, None)
}

/// A vector function with a hand-written Jacobian-vector product, in
/// forward mode: the outputs' values are `f(x)` and their tangents
/// `jvp(x, y, ẋ)`, computed on the dual numbers' parts.
///
/// This is the closure form of [`VectorRule`] for [`Dual`] numbers; the
/// trait serves every mode.
///
/// ```
/// use chainrule::custom::custom_jvp;
/// use chainrule::Dual;
///
/// // (sin t, cos t), whose tangent is (cos t, −sin t)·ṫ
/// let t = Dual::new(0.5_f64, 1.0);
/// let y = custom_jvp(
///     &[t],
///     |x| vec![x[0].sin(), x[0].cos()],
///     |_, y, x_dot| vec![y[1] * x_dot[0], -y[0] * x_dot[0]],
/// );
/// assert_eq!(y[0].tangent, 0.5f64.cos());
/// assert_eq!(y[1].tangent, -(0.5f64.sin()));
/// ```
///
/// # Panics
/// If `jvp` returns a different number of values than `f` (one tangent per
/// output).
pub fn custom_jvp<T: Real>(
    inputs: &[Dual<T>],
    f: impl FnOnce(&[T]) -> Vec<T>,
    jvp: impl FnOnce(&[T], &[T], &[T]) -> Vec<T>,
) -> Vec<Dual<T>> {
    let values: Vec<T> = inputs.iter().map(|d| d.value).collect();
    let tangents: Vec<T> = inputs.iter().map(|d| d.tangent).collect();
    let outputs = f(&values);
    if T::all_zero(&tangents) {
        return outputs.into_iter().map(Dual::constant).collect();
    }
    let pushed = jvp(&values, &outputs, &tangents);
    check_tangents("custom_jvp", outputs.len(), pushed.len());
    outputs.into_iter().zip(pushed).map(|(v, t)| Dual::new(v, t)).collect()
}

/// Panics unless a rule's Jacobian-vector product gave one tangent per output.
pub(crate) fn check_tangents(name: &str, outputs: usize, tangents: usize) {
    assert_eq!(
        outputs, tangents,
        "the Jacobian-vector product of the custom function `{name}` returned {tangents} tangents \
         for {outputs} outputs; it must return one per output"
    );
}

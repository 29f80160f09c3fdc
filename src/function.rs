//! Functions written once for every number type, so that the library may
//! run them on whichever number suits the derivative: [`jacobian_of`] picks
//! forward mode on [`DualN`](crate::DualN) numbers or reverse mode on tape
//! variables by the function's shape.
//!
//! A closure has one argument type, so the closure-taking functions
//! ([`jacobian`](crate::jacobian) on `Var`, [`jacfwd`](crate::jacfwd) on
//! `DualN`) fix the mode by their signature. A [`VectorFunction`] is generic
//! in its method, so one value serves both modes. Write one with the
//! [`function!`](crate::function) macro, or implement the trait on a struct
//! that holds the function's parameters.

use crate::api::{Sweep, record_jacobian};
use crate::api::{forward_passes, seeded};
use crate::error::Result;
use crate::{JACFWD_CHUNK, Matrix, Real, TapeScalar, Var};

/// A function `Rⁿ → Rᵐ` written once for every number type.
///
/// ```
/// use chainrule::{Real, VectorFunction};
///
/// /// y_i = sin(c · x_i): the parameter c lives in the struct.
/// struct Wave {
///     c: f64,
/// }
///
/// impl VectorFunction for Wave {
///     fn eval<T: Real>(&self, x: &[T]) -> Vec<T> {
///         let c = T::from_f64(self.c).unwrap();
///         x.iter().map(|&v| (c * v).sin()).collect()
///     }
/// }
///
/// let j = chainrule::jacobian_of(&Wave { c: 2.0 }, &[0.0, 1.0])?;
/// assert_eq!(j.to_rows(), vec![vec![2.0, 0.0], vec![0.0, 2.0 * 2f64.cos()]]);
/// # Ok::<(), chainrule::Error>(())
/// ```
pub trait VectorFunction {
    /// The function's outputs at `x`, on any chainrule number type.
    fn eval<T: Real>(&self, x: &[T]) -> Vec<T>;
}

/// Makes a [`VectorFunction`] from a closure-like body written for any
/// number type `T` (which the body may name). It cannot capture variables:
/// put parameters in a struct that implements the trait instead.
///
/// ```
/// use num_traits::Float;
/// let f = chainrule::function!(|x| vec![x[0] * x[1], x[0].sin()]);
/// let j = chainrule::jacobian_of(&f, &[1.0, 2.0])?;
/// assert_eq!(j.to_rows(), vec![vec![2.0, 1.0], vec![1f64.cos(), 0.0]]);
/// # Ok::<(), chainrule::Error>(())
/// ```
#[macro_export]
macro_rules! function {
    (|$x:ident| $body:expr) => {{
        struct Generic;
        impl $crate::VectorFunction for Generic {
            fn eval<T: $crate::Real>(&self, $x: &[T]) -> ::std::vec::Vec<T> {
                $body
            }
        }
        Generic
    }};
}

/// The Jacobian of `f` at `x` by the cheaper mode for its shape: forward
/// mode on [`DualN`](crate::DualN) numbers ([`jacfwd`](crate::jacfwd)) when there are no
/// more inputs than outputs, reverse mode ([`jacrev`](crate::jacrev)) otherwise. Forward
/// mode on the function itself keeps running sums in registers, which a
/// forward sweep over a recorded tape cannot, so this is faster than
/// [`jacobian`](crate::jacobian) when forward mode wins.
///
/// # Errors
/// As [`jacfwd`](crate::jacfwd) and [`jacrev`](crate::jacrev).
pub fn jacobian_of<S: TapeScalar>(f: &impl VectorFunction, x: &[S]) -> Result<Matrix<S>> {
    value_and_jacobian_of(f, x).map(|(_, j)| j)
}

/// `f(x)` and its Jacobian, as [`jacobian_of`] computes them (the values
/// come from the same passes).
///
/// ```
/// let f = chainrule::function!(|x| vec![x[0] * x[1], x[0] + x[1], x[0]]);
/// let (values, j) = chainrule::value_and_jacobian_of(&f, &[2.0, 3.0])?;
/// assert_eq!(values, vec![6.0, 5.0, 2.0]);
/// assert_eq!(j.row(0), &[3.0, 2.0]);
/// # Ok::<(), chainrule::Error>(())
/// ```
///
/// # Errors
/// As [`jacobian_of`].
pub fn value_and_jacobian_of<S: TapeScalar>(f: &impl VectorFunction, x: &[S]) -> Result<(Vec<S>, Matrix<S>)> {
    // The first forward pass tells the number of outputs; when forward mode
    // wins it is kept as the first of jacfwd's passes, so nothing is wasted.
    let first = f.eval(&seeded::<S, JACFWD_CHUNK>(x, 0));
    if x.len() <= first.len() || x.len() <= JACFWD_CHUNK {
        forward_passes(|v| f.eval(v), x, Some(first))
    } else {
        record_jacobian(|v: &[Var<S>]| f.eval(v), x, Sweep::Reverse)
    }
}

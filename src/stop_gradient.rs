//! [`stop_gradient`]: a value that derivatives do not flow through.

use crate::Real;
use crate::rules::Unary;

/// `x` itself, as a number with no derivative: in every mode (forward,
/// reverse, recorded programs) and at every order, derivatives do not flow
/// through it. The value is unchanged, bit for bit.
///
/// Use it for quantities that should be treated as constants where they are
/// used: a target computed from the current parameters, a step size from the
/// current gradient norm, a normalisation that should not be differentiated.
/// It is an operation of the rule table (`Unary::StopGradient`, derivative
/// 0), so a [recorded program](crate::program) recomputes its value at every
/// new point instead of freezing it.
///
/// ```
/// use chainrule::{grad, hessian, stop_gradient, Real};
///
/// // f(x, y) = x·y with y held constant: ∂f/∂x = y, ∂f/∂y = 0.
/// fn f<T: Real>(v: &[T]) -> T {
///     v[0] * stop_gradient(v[1])
/// }
/// assert_eq!(grad(f, &[2.0, 3.0])?, vec![3.0, 0.0]);
///
/// // Second order too: x²·stop(x) has Hessian 2·x, not 6·x.
/// let h = hessian(|v| v[0] * v[0] * stop_gradient(v[0]), &[5.0])?;
/// assert_eq!(h[(0, 0)], 10.0);
/// # Ok::<(), chainrule::Error>(())
/// ```
pub fn stop_gradient<T: Real>(x: T) -> T {
    x.apply_unary(Unary::StopGradient)
}

//! [`Real`]: the scalar trait every chainrule number implements.

use std::fmt::{Debug, Display};
use std::iter::{Product, Sum};
use std::ops::{AddAssign, DivAssign, MulAssign, RemAssign, SubAssign};

use num_traits::{Float, FloatConst, FromPrimitive};

use crate::rules::{self, Binary, Unary};

/// A real scalar: `f32`, `f64`, and every differentiable number built on them
/// ([`Dual`](crate::Dual), [`DualN`](crate::DualN), [`Var`](crate::Var), and
/// their nestings).
///
/// Write functions generic over [`num_traits::Float`] and they run on every
/// chainrule number. `Real` adds what `Float` lacks: the elementary functions
/// `sigmoid` and `softplus`, the compound-assignment operators, and a way to
/// apply any operation of the [rule table](crate::rules) by its name, which is
/// how the expression evaluator runs one parsed formula in every mode.
///
/// ```
/// use chainrule::{derivative, Real};
///
/// fn logistic_loss<T: Real>(x: T) -> T {
///     (-x).softplus() // ln(1 + e^-x)
/// }
/// // d/dx ln(1 + e^-x) = -sigmoid(-x)
/// let slope = derivative(logistic_loss, 0.3);
/// assert!((slope + (-0.3f64).sigmoid()).abs() < 1e-15);
/// ```
pub trait Real:
    Float
    + FloatConst
    + FromPrimitive
    + Default
    + Debug
    + Display
    + Sum
    + Product
    + AddAssign
    + SubAssign
    + MulAssign
    + DivAssign
    + RemAssign
    + 'static
{
    /// Applies the elementary function `op` (value and, on differentiable
    /// numbers, derivative), exactly as the named method would.
    fn apply_unary(self, op: Unary) -> Self;

    /// Applies the two-argument elementary function `op` to `(self, other)`.
    fn apply_binary(self, op: Binary, other: Self) -> Self;

    /// Whether `self` is a finite plain number, so that `partial * self` needs
    /// no strong-zero guard (see [`rules::chain`]). Conservatively `false` for
    /// composite numbers, whose parts may differ in finiteness.
    #[doc(hidden)]
    fn is_plain_finite(&self) -> bool {
        false
    }

    /// The logistic function `1 / (1 + e^-x)`, computed without overflow.
    ///
    /// ```
    /// use chainrule::Real;
    /// assert_eq!(0.0_f64.sigmoid(), 0.5);
    /// ```
    fn sigmoid(self) -> Self {
        self.apply_unary(Unary::Sigmoid)
    }

    /// `ln(1 + e^x)`, computed without overflow (for large `x` it is `x`).
    ///
    /// ```
    /// use chainrule::Real;
    /// assert_eq!(1000.0_f64.softplus(), 1000.0);
    /// ```
    fn softplus(self) -> Self {
        self.apply_unary(Unary::Softplus)
    }
}

macro_rules! real_for_primitive {
    ($($t:ty),*) => {$(
        impl Real for $t {
            #[inline(always)]
            fn apply_unary(self, op: Unary) -> Self {
                rules::unary(op, self).0
            }
            #[inline(always)]
            fn apply_binary(self, op: Binary, other: Self) -> Self {
                rules::binary(op, self, other).0
            }
            #[inline(always)]
            fn is_plain_finite(&self) -> bool {
                self.is_finite()
            }
        }
    )*};
}

real_for_primitive!(f32, f64);

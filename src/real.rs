//! [`Real`]: the scalar trait every chainrule number implements.

use std::fmt::{Debug, Display};
use std::iter::{Product, Sum};
use std::ops::{AddAssign, DivAssign, MulAssign, RemAssign, SubAssign};

use num_traits::{Float, FloatConst, FromPrimitive};

use crate::custom::{Elementary, VectorRule};
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

    /// Applies a custom elementary function: its value and, on
    /// differentiable numbers, the derivatives its partials give. Called by
    /// [`apply`](crate::apply), which is the form to use.
    fn apply_elementary<E: Elementary<K>, const K: usize>(f: &E, args: [Self; K]) -> Self;

    /// Applies a custom vector function: its value and, on differentiable
    /// numbers, the derivatives its products give. Called by
    /// [`apply_vector`](crate::custom::apply_vector), which is the form to use.
    fn apply_vector<F: VectorRule>(f: &F, args: &[Self]) -> Vec<Self>;

    /// The partial derivatives of a custom elementary function at `args`, as
    /// numbers of this type (so differentiable again): on differentiable
    /// numbers from the rule's
    /// [`second_partials`](crate::Elementary::second_partials) when it has
    /// them, otherwise by running its `partials` on this type, which is the
    /// default.
    fn elementary_partials<E: Elementary<K>, const K: usize>(f: &E, args: [Self; K]) -> [Self; K] {
        f.partials(args)
    }

    /// `self · incoming` with a strong zero: exactly 0 when either factor is
    /// zero, even if the other is ∞ or NaN. This is the chain rule's product,
    /// defined in [`rules::chain`]; primitive floats override it with a version
    /// that tests for the rare NaN instead of for zeros.
    #[doc(hidden)]
    #[inline(always)]
    fn strong_mul(self, incoming: Self) -> Self {
        if self.is_zero() || incoming.is_zero() {
            Self::zero()
        } else {
            self * incoming
        }
    }

    /// Whether `self` is a finite plain number, so that `partial * self` needs
    /// no strong-zero guard. Conservatively `false` for composite numbers,
    /// whose parts may differ in finiteness.
    #[doc(hidden)]
    #[inline(always)]
    fn is_plain_finite(&self) -> bool {
        false
    }

    /// Whether this is a primitive float: then a plain chain-rule product or
    /// sum that is not NaN already equals the strong-zero one (they differ
    /// only where a 0·∞ made a NaN), so the guard can wait for a NaN. For
    /// composite numbers a NaN can hide in a part that comparisons ignore.
    #[doc(hidden)]
    const PRIMITIVE: bool = false;

    /// Whether every value is zero; primitive floats answer with one pass of
    /// bitwise ORs, without branches.
    #[doc(hidden)]
    #[inline(always)]
    fn all_zero(values: &[Self]) -> bool {
        values.iter().all(|v| v.is_zero())
    }

    /// Whether `self` is a finite, nonzero plain number, so that
    /// `self * incoming` equals the strong-zero product for every `incoming`
    /// (NaN included). Conservatively `false` for composite numbers.
    #[doc(hidden)]
    #[inline(always)]
    fn is_finite_nonzero(&self) -> bool {
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
            fn apply_elementary<E: Elementary<K>, const K: usize>(f: &E, args: [Self; K]) -> Self {
                f.value(args)
            }
            #[inline(always)]
            fn apply_vector<F: VectorRule>(f: &F, args: &[Self]) -> Vec<Self> {
                f.value(args)
            }
            const PRIMITIVE: bool = true;
            #[inline(always)]
            fn is_plain_finite(&self) -> bool {
                self.is_finite()
            }
            #[inline(always)]
            fn all_zero(values: &[Self]) -> bool {
                // Shifting out the sign bit makes -0 count as zero; NaN does not.
                values.iter().fold(0, |bits, v| bits | (v.to_bits() << 1)) == 0
            }
            #[inline(always)]
            fn is_finite_nonzero(&self) -> bool {
                // NaN fails both comparisons.
                let size = self.abs();
                size > 0.0 && size < <$t>::INFINITY
            }
            #[inline(always)]
            fn strong_mul(self, incoming: Self) -> Self {
                // The product differs from the strong-zero product only when
                // it is NaN because one factor is 0 and the other ∞ or NaN.
                let product = self * incoming;
                if product.is_nan() && (self == 0.0 || incoming == 0.0) { 0.0 } else { product }
            }
        }
    )*};
}

real_for_primitive!(f32, f64);

/// A number that carries derivatives: [`Dual`](crate::Dual),
/// [`DualN`](crate::DualN), [`Var`](crate::Var) and their nestings, not
/// `f32`/`f64`. Nested numbers take their base float on the right
/// (`Var<DualN<f64, 8>> * 2.0`) through it.
pub trait AdNumber {}

/// The primitive float a number is built on: `f64` for `Dual<f64>`,
/// `Var<DualN<f64, 8>>` and every other nesting over `f64`.
///
/// It lets plain numbers mix with AD numbers without annotations, at every
/// nesting: `x * 2.0`, `x - 1.0` and `x *= 0.5` take the base float on the
/// right, `2.0 * x` and `1.0 / x` an `f64` on the left (rounded to `f32` for
/// numbers over `f32`, so a literal works there too; a typed `f32` value goes
/// on the right). Inside a Hessian closure (`Var<DualN<f64, 8>>`) a literal
/// needs no `T::from(2.0).unwrap()`.
///
/// ```
/// use chainrule::{Dual, hessian};
/// use num_traits::Float;
///
/// let x = Dual::variable(3.0);
/// assert_eq!((2.0 * x).tangent, 2.0);
/// // Plain literals inside a Hessian closure: f = 3x² + x·y.
/// let h = hessian(|v| 3.0 * v[0].powi(2) + v[0] * v[1], &[1.0, 2.0]).unwrap();
/// assert_eq!(h.to_rows(), vec![vec![6.0, 1.0], vec![1.0, 0.0]]);
/// ```
pub trait Innermost {
    /// `f32` or `f64`.
    type Float: Float;
}

impl Innermost for f64 {
    type Float = f64;
}

impl Innermost for f32 {
    type Float = f32;
}

//! chainrule numbers as nalgebra scalars (feature `nalgebra`).
//!
//! [`Dual`], [`DualN`] and [`Var`] (and their nestings) implement simba's
//! [`RealField`] and [`ComplexField`], and through simba's blanket
//! implementations `SimdRealField` and `SimdComplexField`. So a
//! `DMatrix<Var<f64>>` or `DVector<Dual<f64>>` goes through nalgebra's generic
//! algorithms (`lu`, `cholesky`, `solve`, `try_inverse`, `determinant`,
//! `symmetric_eigen`, ...), and derivatives flow through every step: each
//! method below is the chainrule operation of the same name, with its rule
//! from the [rule table](crate::rules).
//!
//! Pivoting and convergence tests compare values, as they do on `f64`, so the
//! derivative is that of the branch the values take (on a traced recording
//! the comparisons become the program's guards). The `approx` comparisons
//! (`relative_eq`, `ulps_eq`) look at the values only, in the base float.
//!
//! ```
//! use chainrule::{grad, Var};
//! use nalgebra::{ComplexField, DMatrix};
//!
//! // ∇ log det [[x0, 1], [1, x1]] = diagonal of A⁻¹ = [x1, x0] / det.
//! let g = grad(
//!     |x| {
//!         let one = Var::constant(1.0);
//!         let a = DMatrix::from_row_slice(2, 2, &[x[0], one, one, x[1]]);
//!         a.lu().determinant().ln()
//!     },
//!     &[3.0, 2.0],
//! )?;
//! assert!((g[0] - 2.0 / 5.0).abs() < 1e-15 && (g[1] - 3.0 / 5.0).abs() < 1e-15);
//! # Ok::<(), chainrule::Error>(())
//! ```
//!
//! With both `nalgebra::ComplexField` (or `RealField`) and
//! `num_traits::Float` in scope, a method such as `x.sin()` on a chainrule
//! number names two traits; write `Float::sin(x)` or import only one. Both
//! compute the same thing.

use ::nalgebra::{DMatrix, Scalar};
use approx::{AbsDiffEq, RelativeEq, UlpsEq};
use num_traits::{Float, FloatConst, ToPrimitive};
use simba::scalar::{ComplexField, Field, RealField, SubsetOf};
use simba::simd::SimdValue;

use crate::{Dual, DualN, Innermost, Matrix, Real, Var};

/// The value of a chainrule number in `f64` (exact for numbers over `f32`).
fn plain<X: ToPrimitive>(x: &X) -> f64 {
    x.to_f64().unwrap_or(f64::NAN)
}

/// Whether the base float of `X` is `f32`, so that `ulps` and tolerances are
/// counted in that type as nalgebra's tests expect.
fn over_f32<X: Innermost>() -> bool {
    std::mem::size_of::<X::Float>() == std::mem::size_of::<f32>()
}

/// Implements the simba and approx traits for one chainrule number type.
/// `[$($gen)*]` are the impl generics.
macro_rules! nalgebra_scalar {
    ([$($gen:tt)*] $ty:ty) => {
        impl<$($gen)*> num_traits::Signed for $ty {
            fn abs(&self) -> Self {
                Float::abs(*self)
            }
            fn abs_sub(&self, other: &Self) -> Self {
                if *self <= *other { <Self as num_traits::Zero>::zero() } else { *self - *other }
            }
            fn signum(&self) -> Self {
                Float::signum(*self)
            }
            fn is_positive(&self) -> bool {
                Float::is_sign_positive(*self)
            }
            fn is_negative(&self) -> bool {
                Float::is_sign_negative(*self)
            }
        }

        impl<$($gen)*> SimdValue for $ty {
            const LANES: usize = 1;
            type Element = Self;
            type SimdBool = bool;

            fn splat(value: Self) -> Self {
                value
            }
            fn extract(&self, _: usize) -> Self {
                *self
            }
            unsafe fn extract_unchecked(&self, _: usize) -> Self {
                *self
            }
            fn replace(&mut self, _: usize, value: Self) {
                *self = value;
            }
            unsafe fn replace_unchecked(&mut self, _: usize, value: Self) {
                *self = value;
            }
            fn select(self, condition: bool, other: Self) -> Self {
                if condition { self } else { other }
            }
        }

        impl<$($gen)*> Field for $ty {}

        impl<$($gen)*> SubsetOf<$ty> for $ty {
            fn to_superset(&self) -> Self {
                *self
            }
            fn from_superset_unchecked(element: &Self) -> Self {
                *element
            }
            fn is_in_subset(_: &Self) -> bool {
                true
            }
        }

        /// A plain `f64` is a constant; back from the number, its value.
        impl<$($gen)*> SubsetOf<$ty> for f64 {
            fn to_superset(&self) -> $ty {
                <$ty as num_traits::NumCast>::from(*self).unwrap_or_else(<$ty as Float>::nan)
            }
            fn from_superset_unchecked(element: &$ty) -> f64 {
                plain(element)
            }
            fn is_in_subset(_: &$ty) -> bool {
                true
            }
        }

        /// A plain `f32` is a constant; back from the number, its value.
        impl<$($gen)*> SubsetOf<$ty> for f32 {
            fn to_superset(&self) -> $ty {
                <$ty as num_traits::NumCast>::from(*self).unwrap_or_else(<$ty as Float>::nan)
            }
            fn from_superset_unchecked(element: &$ty) -> f32 {
                plain(element) as f32
            }
            fn is_in_subset(_: &$ty) -> bool {
                true
            }
        }

        impl<$($gen)*> AbsDiffEq for $ty {
            type Epsilon = Self;
            fn default_epsilon() -> Self {
                Float::epsilon()
            }
            fn abs_diff_eq(&self, other: &Self, epsilon: Self) -> bool {
                if over_f32::<Self>() {
                    (plain(self) as f32).abs_diff_eq(&(plain(other) as f32), plain(&epsilon) as f32)
                } else {
                    plain(self).abs_diff_eq(&plain(other), plain(&epsilon))
                }
            }
        }

        impl<$($gen)*> RelativeEq for $ty {
            fn default_max_relative() -> Self {
                Float::epsilon()
            }
            fn relative_eq(&self, other: &Self, epsilon: Self, max_relative: Self) -> bool {
                let (a, b, e, r) = (plain(self), plain(other), plain(&epsilon), plain(&max_relative));
                if over_f32::<Self>() {
                    (a as f32).relative_eq(&(b as f32), e as f32, r as f32)
                } else {
                    a.relative_eq(&b, e, r)
                }
            }
        }

        impl<$($gen)*> UlpsEq for $ty {
            fn default_max_ulps() -> u32 {
                4
            }
            fn ulps_eq(&self, other: &Self, epsilon: Self, max_ulps: u32) -> bool {
                let (a, b, e) = (plain(self), plain(other), plain(&epsilon));
                if over_f32::<Self>() {
                    (a as f32).ulps_eq(&(b as f32), e as f32, max_ulps)
                } else {
                    a.ulps_eq(&b, e, max_ulps)
                }
            }
        }

        impl<$($gen)*> ComplexField for $ty {
            type RealField = Self;

            fn from_real(re: Self) -> Self {
                re
            }
            fn real(self) -> Self {
                self
            }
            fn imaginary(self) -> Self {
                <Self as num_traits::Zero>::zero()
            }
            fn modulus(self) -> Self {
                Float::abs(self)
            }
            fn modulus_squared(self) -> Self {
                self * self
            }
            fn argument(self) -> Self {
                if self >= <Self as num_traits::Zero>::zero() { <Self as num_traits::Zero>::zero() } else { FloatConst::PI() }
            }
            fn norm1(self) -> Self {
                Float::abs(self)
            }
            fn scale(self, factor: Self) -> Self {
                self * factor
            }
            fn unscale(self, factor: Self) -> Self {
                self / factor
            }
            fn signum(self) -> Self {
                Float::signum(self)
            }
            fn floor(self) -> Self {
                Float::floor(self)
            }
            fn ceil(self) -> Self {
                Float::ceil(self)
            }
            fn round(self) -> Self {
                Float::round(self)
            }
            fn trunc(self) -> Self {
                Float::trunc(self)
            }
            fn fract(self) -> Self {
                Float::fract(self)
            }
            fn mul_add(self, a: Self, b: Self) -> Self {
                Float::mul_add(self, a, b)
            }
            fn abs(self) -> Self {
                Float::abs(self)
            }
            fn hypot(self, other: Self) -> Self {
                Float::hypot(self, other)
            }
            fn recip(self) -> Self {
                Float::recip(self)
            }
            fn conjugate(self) -> Self {
                self
            }
            fn sin(self) -> Self {
                Float::sin(self)
            }
            fn cos(self) -> Self {
                Float::cos(self)
            }
            fn sin_cos(self) -> (Self, Self) {
                Float::sin_cos(self)
            }
            fn tan(self) -> Self {
                Float::tan(self)
            }
            fn asin(self) -> Self {
                Float::asin(self)
            }
            fn acos(self) -> Self {
                Float::acos(self)
            }
            fn atan(self) -> Self {
                Float::atan(self)
            }
            fn sinh(self) -> Self {
                Float::sinh(self)
            }
            fn cosh(self) -> Self {
                Float::cosh(self)
            }
            fn tanh(self) -> Self {
                Float::tanh(self)
            }
            fn asinh(self) -> Self {
                Float::asinh(self)
            }
            fn acosh(self) -> Self {
                Float::acosh(self)
            }
            fn atanh(self) -> Self {
                Float::atanh(self)
            }
            fn log(self, base: Self) -> Self {
                Float::log(self, base)
            }
            fn log2(self) -> Self {
                Float::log2(self)
            }
            fn log10(self) -> Self {
                Float::log10(self)
            }
            fn ln(self) -> Self {
                Float::ln(self)
            }
            fn ln_1p(self) -> Self {
                Float::ln_1p(self)
            }
            fn sqrt(self) -> Self {
                Float::sqrt(self)
            }
            fn exp(self) -> Self {
                Float::exp(self)
            }
            fn exp2(self) -> Self {
                Float::exp2(self)
            }
            fn exp_m1(self) -> Self {
                Float::exp_m1(self)
            }
            fn powi(self, n: i32) -> Self {
                Float::powi(self, n)
            }
            fn powf(self, n: Self) -> Self {
                Float::powf(self, n)
            }
            fn powc(self, n: Self) -> Self {
                Float::powf(self, n)
            }
            fn cbrt(self) -> Self {
                Float::cbrt(self)
            }
            fn is_finite(&self) -> bool {
                Float::is_finite(*self)
            }
            fn try_sqrt(self) -> Option<Self> {
                (self >= <Self as num_traits::Zero>::zero()).then(|| Float::sqrt(self))
            }
        }

        impl<$($gen)*> RealField for $ty {
            fn is_sign_positive(&self) -> bool {
                Float::is_sign_positive(*self)
            }
            fn is_sign_negative(&self) -> bool {
                Float::is_sign_negative(*self)
            }
            fn copysign(self, sign: Self) -> Self {
                Float::copysign(self, sign)
            }
            fn max(self, other: Self) -> Self {
                Float::max(self, other)
            }
            fn min(self, other: Self) -> Self {
                Float::min(self, other)
            }
            fn clamp(self, min: Self, max: Self) -> Self {
                if self < min {
                    min
                } else if self > max {
                    max
                } else {
                    self
                }
            }
            fn atan2(self, other: Self) -> Self {
                Float::atan2(self, other)
            }
            fn min_value() -> Option<Self> {
                Some(Float::min_value())
            }
            fn max_value() -> Option<Self> {
                Some(Float::max_value())
            }
            fn pi() -> Self {
                FloatConst::PI()
            }
            fn two_pi() -> Self {
                FloatConst::TAU()
            }
            fn frac_pi_2() -> Self {
                FloatConst::FRAC_PI_2()
            }
            fn frac_pi_3() -> Self {
                FloatConst::FRAC_PI_3()
            }
            fn frac_pi_4() -> Self {
                FloatConst::FRAC_PI_4()
            }
            fn frac_pi_6() -> Self {
                FloatConst::FRAC_PI_6()
            }
            fn frac_pi_8() -> Self {
                FloatConst::FRAC_PI_8()
            }
            fn frac_1_pi() -> Self {
                FloatConst::FRAC_1_PI()
            }
            fn frac_2_pi() -> Self {
                FloatConst::FRAC_2_PI()
            }
            fn frac_2_sqrt_pi() -> Self {
                FloatConst::FRAC_2_SQRT_PI()
            }
            fn e() -> Self {
                FloatConst::E()
            }
            fn log2_e() -> Self {
                FloatConst::LOG2_E()
            }
            fn log10_e() -> Self {
                FloatConst::LOG10_E()
            }
            fn ln_2() -> Self {
                FloatConst::LN_2()
            }
            fn ln_10() -> Self {
                FloatConst::LN_10()
            }
        }
    };
}

nalgebra_scalar!([T: Real + Innermost + Send + Sync] Dual<T>);
nalgebra_scalar!([T: Real + Innermost + Send + Sync, const N: usize] DualN<T, N>);
nalgebra_scalar!([T: Real + Innermost + Send + Sync] Var<T>);

/// A chainrule [`Matrix`] as a nalgebra `DMatrix`, entry for entry.
///
/// ```
/// use chainrule::Matrix;
/// use nalgebra::DMatrix;
/// let j = chainrule::jacobian(|x| vec![x[0] * x[1], x[0] + 1.0], &[2.0, 3.0])?;
/// let d: DMatrix<f64> = j.clone().into();
/// assert_eq!(d, DMatrix::from_row_slice(2, 2, &[3.0, 2.0, 1.0, 0.0]));
/// assert_eq!(Matrix::from(d), j);
/// # Ok::<(), chainrule::Error>(())
/// ```
impl<T: Scalar + Copy> From<Matrix<T>> for DMatrix<T> {
    fn from(matrix: Matrix<T>) -> Self {
        DMatrix::from_row_slice(matrix.rows(), matrix.cols(), matrix.as_slice())
    }
}

/// A nalgebra `DMatrix` as a chainrule [`Matrix`], entry for entry.
impl<T: Scalar + Copy> From<DMatrix<T>> for Matrix<T> {
    fn from(matrix: DMatrix<T>) -> Self {
        let (rows, cols) = matrix.shape();
        // nalgebra stores columns; the transpose's columns are our rows.
        Matrix::from_row_major(rows, cols, matrix.transpose().as_slice().to_vec())
    }
}

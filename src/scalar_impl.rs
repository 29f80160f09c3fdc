//! The number-trait boilerplate shared by every differentiable number type.
//!
//! A type gets `num_traits::Float` (and `Num`, `NumCast`, `FloatConst`, the
//! operators, `Sum`, ...) by providing four inherent methods, and this macro
//! routes every operation through them to the [rule table](crate::rules):
//!
//! - `fn primal(&self) -> S`: the plain value (comparisons and queries look at it);
//! - `fn constant(value: S) -> Self`: a number that does not move;
//! - `fn lift_unary(self, op: Unary) -> Self`;
//! - `fn lift_binary(self, op: Binary, other: Self) -> Self`;
//! - `fn lift_mul_add(self, a: Self, b: Self) -> Self`;
//! - `fn lift_strong_mul(self, other: Self) -> Self`: the chain rule's
//!   strong-zero product, whose value must be the strong product of the
//!   values (so nested derivatives have the same values as plain ones);
//! - `fn is_exact_zero(&self) -> bool`: the number is the constant 0, every
//!   derivative part included (a tape variable whose value is 0 is not);
//! - `fn note_comparison(&self, other: &Self, outcome: Outcome)`: called by
//!   `==` and the orderings, so a traced recording can keep the branches
//!   its code took (a no-op for dual numbers).
//!
//! Primitive floats run these inlined; nested numbers (`Dual<Var>`, ...)
//! run each as one out-of-line call (see the `run_*` methods the macro
//! writes), so long functions build quickly at any nesting.
//!
//! Writing it once keeps `Dual`, `DualN` and `Var` from growing three copies
//! of sixty methods that could drift apart.

/// Implements `Float`, `Real` and friends for `$ty` over the scalar `$s`.
/// `[$($gen)*]` are the impl generics, e.g. `[T: Real, const N: usize]`.
macro_rules! impl_real_number {
    ([$($gen:tt)*] $ty:ty, $s:ty) => {
        /// Where each operation runs: inlined on primitive floats, whose
        /// operations are a few instructions; out of line, one call per
        /// operation with the operation a runtime argument, on nested
        /// numbers (`Dual<Var>`, `Var<DualN>`, ...). There every operation is
        /// several operations of the inner type, each again several, and
        /// inlining them all into a user's function multiplies its size and
        /// build time (a 90-operation function at `Dual<Var<f64>>` took 425 s
        /// to build; `bench/compile_time.py`). The test is a constant, so
        /// each type keeps one of the two paths.
        impl<$($gen)*> $ty {
            #[inline(always)]
            fn run_unary(self, op: $crate::rules::Unary) -> Self {
                #[inline(never)]
                fn outlined<$($gen)*>(x: $ty, op: $crate::rules::Unary) -> $ty {
                    x.lift_unary(op)
                }
                if <$s as $crate::Real>::PRIMITIVE { self.lift_unary(op) } else { outlined(self, op) }
            }
            #[inline(always)]
            fn run_binary(self, op: $crate::rules::Binary, other: Self) -> Self {
                #[inline(never)]
                fn outlined<$($gen)*>(x: $ty, op: $crate::rules::Binary, y: $ty) -> $ty {
                    x.lift_binary(op, y)
                }
                if <$s as $crate::Real>::PRIMITIVE { self.lift_binary(op, other) } else { outlined(self, op, other) }
            }
            #[inline(always)]
            fn run_mul_add(self, a: Self, b: Self) -> Self {
                #[inline(never)]
                fn outlined<$($gen)*>(x: $ty, a: $ty, b: $ty) -> $ty {
                    x.lift_mul_add(a, b)
                }
                if <$s as $crate::Real>::PRIMITIVE { self.lift_mul_add(a, b) } else { outlined(self, a, b) }
            }
            /// A plain number as a constant of this type: over `f32` it is
            /// rounded, as `T::from` would (a decimal literal rounded to
            /// `f64` and then to `f32` can, in rare halfway cases, differ in
            /// its last bit from the literal read as `f32`).
            #[inline(always)]
            fn from_plain(x: f64) -> Self {
                Self::constant(<$s as ::num_traits::NumCast>::from(x).unwrap_or_else(<$s as ::num_traits::Float>::nan))
            }
            #[inline(always)]
            fn run_strong_mul(self, other: Self) -> Self {
                #[inline(never)]
                fn outlined<$($gen)*>(x: $ty, y: $ty) -> $ty {
                    x.lift_strong_mul(y)
                }
                if <$s as $crate::Real>::PRIMITIVE { self.lift_strong_mul(other) } else { outlined(self, other) }
            }
        }

        impl<$($gen)*> $crate::Innermost for $ty where $s: $crate::Innermost {
            type Float = <$s as $crate::Innermost>::Float;
        }

        impl<$($gen)*> $crate::AdNumber for $ty {}

        impl<$($gen)*> $crate::Real for $ty {
            #[inline(always)]
            fn apply_unary(self, op: $crate::rules::Unary) -> Self {
                self.run_unary(op)
            }
            #[inline(always)]
            fn apply_binary(self, op: $crate::rules::Binary, other: Self) -> Self {
                self.run_binary(op, other)
            }
            #[inline(always)]
            fn strong_mul(self, incoming: Self) -> Self {
                self.run_strong_mul(incoming)
            }
            #[inline(always)]
            fn apply_elementary<E: $crate::custom::Elementary<K>, const K: usize>(f: &E, args: [Self; K]) -> Self {
                Self::lift_elementary(f, args)
            }
            fn apply_vector<F: $crate::custom::VectorRule>(f: &F, args: &[Self]) -> Vec<Self> {
                Self::lift_vector(f, args)
            }
            fn elementary_partials<E: $crate::custom::Elementary<K>, const K: usize>(f: &E, args: [Self; K]) -> [Self; K] {
                Self::lift_elementary_partials(f, args)
            }
        }

        impl<$($gen)*> ::core::cmp::PartialEq for $ty {
            fn eq(&self, other: &Self) -> bool {
                let equal = self.primal() == other.primal();
                self.note_comparison(other, $crate::reverse::Outcome::Equal(equal));
                equal
            }
        }

        impl<$($gen)*> ::core::cmp::PartialOrd for $ty {
            fn partial_cmp(&self, other: &Self) -> Option<::core::cmp::Ordering> {
                let order = self.primal().partial_cmp(&other.primal());
                self.note_comparison(other, $crate::reverse::Outcome::Order(order));
                order
            }
        }

        impl<$($gen)*> ::core::default::Default for $ty {
            fn default() -> Self {
                Self::constant(<$s as ::num_traits::Zero>::zero())
            }
        }

        impl<$($gen)*> ::core::convert::From<$s> for $ty {
            fn from(value: $s) -> Self {
                Self::constant(value)
            }
        }

        impl<$($gen)*> ::num_traits::Zero for $ty {
            fn zero() -> Self {
                Self::constant(<$s as ::num_traits::Zero>::zero())
            }
            fn is_zero(&self) -> bool {
                self.is_exact_zero()
            }
        }

        impl<$($gen)*> ::num_traits::One for $ty {
            fn one() -> Self {
                Self::constant(<$s as ::num_traits::One>::one())
            }
        }

        impl<$($gen)*> ::num_traits::Num for $ty {
            type FromStrRadixErr = <$s as ::num_traits::Num>::FromStrRadixErr;
            fn from_str_radix(text: &str, radix: u32) -> Result<Self, Self::FromStrRadixErr> {
                <$s as ::num_traits::Num>::from_str_radix(text, radix).map(Self::constant)
            }
        }

        impl<$($gen)*> ::num_traits::ToPrimitive for $ty {
            fn to_i64(&self) -> Option<i64> {
                self.primal().to_i64()
            }
            fn to_u64(&self) -> Option<u64> {
                self.primal().to_u64()
            }
            fn to_f32(&self) -> Option<f32> {
                self.primal().to_f32()
            }
            fn to_f64(&self) -> Option<f64> {
                self.primal().to_f64()
            }
        }

        impl<$($gen)*> ::num_traits::NumCast for $ty {
            fn from<P: ::num_traits::ToPrimitive>(n: P) -> Option<Self> {
                <$s as ::num_traits::NumCast>::from(n).map(Self::constant)
            }
        }

        impl<$($gen)*> ::num_traits::FromPrimitive for $ty {
            fn from_i64(n: i64) -> Option<Self> {
                <$s as ::num_traits::FromPrimitive>::from_i64(n).map(Self::constant)
            }
            fn from_u64(n: u64) -> Option<Self> {
                <$s as ::num_traits::FromPrimitive>::from_u64(n).map(Self::constant)
            }
            fn from_f64(n: f64) -> Option<Self> {
                <$s as ::num_traits::FromPrimitive>::from_f64(n).map(Self::constant)
            }
        }

        impl<$($gen)*> ::num_traits::FloatConst for $ty {
            impl_real_number!(@consts $s; E FRAC_1_PI FRAC_1_SQRT_2 FRAC_2_PI FRAC_2_SQRT_PI
                FRAC_PI_2 FRAC_PI_3 FRAC_PI_4 FRAC_PI_6 FRAC_PI_8 LN_10 LN_2 LOG10_E LOG2_E
                PI SQRT_2 TAU LOG10_2 LOG2_10);
        }

        impl<$($gen)*> ::core::ops::Neg for $ty {
            type Output = Self;
            #[inline(always)]
            fn neg(self) -> Self {
                self.run_unary($crate::rules::Unary::Neg)
            }
        }

        impl_real_number!(@binop [$($gen)*] $ty, $s; Add add AddAssign add_assign Add);
        impl_real_number!(@binop [$($gen)*] $ty, $s; Sub sub SubAssign sub_assign Sub);
        impl_real_number!(@binop [$($gen)*] $ty, $s; Mul mul MulAssign mul_assign Mul);
        impl_real_number!(@binop [$($gen)*] $ty, $s; Div div DivAssign div_assign Div);
        impl_real_number!(@binop [$($gen)*] $ty, $s; Rem rem RemAssign rem_assign Rem);

        impl<$($gen)*> ::core::iter::Sum for $ty {
            fn sum<I: Iterator<Item = Self>>(iter: I) -> Self {
                iter.fold(<Self as ::num_traits::Zero>::zero(), |acc, x| acc + x)
            }
        }

        impl<$($gen)*> ::core::iter::Product for $ty {
            fn product<I: Iterator<Item = Self>>(iter: I) -> Self {
                iter.fold(<Self as ::num_traits::One>::one(), |acc, x| acc * x)
            }
        }

        impl<$($gen)*> ::num_traits::Float for $ty {
            impl_real_number!(@constants $s; nan infinity neg_infinity neg_zero min_value
                min_positive_value max_value epsilon);
            impl_real_number!(@queries; is_nan is_infinite is_finite is_normal is_subnormal
                is_sign_positive is_sign_negative);
            impl_real_number!(@unary; floor Floor, ceil Ceil, round Round, trunc Trunc,
                fract Fract, abs Abs, signum Signum, recip Recip, sqrt Sqrt, cbrt Cbrt,
                exp Exp, exp2 Exp2, exp_m1 ExpM1, ln Ln, log2 Log2, log10 Log10,
                ln_1p Ln1p, sin Sin, cos Cos, tan Tan, asin Asin, acos Acos, atan Atan,
                sinh Sinh, cosh Cosh, tanh Tanh, asinh Asinh, acosh Acosh, atanh Atanh);
            impl_real_number!(@binary; powf Powf, log Log, max Max, min Min,
                hypot Hypot, atan2 Atan2);

            fn classify(self) -> ::core::num::FpCategory {
                self.primal().classify()
            }
            fn integer_decode(self) -> (u64, i16, i8) {
                self.primal().integer_decode()
            }
            #[inline(always)]
            fn mul_add(self, a: Self, b: Self) -> Self {
                self.run_mul_add(a, b)
            }
            #[inline(always)]
            fn powi(self, n: i32) -> Self {
                self.run_unary($crate::rules::Unary::Powi(n))
            }
            fn to_degrees(self) -> Self {
                self.run_unary($crate::rules::Unary::Scale($crate::rules::ScaleBy::ToDegrees))
            }
            fn to_radians(self) -> Self {
                self.run_unary($crate::rules::Unary::Scale($crate::rules::ScaleBy::ToRadians))
            }
            #[allow(deprecated)]
            fn abs_sub(self, other: Self) -> Self {
                (self - other).max(<Self as ::num_traits::Zero>::zero())
            }
            fn sin_cos(self) -> (Self, Self) {
                (self.sin(), self.cos())
            }
        }
    };

    (@binop [$($gen:tt)*] $ty:ty, $s:ty; $trait:ident $method:ident $assign:ident $assign_method:ident $op:ident) => {
        impl<$($gen)*> ::core::ops::$trait for $ty {
            type Output = Self;
            #[inline(always)]
            fn $method(self, rhs: Self) -> Self {
                self.run_binary($crate::rules::Binary::$op, rhs)
            }
        }
        impl<$($gen)*> ::core::ops::$assign for $ty {
            #[inline(always)]
            fn $assign_method(&mut self, rhs: Self) {
                *self = self.run_binary($crate::rules::Binary::$op, rhs);
            }
        }
        // The inner scalar on the right: `Dual<f64> * 2.0`, `Var<Dual<f64>> * d`.
        impl<$($gen)*> ::core::ops::$trait<$s> for $ty {
            type Output = Self;
            #[inline(always)]
            fn $method(self, rhs: $s) -> Self {
                self.run_binary($crate::rules::Binary::$op, Self::constant(rhs))
            }
        }
        impl<$($gen)*> ::core::ops::$assign<$s> for $ty {
            #[inline(always)]
            fn $assign_method(&mut self, rhs: $s) {
                *self = self.run_binary($crate::rules::Binary::$op, Self::constant(rhs));
            }
        }
        // A plain `f64` on the left, at every nesting and over either base
        // float: `2.0 * x`. One impl per type, so that even with nothing
        // naming the float type (`let x = Dual::variable(3.0); 2.0 * x`)
        // inference has a single candidate.
        impl<$($gen)*> ::core::ops::$trait<$ty> for f64 {
            type Output = $ty;
            #[inline(always)]
            fn $method(self, rhs: $ty) -> $ty {
                <$ty>::from_plain(self).run_binary($crate::rules::Binary::$op, rhs)
            }
        }
        impl_real_number!(@plain [$($gen)*] $ty, $s, f64; $trait $method $assign $assign_method $op);
        impl_real_number!(@plain [$($gen)*] $ty, $s, f32; $trait $method $assign $assign_method $op);
    };

    // The base float on the right of a nested number: `Var<DualN<f64, 8>> *
    // 2.0`, `x *= 0.5`. (A number over a primitive float has it as its inner
    // scalar already; `AdNumber` keeps the two impls apart.)
    (@plain [$($gen:tt)*] $ty:ty, $s:ty, $p:ty; $trait:ident $method:ident $assign:ident $assign_method:ident $op:ident) => {
        impl<$($gen)*> ::core::ops::$trait<$p> for $ty
        where
            $s: $crate::AdNumber + $crate::Innermost<Float = $p>,
        {
            type Output = Self;
            #[inline(always)]
            fn $method(self, rhs: $p) -> Self {
                self.run_binary($crate::rules::Binary::$op, <$ty>::from_plain(rhs as f64))
            }
        }
        impl<$($gen)*> ::core::ops::$assign<$p> for $ty
        where
            $s: $crate::AdNumber + $crate::Innermost<Float = $p>,
        {
            #[inline(always)]
            fn $assign_method(&mut self, rhs: $p) {
                *self = self.run_binary($crate::rules::Binary::$op, <$ty>::from_plain(rhs as f64));
            }
        }
    };

    (@consts $s:ty; $($name:ident)*) => {$(
        fn $name() -> Self {
            Self::constant(<$s as ::num_traits::FloatConst>::$name())
        }
    )*};

    (@constants $s:ty; $($name:ident)*) => {$(
        fn $name() -> Self {
            Self::constant(<$s as ::num_traits::Float>::$name())
        }
    )*};

    (@queries; $($name:ident)*) => {$(
        fn $name(self) -> bool {
            self.primal().$name()
        }
    )*};

    (@unary; $($name:ident $op:ident),* $(,)?) => {$(
        #[inline(always)]
        fn $name(self) -> Self {
            self.run_unary($crate::rules::Unary::$op)
        }
    )*};

    (@binary; $($name:ident $op:ident),* $(,)?) => {$(
        #[inline(always)]
        fn $name(self, other: Self) -> Self {
            self.run_binary($crate::rules::Binary::$op, other)
        }
    )*};
}

//! A scalar type defined outside chainrule, recorded on its own tape: every
//! `Real` has one. `Plain` wraps `f64` and delegates every operation, so its
//! derivatives must equal `f64`'s bit for bit.

use std::cell::Cell;
use std::fmt;
use std::iter::{Product, Sum};
use std::ops::{Add, AddAssign, Div, DivAssign, Mul, MulAssign, Neg, Rem, RemAssign, Sub, SubAssign};

use chainrule::custom::{Elementary, VectorRule};
use chainrule::rules::{self, Binary, Unary};
use chainrule::{Real, Recording, grad, hvp};
use num_traits::{Float, FloatConst, FromPrimitive, Num, NumCast, One, ToPrimitive, Zero};

#[derive(Clone, Copy, Debug, Default, PartialEq, PartialOrd)]
struct Plain(f64);

thread_local! {
    /// When set, `Plain`'s multiplication records on `Plain`'s own tape: a
    /// scalar that misuses its tape.
    static MISBEHAVE: Cell<bool> = const { Cell::new(false) };
}

macro_rules! binary_ops {
    ($($trait:ident $method:ident $assign:ident $assign_method:ident $op:tt),*) => {$(
        impl $trait for Plain {
            type Output = Plain;
            fn $method(self, other: Plain) -> Plain {
                Plain(self.0 $op other.0)
            }
        }
        impl $assign for Plain {
            fn $assign_method(&mut self, other: Plain) {
                *self = *self $op other;
            }
        }
    )*};
}
binary_ops!(Add add AddAssign add_assign +, Sub sub SubAssign sub_assign -, Div div DivAssign div_assign /, Rem rem RemAssign rem_assign %);

impl Mul for Plain {
    type Output = Plain;
    fn mul(self, other: Plain) -> Plain {
        if MISBEHAVE.get() {
            let rec = Recording::<Plain>::new();
            let _ = rec.input(self);
        }
        Plain(self.0 * other.0)
    }
}
impl MulAssign for Plain {
    fn mul_assign(&mut self, other: Plain) {
        *self = *self * other;
    }
}
impl Neg for Plain {
    type Output = Plain;
    fn neg(self) -> Plain {
        Plain(-self.0)
    }
}
impl Zero for Plain {
    fn zero() -> Self {
        Plain(0.0)
    }
    fn is_zero(&self) -> bool {
        self.0 == 0.0
    }
}
impl One for Plain {
    fn one() -> Self {
        Plain(1.0)
    }
}
impl Num for Plain {
    type FromStrRadixErr = <f64 as Num>::FromStrRadixErr;
    fn from_str_radix(text: &str, radix: u32) -> Result<Self, Self::FromStrRadixErr> {
        f64::from_str_radix(text, radix).map(Plain)
    }
}
impl ToPrimitive for Plain {
    fn to_i64(&self) -> Option<i64> {
        self.0.to_i64()
    }
    fn to_u64(&self) -> Option<u64> {
        self.0.to_u64()
    }
    fn to_f64(&self) -> Option<f64> {
        Some(self.0)
    }
}
impl NumCast for Plain {
    fn from<N: ToPrimitive>(n: N) -> Option<Self> {
        n.to_f64().map(Plain)
    }
}
impl FromPrimitive for Plain {
    fn from_i64(n: i64) -> Option<Self> {
        Some(Plain(n as f64))
    }
    fn from_u64(n: u64) -> Option<Self> {
        Some(Plain(n as f64))
    }
    fn from_f64(n: f64) -> Option<Self> {
        Some(Plain(n))
    }
}
impl fmt::Display for Plain {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}
impl Sum for Plain {
    fn sum<I: Iterator<Item = Plain>>(iter: I) -> Plain {
        iter.fold(Plain(0.0), |a, b| a + b)
    }
}
impl Product for Plain {
    fn product<I: Iterator<Item = Plain>>(iter: I) -> Plain {
        iter.fold(Plain(1.0), |a, b| a * b)
    }
}

macro_rules! constants {
    ($($name:ident),*) => {
        impl FloatConst for Plain {
            $(fn $name() -> Self { Plain(f64::$name()) })*
        }
    };
}
constants!(
    E,
    FRAC_1_PI,
    FRAC_1_SQRT_2,
    FRAC_2_PI,
    FRAC_2_SQRT_PI,
    FRAC_PI_2,
    FRAC_PI_3,
    FRAC_PI_4,
    FRAC_PI_6,
    FRAC_PI_8,
    LN_10,
    LN_2,
    LOG10_E,
    LOG2_E,
    PI,
    SQRT_2
);

macro_rules! float {
    (values: $($value:ident),*; unary: $($unary:ident),*; tests: $($test:ident),*; binary: $($binary:ident),*) => {
        impl Float for Plain {
            $(fn $value() -> Self { Plain(f64::$value()) })*
            $(fn $unary(self) -> Self { Plain(self.0.$unary()) })*
            $(fn $test(self) -> bool { self.0.$test() })*
            $(fn $binary(self, other: Self) -> Self { Plain(Float::$binary(self.0, other.0)) })*
            fn classify(self) -> std::num::FpCategory { self.0.classify() }
            fn mul_add(self, a: Self, b: Self) -> Self { Plain(self.0.mul_add(a.0, b.0)) }
            fn powi(self, n: i32) -> Self { Plain(self.0.powi(n)) }
            fn sin_cos(self) -> (Self, Self) { let (s, c) = self.0.sin_cos(); (Plain(s), Plain(c)) }
            fn integer_decode(self) -> (u64, i16, i8) { Float::integer_decode(self.0) }
        }
    };
}
float!(
    values: nan, infinity, neg_infinity, neg_zero, min_value, min_positive_value, max_value, epsilon;
    unary: floor, ceil, round, trunc, fract, abs, signum, recip, sqrt, exp, exp2, ln, log2, log10, cbrt, sin, cos,
        tan, asin, acos, atan, exp_m1, ln_1p, sinh, cosh, tanh, asinh, acosh, atanh, to_degrees, to_radians;
    tests: is_nan, is_infinite, is_finite, is_normal, is_sign_positive, is_sign_negative;
    binary: powf, log, max, min, abs_sub, hypot, atan2
);

impl Real for Plain {
    fn apply_unary(self, op: Unary) -> Self {
        Plain(rules::unary(op, self.0).0)
    }
    fn apply_binary(self, op: Binary, other: Self) -> Self {
        Plain(rules::binary(op, self.0, other.0).0)
    }
    fn apply_elementary<E: Elementary<K>, const K: usize>(f: &E, args: [Self; K]) -> Self {
        f.value(args)
    }
    fn apply_vector<F: VectorRule>(f: &F, args: &[Self]) -> Vec<Self> {
        f.value(args)
    }
}

fn rosenbrock<T: Real>(x: &[T]) -> T {
    let hundred = T::from(100.0).unwrap();
    x.windows(2)
        .map(|w| hundred * (w[1] - w[0] * w[0]).powi(2) + (T::one() - w[0]).powi(2))
        .sum::<T>()
        + x.iter().map(|&v| v.sin() * v.exp()).sum::<T>()
}

/// Bit for bit; under Miri, whose `sin` and `exp` vary in the last bits
/// from one call to the next, to 1e-12.
fn assert_same(plain: &[Plain], expected: &[f64]) {
    let got: Vec<f64> = plain.iter().map(|p| p.0).collect();
    if cfg!(miri) {
        for (a, b) in got.iter().zip(expected) {
            assert!((a - b).abs() <= 1e-12 * b.abs().max(1.0), "{got:?} vs {expected:?}");
        }
    } else {
        assert_eq!(got, expected, "bit for bit");
    }
}

#[test]
fn a_user_scalar_records_and_sweeps_like_f64() {
    let x = [0.3, -1.1, 0.7, 2.0];
    let plain: Vec<Plain> = x.iter().map(|&v| Plain(v)).collect();
    let g = grad(rosenbrock, &plain).unwrap();
    let g64 = grad(rosenbrock, &x).unwrap();
    assert_same(&g, &g64);
    // Reverse over forward on the user scalar: its Dual's tape comes from
    // the table too.
    let v = [1.0, 0.5, -0.25, 2.0];
    let hv = hvp(rosenbrock, &plain, &v.map(Plain)).unwrap();
    let hv64 = hvp(rosenbrock, &x, &v).unwrap();
    assert_same(&hv, &hv64);
}

#[test]
#[should_panic(expected = "was reached while it is in use")]
fn a_scalar_whose_arithmetic_records_on_its_own_tape_panics_instead_of_aliasing_it() {
    let rec = Recording::<Plain>::new();
    let x = rec.input(Plain(2.0));
    let y = x * x;
    MISBEHAVE.set(true);
    // The backward sweep multiplies `Plain`s while it holds the tape.
    let _ = rec.gradient(y);
}

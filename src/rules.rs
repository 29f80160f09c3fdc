//! The one table of elementary derivative rules.
//!
//! Every elementary function chainrule knows is written here exactly once: its
//! value and its local partial derivative(s), computed together so that shared
//! work (for example `exp` reusing its own value) is done once. Forward mode
//! ([`Dual`](crate::Dual), [`DualN`](crate::DualN)), reverse mode
//! ([`Var`](crate::Var)) and the graph tracer all call [`unary`] and
//! [`binary`]; none of them has a derivative formula of its own.
//!
//! The rules are generic over [`num_traits::Float`], so they also run on dual
//! numbers. That is where second (and higher) derivatives come from: applying
//! a rule to `Dual<f64>` differentiates the rule itself, so `Var<DualN<f64, 8>>`
//! (forward-over-reverse) yields Hessians without a second table.
//!
//! # Conventions at non-differentiable and edge points
//!
//! The same in every mode, because every mode uses this table:
//!
//! | point | convention |
//! |---|---|
//! | `abs` at 0 | derivative 0 (the midpoint of the subgradient [-1, 1]) |
//! | `max(a, b)`, `min(a, b)` at `a == b` | each argument gets 1/2, at every order (on dual numbers the value's own tangent is the mean of the two) |
//! | `max`/`min` with one NaN argument | the value is the other argument (IEEE `maxNum`), and so is the derivative |
//! | `sqrt`, `cbrt`, `ln`, `log2`, `log10` at +0 and −0 | slope +∞, the limit from the right (x → 0⁺); the same at every order (`sqrt` and `cbrt` have curvature −∞ there), so `sqrt(−x)` has slope −∞ at x = 0 by the chain rule; values keep their IEEE signs (`sqrt(−0) = −0`) |
//! | `recip` at ±0 | slope −∞ (both one-sided limits agree) |
//! | `powi(x, n)` for any `i32` `n`, `i32::MIN` included | `n·x^(n−1)` without integer overflow |
//! | `powf(x, c)` at x = 0 | `c * 0^(c-1)`: 0 for c > 1, 1 for c = 1, +∞ for 0 < c < 1 |
//! | `powf(x, 0)`, `powi(x, 0)` | derivative 0 everywhere, 0 included |
//! | `powf(0, c)` w.r.t. the exponent | 0 when the value is 0 |
//! | `hypot(0, 0)`, `atan2(0, 0)` | partials 0 (the midpoint of the subgradient) |
//! | piecewise constant (`floor`, `ceil`, `round`, `trunc`, `signum`) | derivative 0 |
//! | `relu` at 0 | derivative 0 |
//! | NaN or ±∞ input | propagates as IEEE arithmetic says |
//!
//! Finally, the chain rule itself uses a *strong zero*: a zero partial times
//! any tangent or adjoint (even ∞ or NaN) contributes exactly 0, see [`chain`].
//! Without it, `0 * sqrt(x)` at `x = 0` would have derivative `0 · ∞ = NaN`
//! although the function is identically zero.

use num_traits::Float;

/// Elementary functions of one argument.
///
/// Each variant's value and derivative are given by [`unary`].
///
/// ```
/// use chainrule::rules::{unary, Unary};
/// let (value, slope) = unary(Unary::Sin, 0.0_f64);
/// assert_eq!((value, slope), (0.0, 1.0));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum Unary {
    /// `-x`
    Neg,
    /// `1 / x`
    Recip,
    /// `x^n` for an integer `n`
    Powi(i32),
    /// `sqrt(x)`
    Sqrt,
    /// `cbrt(x)`
    Cbrt,
    /// `e^x`
    Exp,
    /// `2^x`
    Exp2,
    /// `e^x - 1`, accurate near 0
    ExpM1,
    /// natural logarithm
    Ln,
    /// base-2 logarithm
    Log2,
    /// base-10 logarithm
    Log10,
    /// `ln(1 + x)`, accurate near 0
    Ln1p,
    /// sine
    Sin,
    /// cosine
    Cos,
    /// tangent
    Tan,
    /// inverse sine
    Asin,
    /// inverse cosine
    Acos,
    /// inverse tangent
    Atan,
    /// hyperbolic sine
    Sinh,
    /// hyperbolic cosine
    Cosh,
    /// hyperbolic tangent
    Tanh,
    /// inverse hyperbolic sine
    Asinh,
    /// inverse hyperbolic cosine
    Acosh,
    /// inverse hyperbolic tangent
    Atanh,
    /// absolute value
    Abs,
    /// logistic function `1 / (1 + e^-x)`
    Sigmoid,
    /// `ln(1 + e^x)`
    Softplus,
    /// `max(x, 0)`; derivative 0 at 0 (as PyTorch and JAX), unlike `max`'s
    /// tie rule, because a dead unit should stay dead
    Relu,
    /// round toward -∞ (derivative 0)
    Floor,
    /// round toward +∞ (derivative 0)
    Ceil,
    /// round half away from zero (derivative 0)
    Round,
    /// round toward zero (derivative 0)
    Trunc,
    /// fractional part `x - trunc(x)` (derivative 1)
    Fract,
    /// sign of `x` as ±1 (derivative 0)
    Signum,
    /// multiply by a constant written into the operation (derivative: that
    /// constant); used for `to_degrees`, `to_radians`
    Scale(ScaleBy),
    /// the value itself, with no derivative at any order (see
    /// [`stop_gradient`](crate::stop_gradient))
    StopGradient,
}

/// The constant factors [`Unary::Scale`] can multiply by.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum ScaleBy {
    /// 180 / π
    ToDegrees,
    /// π / 180
    ToRadians,
}

/// Elementary functions of two arguments.
///
/// Each variant's value and partial derivatives are given by [`binary`].
///
/// ```
/// use chainrule::rules::{binary, Binary};
/// // d(a*b)/da = b, d(a*b)/db = a
/// assert_eq!(binary(Binary::Mul, 3.0_f64, 4.0), (12.0, 4.0, 3.0));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum Binary {
    /// `a + b`
    Add,
    /// `a - b`
    Sub,
    /// `a * b`
    Mul,
    /// `a / b`
    Div,
    /// remainder `a % b` (sign of `a`, as Rust's `%`)
    Rem,
    /// `a^b` with both base and exponent differentiated
    Powf,
    /// logarithm of `a` in base `b`
    Log,
    /// four-quadrant `atan(a / b)` (`a` is y, `b` is x)
    Atan2,
    /// `sqrt(a² + b²)` without overflow
    Hypot,
    /// larger argument (IEEE `maxNum`)
    Max,
    /// smaller argument (IEEE `minNum`)
    Min,
}

impl Unary {
    /// Every operation of the table, once (`Powi` and `Scale` with
    /// representative parameters), for tests and lists that must cover the
    /// whole table. A new variant does not compile until `position` (beside
    /// this list) gives it a place, and a test checks that this list holds
    /// the places in order.
    pub const ALL: &'static [Unary] = &[
        Unary::Neg,
        Unary::Recip,
        Unary::Powi(2),
        Unary::Sqrt,
        Unary::Cbrt,
        Unary::Exp,
        Unary::Exp2,
        Unary::ExpM1,
        Unary::Ln,
        Unary::Log2,
        Unary::Log10,
        Unary::Ln1p,
        Unary::Sin,
        Unary::Cos,
        Unary::Tan,
        Unary::Asin,
        Unary::Acos,
        Unary::Atan,
        Unary::Sinh,
        Unary::Cosh,
        Unary::Tanh,
        Unary::Asinh,
        Unary::Acosh,
        Unary::Atanh,
        Unary::Abs,
        Unary::Sigmoid,
        Unary::Softplus,
        Unary::Relu,
        Unary::Floor,
        Unary::Ceil,
        Unary::Round,
        Unary::Trunc,
        Unary::Fract,
        Unary::Signum,
        Unary::Scale(ScaleBy::ToDegrees),
        Unary::Scale(ScaleBy::ToRadians),
        Unary::StopGradient,
    ];

    /// Whether the slope is the constant −1 or 1 (negation), whatever the
    /// argument. The chain rule's product with ±1 is the plain one for every
    /// tangent or adjoint, ∞ and NaN included, so no mode needs a strong-zero
    /// guard or a stored partial for it.
    ///
    /// ```
    /// use chainrule::rules::Unary;
    /// assert!(Unary::Neg.has_unit_slope() && !Unary::Sin.has_unit_slope());
    /// ```
    #[inline(always)]
    pub const fn has_unit_slope(self) -> bool {
        matches!(self, Unary::Neg)
    }

    /// The operation's place in [`Unary::ALL`] (exhaustive, so that every
    /// variant gets one).
    #[cfg(test)]
    fn position(self) -> usize {
        match self {
            Unary::Neg => 0,
            Unary::Recip => 1,
            Unary::Powi(_) => 2,
            Unary::Sqrt => 3,
            Unary::Cbrt => 4,
            Unary::Exp => 5,
            Unary::Exp2 => 6,
            Unary::ExpM1 => 7,
            Unary::Ln => 8,
            Unary::Log2 => 9,
            Unary::Log10 => 10,
            Unary::Ln1p => 11,
            Unary::Sin => 12,
            Unary::Cos => 13,
            Unary::Tan => 14,
            Unary::Asin => 15,
            Unary::Acos => 16,
            Unary::Atan => 17,
            Unary::Sinh => 18,
            Unary::Cosh => 19,
            Unary::Tanh => 20,
            Unary::Asinh => 21,
            Unary::Acosh => 22,
            Unary::Atanh => 23,
            Unary::Abs => 24,
            Unary::Sigmoid => 25,
            Unary::Softplus => 26,
            Unary::Relu => 27,
            Unary::Floor => 28,
            Unary::Ceil => 29,
            Unary::Round => 30,
            Unary::Trunc => 31,
            Unary::Fract => 32,
            Unary::Signum => 33,
            Unary::Scale(ScaleBy::ToDegrees) => 34,
            Unary::Scale(ScaleBy::ToRadians) => 35,
            Unary::StopGradient => 36,
        }
    }

    /// Short lower-case name, as the expression language and the graph
    /// pictures spell it.
    pub fn name(self) -> &'static str {
        match self {
            Unary::Neg => "neg",
            Unary::Recip => "recip",
            Unary::Powi(_) => "powi",
            Unary::Sqrt => "sqrt",
            Unary::Cbrt => "cbrt",
            Unary::Exp => "exp",
            Unary::Exp2 => "exp2",
            Unary::ExpM1 => "expm1",
            Unary::Ln => "ln",
            Unary::Log2 => "log2",
            Unary::Log10 => "log10",
            Unary::Ln1p => "log1p",
            Unary::Sin => "sin",
            Unary::Cos => "cos",
            Unary::Tan => "tan",
            Unary::Asin => "asin",
            Unary::Acos => "acos",
            Unary::Atan => "atan",
            Unary::Sinh => "sinh",
            Unary::Cosh => "cosh",
            Unary::Tanh => "tanh",
            Unary::Asinh => "asinh",
            Unary::Acosh => "acosh",
            Unary::Atanh => "atanh",
            Unary::Abs => "abs",
            Unary::Sigmoid => "sigmoid",
            Unary::Softplus => "softplus",
            Unary::Relu => "relu",
            Unary::Floor => "floor",
            Unary::Ceil => "ceil",
            Unary::Round => "round",
            Unary::Trunc => "trunc",
            Unary::Fract => "fract",
            Unary::Signum => "signum",
            Unary::Scale(ScaleBy::ToDegrees) => "to_degrees",
            Unary::Scale(ScaleBy::ToRadians) => "to_radians",
            Unary::StopGradient => "stop_gradient",
        }
    }
}

impl Binary {
    /// Every operation of the table, once; kept complete as
    /// [`Unary::ALL`] is.
    pub const ALL: &'static [Binary] = &[
        Binary::Add,
        Binary::Sub,
        Binary::Mul,
        Binary::Div,
        Binary::Rem,
        Binary::Powf,
        Binary::Log,
        Binary::Atan2,
        Binary::Hypot,
        Binary::Max,
        Binary::Min,
    ];

    /// Whether both partials are the constants ±1 (`+` and `−`), whatever the
    /// arguments; see [`Unary::has_unit_slope`].
    ///
    /// ```
    /// use chainrule::rules::Binary;
    /// assert!(Binary::Sub.has_unit_partials() && !Binary::Mul.has_unit_partials());
    /// ```
    #[inline(always)]
    pub const fn has_unit_partials(self) -> bool {
        matches!(self, Binary::Add | Binary::Sub)
    }

    /// The operation's place in [`Binary::ALL`] (exhaustive).
    #[cfg(test)]
    fn position(self) -> usize {
        match self {
            Binary::Add => 0,
            Binary::Sub => 1,
            Binary::Mul => 2,
            Binary::Div => 3,
            Binary::Rem => 4,
            Binary::Powf => 5,
            Binary::Log => 6,
            Binary::Atan2 => 7,
            Binary::Hypot => 8,
            Binary::Max => 9,
            Binary::Min => 10,
        }
    }

    /// Short lower-case name (operators use their symbol).
    pub fn name(self) -> &'static str {
        match self {
            Binary::Add => "+",
            Binary::Sub => "-",
            Binary::Mul => "*",
            Binary::Div => "/",
            Binary::Rem => "%",
            Binary::Powf => "pow",
            Binary::Log => "log",
            Binary::Atan2 => "atan2",
            Binary::Hypot => "hypot",
            Binary::Max => "max",
            Binary::Min => "min",
        }
    }
}

fn lit<T: Float>(x: f64) -> T {
    // Every Float type in use represents these small literals; a failure is a
    // broken `NumCast` implementation, not bad input.
    T::from(x).expect("the scalar type must represent small f64 literals (check its NumCast impl)")
}

/// Value and derivative of `op` at `x`: `(f(x), f'(x))`.
///
/// ```
/// use chainrule::rules::{unary, Unary};
/// let (v, d) = unary(Unary::Exp, 1.0_f64);
/// assert_eq!(v, d); // (e^x)' = e^x
/// ```
#[inline(always)]
pub fn unary<T: Float>(op: Unary, x: T) -> (T, T) {
    let zero = T::zero();
    let one = T::one();
    match op {
        Unary::Neg => (-x, -one),
        Unary::Recip => {
            let v = x.recip();
            (v, -(v * v))
        }
        Unary::Powi(n) => match n {
            0 => (one, zero),
            1 => (x, one),
            _ => {
                let v = x.powi(n);
                // x^(n−1) without overflowing n − 1 at i32::MIN: x^n / x there.
                let below = match n.checked_sub(1) {
                    Some(m) => x.powi(m),
                    None => v / x,
                };
                (v, lit::<T>(f64::from(n)) * below)
            }
        },
        Unary::Sqrt => {
            // −0 counts as +0 (x + 0 is +0 for either zero), so that the slope
            // at ±0 is +∞ and the curvature −∞, the limits from the right.
            let v = (x + zero).sqrt();
            (x.sqrt(), (v + v).recip())
        }
        Unary::Cbrt => {
            let v = x.cbrt();
            let slope = if x == zero {
                // 3v² would meet 0·∞ in its own derivative; x^(−2/3)/3 at +0
                // keeps the right-hand limits of every order (+∞, −∞, ...).
                lit::<T>(1.0 / 3.0) * (x + zero).powf(lit::<T>(-2.0 / 3.0))
            } else {
                (lit::<T>(3.0) * v * v).recip()
            };
            (v, slope)
        }
        Unary::Exp => {
            let v = x.exp();
            (v, v)
        }
        Unary::Exp2 => {
            let v = x.exp2();
            (v, v * lit::<T>(std::f64::consts::LN_2))
        }
        Unary::ExpM1 => (x.exp_m1(), x.exp()),
        // Slopes at ±0 are the right-hand limit +∞ (the logarithms live on x > 0).
        Unary::Ln => (x.ln(), (x + zero).recip()),
        Unary::Log2 => (x.log2(), (x + zero).recip() * lit::<T>(std::f64::consts::LOG2_E)),
        Unary::Log10 => (x.log10(), (x + zero).recip() * lit::<T>(std::f64::consts::LOG10_E)),
        Unary::Ln1p => (x.ln_1p(), (one + x).recip()),
        Unary::Sin => {
            let (s, c) = x.sin_cos();
            (s, c)
        }
        Unary::Cos => {
            let (s, c) = x.sin_cos();
            (c, -s)
        }
        Unary::Tan => {
            let v = x.tan();
            (v, one + v * v)
        }
        // (1 − x)(1 + x) rather than 1 − x²: exact near ±1.
        Unary::Asin => (x.asin(), ((one - x) * (one + x)).sqrt().recip()),
        Unary::Acos => (x.acos(), -((one - x) * (one + x)).sqrt().recip()),
        Unary::Atan => (x.atan(), (one + x * x).recip()),
        Unary::Sinh => (x.sinh(), x.cosh()),
        Unary::Cosh => (x.cosh(), x.sinh()),
        Unary::Tanh => {
            let v = x.tanh();
            // 1 − tanh² cancels to 0 once tanh rounds to ±1 (|x| ≳ 19);
            // 1/cosh² keeps its digits there (and underflows only with it).
            let slope = if x.abs() < one {
                (one - v) * (one + v)
            } else {
                let c = x.cosh();
                (c * c).recip()
            };
            (v, slope)
        }
        // hypot(x, 1) = sqrt(x² + 1) without overflow for large |x|.
        Unary::Asinh => (x.asinh(), x.hypot(one).recip()),
        // sqrt(x-1)·sqrt(x+1) rather than sqrt(x²-1): no overflow, and exact near 1.
        Unary::Acosh => (x.acosh(), ((x - one).sqrt() * (x + one).sqrt()).recip()),
        Unary::Atanh => (x.atanh(), ((one - x) * (one + x)).recip()),
        Unary::Abs => {
            let slope = if x > zero {
                one
            } else if x < zero {
                -one
            } else if x == zero {
                zero
            } else {
                x // NaN stays NaN
            };
            (x.abs(), slope)
        }
        Unary::Sigmoid => sigmoid_and_slope(x),
        Unary::Softplus => {
            // x + ln(1 + e^-x) for x > 0, ln(1 + e^x) otherwise: never
            // overflows, exact for large |x|, and each branch smooth, so that
            // on dual numbers (higher derivatives) the value's own derivative
            // is the slope below, also at 0 (a form with |x| would give 0 there).
            // (NaN takes the second branch and stays NaN, on dual numbers too.)
            let v = if x > zero {
                x + (-x).exp().ln_1p()
            } else {
                x.exp().ln_1p()
            };
            (v, sigmoid(x))
        }
        Unary::Relu => {
            if x > zero {
                (x, one)
            } else if x.is_nan() {
                (x, x)
            } else {
                (zero, zero)
            }
        }
        Unary::Floor => (x.floor(), zero),
        Unary::Ceil => (x.ceil(), zero),
        Unary::Round => (x.round(), zero),
        Unary::Trunc => (x.trunc(), zero),
        Unary::Fract => (x.fract(), one),
        Unary::Signum => (x.signum(), zero),
        Unary::Scale(by) => {
            let factor = match by {
                ScaleBy::ToDegrees => lit::<T>(180.0 / std::f64::consts::PI),
                ScaleBy::ToRadians => lit::<T>(std::f64::consts::PI / 180.0),
            };
            (x * factor, factor)
        }
        Unary::StopGradient => {
            // The primal value as a constant of `T`: on nested numbers every
            // level's derivatives are dropped, not only the outermost. (The
            // primal of every number type here is an f32 or f64, so the trip
            // through f64 is exact.)
            let primal = x
                .to_f64()
                .and_then(T::from)
                .expect("the scalar type must convert its primal value to and from f64 (check its NumCast impl)");
            (primal, zero)
        }
    }
}

/// The logistic function, split by sign so that `e^x` never overflows.
fn sigmoid<T: Float>(x: T) -> T {
    sigmoid_and_slope(x).0
}

/// `σ(x)` and `σ′(x) = σ(x)·σ(−x)`, both from one `e^−|x|`: the slope keeps
/// its digits in the tails, where `σ(1 − σ)` would cancel to 0.
fn sigmoid_and_slope<T: Float>(x: T) -> (T, T) {
    let one = T::one();
    if x >= T::zero() {
        let e = (-x).exp();
        let s = (one + e).recip();
        (s, s * (e * s))
    } else {
        let e = x.exp();
        let other = (one + e).recip(); // σ(−x)
        (e * other, e * other * other)
    }
}

/// Value and both partial derivatives of `op` at `(a, b)`:
/// `(f(a, b), ∂f/∂a, ∂f/∂b)`.
///
/// ```
/// use chainrule::rules::{binary, Binary};
/// let (v, da, db) = binary(Binary::Powf, 2.0_f64, 3.0);
/// assert_eq!((v, da), (8.0, 12.0));          // 3 · 2²
/// assert!((db - 8.0 * 2f64.ln()).abs() < 1e-15); // 2³ · ln 2
/// ```
#[inline(always)]
pub fn binary<T: Float>(op: Binary, a: T, b: T) -> (T, T, T) {
    let zero = T::zero();
    let one = T::one();
    match op {
        Binary::Add => (a + b, one, one),
        Binary::Sub => (a - b, one, -one),
        Binary::Mul => (a * b, b, a),
        Binary::Div => {
            // a / b itself (not a·(1/b), which can differ in the last bit):
            // AD must not change the program's values.
            let v = a / b;
            let inv = b.recip();
            (v, inv, -(v * inv))
        }
        Binary::Rem => {
            // ∂/∂b = −n for a % b = a − n·b. (a − r)/b is n up to rounding,
            // so round it; trunc(a/b) is off by one where a/b rounds up to n + 1.
            let r = a % b;
            (r, one, -((a - r) / b).round())
        }
        Binary::Powf => {
            let v = a.powf(b);
            // b·v/a keeps every order of derivative (also at b = 0, where it is
            // 0 but its derivative w.r.t. b is not); at a = 0 it is 0/0, so use
            // b·a^(b−1) there, and 0 for 0^0, where that would be 0·∞.
            let d_base = if a != zero && v.is_normal() {
                b * (v / a)
            } else if a != zero {
                // v over- or underflowed where b·a^(b−1) need not.
                b * a.powf(b - one)
            } else if b == zero {
                zero
            } else {
                b * a.powf(b - one)
            };
            let d_exponent = if v == zero { zero } else { v * a.ln() };
            (v, d_base, d_exponent)
        }
        Binary::Log => {
            let ln_b = b.ln();
            let ln_a = a.ln();
            let v = ln_a / ln_b;
            (v, a.recip() / ln_b, -(v / ln_b) / b)
        }
        Binary::Atan2 => {
            // b/(a² + b²) as (b/r)/r with r = hypot(a, b): no overflow or
            // underflow of the squares.
            let r = a.hypot(b);
            if r == zero {
                (a.atan2(b), zero, zero)
            } else {
                (a.atan2(b), b / r / r, -(a / r) / r)
            }
        }
        Binary::Hypot => {
            let h = a.hypot(b);
            if h == zero { (h, zero, zero) } else { (h, a / h, b / h) }
        }
        Binary::Max => pick(a, b, a > b, b > a),
        Binary::Min => pick(a, b, a < b, b < a),
    }
}

/// Value and partials of `max` or `min`: the argument that wins takes the
/// derivative; a tie splits it evenly; a NaN loses to a number (IEEE
/// `maxNum`/`minNum`).
#[inline(always)]
fn pick<T: Float>(a: T, b: T, a_wins: bool, b_wins: bool) -> (T, T, T) {
    let (zero, one) = (T::zero(), T::one());
    if a_wins {
        (a, one, zero)
    } else if b_wins {
        (b, zero, one)
    } else if a == b {
        let half = lit::<T>(0.5);
        // The value is a (= b); written a − (a − b)/2 so that on dual numbers
        // its tangent is the mean of the two, as the partials say.
        let v = if a.is_infinite() { a } else { a - (a - b) * half };
        (v, half, half)
    } else if a.is_nan() {
        (b, zero, one)
    } else {
        (a, one, zero)
    }
}

/// `fma(a, b, c) = a·b + c` rounded once, and its partials `(b, a, 1)`.
///
/// ```
/// use chainrule::rules::mul_add;
/// assert_eq!(mul_add(2.0_f64, 3.0, 1.0), (7.0, 3.0, 2.0, 1.0));
/// ```
#[inline(always)]
pub fn mul_add<T: Float>(a: T, b: T, c: T) -> (T, T, T, T) {
    (a.mul_add(b, c), b, a, T::one())
}

/// One term of the chain rule: `partial · incoming`, with a *strong zero*.
///
/// If either factor is zero the term is exactly zero, even when the other is
/// ∞ or NaN. A zero partial means the result does not move with that input;
/// a zero tangent (or adjoint) means nothing flows along the edge. Either way
/// IEEE's `0 · ∞ = NaN` would report a NaN derivative for a function that is
/// perfectly smooth, e.g. `0 · sqrt(x)` at 0, or `x^c` with a constant `c`
/// and negative `x`. Forward and reverse mode both use this one function, so
/// they agree.
///
/// ```
/// use chainrule::rules::chain;
/// assert_eq!(chain(0.0_f64, f64::INFINITY), 0.0);
/// assert_eq!(chain(2.0_f64, 3.0), 6.0);
/// assert!(chain(f64::NAN, 1.0).is_nan());
/// ```
#[inline(always)]
pub fn chain<T: crate::Real>(partial: T, incoming: T) -> T {
    partial.strong_mul(incoming)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_lists_of_all_operations_follow_their_positions() {
        for (i, op) in Unary::ALL.iter().enumerate() {
            assert_eq!(op.position(), i, "{op:?} in Unary::ALL");
        }
        for (i, op) in Binary::ALL.iter().enumerate() {
            assert_eq!(op.position(), i, "{op:?} in Binary::ALL");
        }
    }
}

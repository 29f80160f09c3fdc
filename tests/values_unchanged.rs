//! AD never changes a program's values: every operation's value, in every
//! mode, on tensors and in the expression language, is bit for bit the plain
//! floating-point operation's.

use chainrule::rules::{Binary, ScaleBy, Unary};
use chainrule::tensor::{Array, nn::SplitMix64};
use chainrule::{Dual, DualN, Real, Recording, value_and_grad};
use num_traits::Float;

/// A rule and the plain `f64` function it must match.
type UnaryCase = (Unary, fn(f64) -> f64);
type BinaryCase = (Binary, fn(f64, f64) -> f64);

/// Every unary rule with the plain `f64` function it must match.
fn unary_cases() -> Vec<UnaryCase> {
    vec![
        (Unary::Neg, |x| -x),
        (Unary::Recip, |x| 1.0 / x),
        (Unary::Powi(3), |x| x.powi(3)),
        (Unary::Powi(-2), |x| x.powi(-2)),
        (Unary::Sqrt, f64::sqrt),
        (Unary::Cbrt, f64::cbrt),
        (Unary::Exp, f64::exp),
        (Unary::Exp2, f64::exp2),
        (Unary::ExpM1, f64::exp_m1),
        (Unary::Ln, f64::ln),
        (Unary::Log2, f64::log2),
        (Unary::Log10, f64::log10),
        (Unary::Ln1p, f64::ln_1p),
        (Unary::Sin, f64::sin),
        (Unary::Cos, f64::cos),
        (Unary::Tan, f64::tan),
        (Unary::Asin, f64::asin),
        (Unary::Acos, f64::acos),
        (Unary::Atan, f64::atan),
        (Unary::Sinh, f64::sinh),
        (Unary::Cosh, f64::cosh),
        (Unary::Tanh, f64::tanh),
        (Unary::Asinh, f64::asinh),
        (Unary::Acosh, f64::acosh),
        (Unary::Atanh, f64::atanh),
        (Unary::Abs, f64::abs),
        (Unary::Floor, f64::floor),
        (Unary::Ceil, f64::ceil),
        (Unary::Round, f64::round),
        (Unary::Trunc, f64::trunc),
        (Unary::Fract, f64::fract),
        (Unary::Signum, f64::signum),
        (Unary::Scale(ScaleBy::ToDegrees), f64::to_degrees),
        (Unary::Scale(ScaleBy::ToRadians), f64::to_radians),
    ]
}

fn binary_cases() -> Vec<BinaryCase> {
    vec![
        (Binary::Add, |a, b| a + b),
        (Binary::Sub, |a, b| a - b),
        (Binary::Mul, |a, b| a * b),
        (Binary::Div, |a, b| a / b),
        (Binary::Rem, |a, b| a % b),
        (Binary::Powf, f64::powf),
        (Binary::Log, f64::log),
        (Binary::Atan2, f64::atan2),
        (Binary::Hypot, f64::hypot),
    ]
}

/// The same bits, or both NaN.
fn same(a: f64, b: f64) -> bool {
    a.to_bits() == b.to_bits() || (a.is_nan() && b.is_nan())
}

fn points(seed: u64, count: usize) -> Vec<f64> {
    let mut rng = SplitMix64::new(seed);
    let mut out = vec![
        0.0,
        -0.0,
        1.0,
        -1.0,
        0.5,
        f64::INFINITY,
        f64::NEG_INFINITY,
        f64::NAN,
        1e-310,
        1e300,
    ];
    out.extend((0..count).map(|_| {
        let scale = 10f64.powi((rng.uniform() * 12.0) as i32 - 6);
        (2.0 * rng.uniform() - 1.0) * scale
    }));
    out
}

#[test]
fn unary_values_are_the_plain_operations_in_every_mode() {
    let xs = points(1, 500);
    for (op, plain) in unary_cases() {
        let array = Array::new(vec![xs.len()], xs.clone()).unwrap().unary(op);
        for (k, &x) in xs.iter().enumerate() {
            let want = plain(x);
            let rec = Recording::<f64>::new();
            let got = [
                ("rule", chainrule::rules::unary(op, x).0),
                ("Dual", Dual::variable(x).apply_unary(op).value),
                ("DualN", DualN::<f64, 4>::variable(x, 2).apply_unary(op).value),
                (
                    "Dual<Dual>",
                    Dual::variable(Dual::variable(x)).apply_unary(op).value.value,
                ),
                ("Var", rec.input(x).apply_unary(op).value()),
                ("tensor", array.data()[k]),
            ];
            for (mode, value) in got {
                assert!(same(value, want), "{op:?}({x:e}) in {mode}: {value:e}, plain {want:e}");
            }
        }
    }
}

#[test]
fn binary_values_are_the_plain_operations_in_every_mode() {
    let (xs, ys) = (points(2, 300), points(3, 300));
    for (op, plain) in binary_cases() {
        let left = Array::new(vec![xs.len()], xs.clone()).unwrap();
        let right = Array::new(vec![ys.len()], ys.clone()).unwrap();
        let array = left.binary(&right, op).unwrap();
        for (k, (&a, &b)) in xs.iter().zip(&ys).enumerate() {
            let want = plain(a, b);
            let rec = Recording::<f64>::new();
            let got = [
                ("rule", chainrule::rules::binary(op, a, b).0),
                ("Dual", Dual::variable(a).apply_binary(op, Dual::constant(b)).value),
                (
                    "DualN",
                    DualN::<f64, 2>::variable(a, 0)
                        .apply_binary(op, DualN::variable(b, 1))
                        .value,
                ),
                ("Var", rec.input(a).apply_binary(op, rec.input(b)).value()),
                ("tensor", array.data()[k]),
            ];
            for (mode, value) in got {
                assert!(
                    same(value, want),
                    "{op:?}({a:e}, {b:e}) in {mode}: {value:e}, plain {want:e}"
                );
            }
        }
    }
}

#[test]
fn a_quotient_keeps_its_value_through_value_and_grad() {
    let mut rng = SplitMix64::new(4);
    for _ in 0..2000 {
        let (a, b) = (rng.uniform() * 10.0 - 5.0, rng.uniform() * 10.0 + 0.1);
        let (value, _) = value_and_grad(|x| x[0] / x[1] + x[0].sin() / x[1].exp(), &[a, b]).unwrap();
        assert!(same(value, a / b + a.sin() / b.exp()), "{a} / {b}");
    }
}

#[test]
fn the_expression_language_keeps_values_too() {
    let program = chainrule::expr::parse("x / y + sin(x) / exp(y) + pow(x, y) - hypot(x, y) * atan2(y, x)").unwrap();
    let f = program.bind(&["x", "y"]).unwrap();
    let mut rng = SplitMix64::new(5);
    for _ in 0..500 {
        let (x, y) = (rng.uniform() * 4.0 + 0.1, rng.uniform() * 3.0 + 0.1);
        let plain = x / y + x.sin() / y.exp() + x.powf(y) - x.hypot(y) * y.atan2(x);
        assert!(same(f.eval_one(&[x, y]), plain));
        let (value, _) = value_and_grad(|v| f.eval_one(v), &[x, y]).unwrap();
        assert!(same(value, plain));
    }
}

//! Each rule's partial derivatives against a high-precision reference across
//! its whole range: tiny and huge arguments, points next to ±1, the tails of
//! `tanh` and `sigmoid`, and arguments whose squares over- or underflow.
//!
//! The references (`tests/data/rule_references.txt`) come from closed forms
//! evaluated with mpmath at 60 digits and rounded once to f64, by
//! `tests/data/rule_references.py`.

use chainrule::rules::{Binary, Unary, binary, unary};

/// Largest accepted error, in units of the reference's last place.
const ULPS: f64 = 8.0;

fn unary_op(name: &str) -> Unary {
    if let Some(n) = name.strip_prefix("Powi(").and_then(|rest| rest.strip_suffix(')')) {
        return Unary::Powi(n.parse().unwrap());
    }
    match name {
        "Recip" => Unary::Recip,
        "Sqrt" => Unary::Sqrt,
        "Cbrt" => Unary::Cbrt,
        "Exp" => Unary::Exp,
        "Exp2" => Unary::Exp2,
        "ExpM1" => Unary::ExpM1,
        "Ln" => Unary::Ln,
        "Log2" => Unary::Log2,
        "Log10" => Unary::Log10,
        "Ln1p" => Unary::Ln1p,
        "Sin" => Unary::Sin,
        "Cos" => Unary::Cos,
        "Tan" => Unary::Tan,
        "Asin" => Unary::Asin,
        "Acos" => Unary::Acos,
        "Atan" => Unary::Atan,
        "Sinh" => Unary::Sinh,
        "Cosh" => Unary::Cosh,
        "Tanh" => Unary::Tanh,
        "Asinh" => Unary::Asinh,
        "Acosh" => Unary::Acosh,
        "Atanh" => Unary::Atanh,
        "Sigmoid" => Unary::Sigmoid,
        "Softplus" => Unary::Softplus,
        _ => panic!("unknown unary rule {name} in the references"),
    }
}

fn binary_op(name: &str) -> Option<Binary> {
    Some(match name {
        "Div" => Binary::Div,
        "Rem" => Binary::Rem,
        "Powf" => Binary::Powf,
        "Log" => Binary::Log,
        "Atan2" => Binary::Atan2,
        "Hypot" => Binary::Hypot,
        _ => return None,
    })
}

/// The error of `got` in units in the last place of `reference`, or `None`
/// when they agree as well as the number format allows.
fn error_ulps(got: f64, reference: f64) -> Option<f64> {
    if got == reference {
        return None;
    }
    if reference.is_infinite() || got.is_nan() || got.is_infinite() {
        return Some(f64::INFINITY);
    }
    if reference.abs() < f64::MIN_POSITIVE {
        // A subnormal or zero reference: only absolute accuracy is possible.
        return ((got - reference).abs() > f64::MIN_POSITIVE).then_some(f64::INFINITY);
    }
    let ulp = reference.abs() * f64::EPSILON;
    let error = (got - reference).abs() / ulp;
    (error > ULPS).then_some(error)
}

#[test]
fn every_rule_is_accurate_across_its_range() {
    let text = include_str!("data/rule_references.txt");
    let mut failures = Vec::new();
    let mut checked = 0;
    for line in text.lines().filter(|l| !l.starts_with('#')) {
        let fields: Vec<&str> = line.split_whitespace().collect();
        let numbers: Vec<f64> = fields[1..].iter().map(|t| t.parse().unwrap()).collect();
        let (args, got, reference) = match binary_op(fields[0]) {
            Some(op) => {
                let (_, da, db) = binary(op, numbers[0], numbers[1]);
                (&numbers[..2], vec![da, db], &numbers[2..])
            }
            None => {
                let (_, slope) = unary(unary_op(fields[0]), numbers[0]);
                (&numbers[..1], vec![slope], &numbers[1..])
            }
        };
        for (k, (&g, &r)) in got.iter().zip(reference).enumerate() {
            checked += 1;
            if let Some(ulps) = error_ulps(g, r) {
                failures.push(format!(
                    "{} at {args:?}, partial {k}: {g:e}, reference {r:e} ({ulps:.1} ulp)",
                    fields[0]
                ));
            }
        }
    }
    assert!(checked > 1500, "only {checked} references read");
    assert!(
        failures.is_empty(),
        "{} of {checked} partials off:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn the_points_that_were_wrong_are_right() {
    // atan2 at tiny and huge arguments (the squares under- and overflow).
    let (_, da, db) = binary(Binary::Atan2, 1e-170_f64, 1e-170);
    assert!(
        (da / 5e169 - 1.0).abs() < 1e-15 && (db / -5e169 - 1.0).abs() < 1e-15,
        "{da} {db}"
    );
    let (_, da, _) = binary(Binary::Atan2, 1e170_f64, 1e170);
    assert!((da / 5e-171 - 1.0).abs() < 1e-15);
    // powf's base partial where x^1.5 under- or overflows.
    assert!((binary(Binary::Powf, 1e-300_f64, 1.5).1 / 1.5e-150 - 1.0).abs() < 1e-15);
    assert!((binary(Binary::Powf, 1e300_f64, 1.5).1 / 1.5e150 - 1.0).abs() < 1e-15);
    // ∂(1 % 0.1)/∂b: 1 = 9·0.1 + 0.0999…, so −9 (1/0.1 rounds to 10).
    assert_eq!(binary(Binary::Rem, 1.0_f64, 0.1).2, -9.0);
    // asin near 1 and tanh in its tail.
    let x: f64 = 0.999_999_99;
    let exact = 1.0 / ((1.0 - x) * (1.0 + x)).sqrt();
    assert!((unary(Unary::Asin, x).1 / exact - 1.0).abs() < 1e-15);
    assert!((unary(Unary::Tanh, 20.0_f64).1 / 1.699_341_702_116_635_6e-17 - 1.0).abs() < 1e-15);
}

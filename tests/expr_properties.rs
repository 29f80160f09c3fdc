//! Random expressions from the grammar: written as text, parsed, printed and
//! parsed back, then differentiated in both modes and by finite differences.

use chainrule::expr::parse;
use chainrule::{grad, jacfwd};
use proptest::prelude::*;

/// Expression text over x, y, z built from functions that are smooth on all
/// of R (so finite differences are a fair oracle at every random point).
fn smooth_text() -> impl Strategy<Value = String> {
    let leaf = prop_oneof![
        Just("x".to_string()),
        Just("y".to_string()),
        Just("z".to_string()),
        Just("pi".to_string()),
        (-3.0..3.0f64).prop_map(|c| format!("{c}")),
        (1u32..9).prop_map(|n| format!("{n}.")),
        (1u32..9).prop_map(|n| format!(".{n}e+0")),
    ];
    leaf.prop_recursive(4, 24, 2, |inner| {
        let one = prop_oneof![
            Just("sin"),
            Just("cos"),
            Just("tanh"),
            Just("atan"),
            Just("sigmoid"),
            Just("softplus"),
            Just("asinh"),
        ];
        prop_oneof![
            (one, inner.clone()).prop_map(|(f, a)| format!("{f}({a})")),
            (
                inner.clone(),
                inner.clone(),
                prop_oneof![Just("+"), Just("-"), Just("*")]
            )
                .prop_map(|(a, b, op)| format!("({a}) {op} ({b})")),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("({a}) / (1 + ({b})^2)")),
            (inner.clone(), 2i32..4).prop_map(|(a, n)| format!("({a})^{n}")),
            inner.clone().prop_map(|a| format!("-({a})")),
            inner.clone().prop_map(|a| format!("exp(-({a})^2)")),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("hypot({a}, 1 + ({b})^2)")),
            (inner.clone(), inner).prop_map(|(a, b)| format!("atan2({a}, 2 + sin({b}))")),
        ]
    })
}

/// |a − b| relative to max(|a|, |b|, 1): relative for derivatives of size 1
/// and more; for smaller ones (often the result of cancellation, summed in
/// different orders by the two modes) an absolute 1e-12.
fn relative_gap(a: f64, b: f64) -> f64 {
    if a == b {
        0.0
    } else {
        (a - b).abs() / a.abs().max(b.abs()).max(1.0)
    }
}

/// Central difference with an estimate of its own error: the truncation
/// error shows in how much halving the step changes it, the rounding error
/// is about ε·|f|/h. The oracle is used only where that estimate is small
/// (where the function is smooth at the scale of the step); otherwise `None`.
fn trusted_difference(f: impl Fn(f64) -> f64, x: f64) -> Option<(f64, f64)> {
    let h = 1e-4 * (1.0 + x.abs());
    let wide = (f(x + h) - f(x - h)) / (2.0 * h);
    let narrow = (f(x + h / 2.0) - f(x - h / 2.0)) / h;
    // Richardson: the h² error terms cancel.
    let extrapolated = (4.0 * narrow - wide) / 3.0;
    let rounding = 4.0 * f64::EPSILON * (f(x).abs() + 1.0) / h;
    let error = (wide - narrow).abs() + rounding;
    (error <= 1e-5 * (1.0 + narrow.abs())).then_some((extrapolated, error))
}

#[test]
fn parse_print_parse_and_differentiate() {
    use proptest::test_runner::{Config, TestRunner};
    use std::cell::Cell;

    let names = ["x", "y", "z"];
    let compared = Cell::new(0usize);
    let skipped = Cell::new(0usize);
    let mut runner = TestRunner::new(Config {
        cases: 400,
        ..Config::default()
    });
    let strategy = (smooth_text(), prop::array::uniform3(-1.0..1.0f64));
    let result = runner.run(&strategy, |(text, point)| {
        let program = parse(&text).map_err(|e| TestCaseError::fail(format!("{text}: {e}")))?;
        let printed = program.to_string();
        let again = parse(&printed).map_err(|e| TestCaseError::fail(format!("{printed}: {e}")))?;
        let f = program.bind(&names).unwrap();
        let g = again.bind(&names).unwrap();

        let value = f.eval_one(&point);
        prop_assert_eq!(
            value.to_bits(),
            g.eval_one(&point).to_bits(),
            "{} printed as {}",
            text,
            printed
        );

        let reverse = grad(|v| f.eval_one(v), &point).unwrap();
        let forward = jacfwd(|v| f.eval(v), &point).unwrap();
        for k in 0..3 {
            let (r, fw) = (reverse[k], forward[(0, k)]);
            prop_assert!(
                relative_gap(r, fw) <= 1e-12,
                "∂/∂{}: reverse {:e} vs forward {:e} for {}",
                names[k],
                r,
                fw,
                text
            );
            let along_k = |t: f64| {
                let mut moved = point;
                moved[k] = t;
                f.eval_one(&moved)
            };
            match trusted_difference(along_k, point[k]) {
                Some((fd, error)) => {
                    compared.set(compared.get() + 1);
                    prop_assert!(
                        (r - fd).abs() <= 1e-7 * (1.0 + r.abs()) + 10.0 * error,
                        "∂/∂{}: {:e} vs finite difference {:e} (estimated error {:e}) for {}",
                        names[k],
                        r,
                        fd,
                        error,
                        text
                    );
                }
                None => skipped.set(skipped.get() + 1),
            }
        }
        Ok(())
    });
    if let Err(failure) = result {
        panic!("{failure}");
    }
    // The oracle must actually have been used: nearly every random function is smooth at this scale.
    assert!(
        skipped.get() * 10 <= compared.get() + skipped.get(),
        "finite differences skipped {} of {} times",
        skipped.get(),
        compared.get() + skipped.get()
    );
}

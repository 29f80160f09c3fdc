//! Random expressions from the grammar: written as text, parsed, printed and
//! parsed back, then differentiated in both modes and by finite differences.

mod common;

use chainrule::expr::parse;
use chainrule::{grad, jacfwd};
use common::fd_gradient;
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

fn relative_gap(a: f64, b: f64) -> f64 {
    if a == b {
        0.0
    } else {
        (a - b).abs() / a.abs().max(b.abs())
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn parse_print_parse_and_differentiate(text in smooth_text(), point in prop::array::uniform3(-1.0..1.0f64)) {
        let names = ["x", "y", "z"];
        let program = parse(&text).map_err(|e| TestCaseError::fail(format!("{text}: {e}")))?;
        let printed = program.to_string();
        let again = parse(&printed).map_err(|e| TestCaseError::fail(format!("{printed}: {e}")))?;
        let f = program.bind(&names).unwrap();
        let g = again.bind(&names).unwrap();

        let value = f.eval_one(&point);
        prop_assert_eq!(value.to_bits(), g.eval_one(&point).to_bits(), "{} printed as {}", text, printed);

        let reverse = grad(|v| f.eval_one(v), &point).unwrap();
        let forward = jacfwd(|v| f.eval(v), &point).unwrap();
        let fd = fd_gradient(|v| f.eval_one(v), &point);
        for k in 0..3 {
            let (r, fw) = (reverse[k], forward[(0, k)]);
            prop_assert!(relative_gap(r, fw) <= 1e-12, "∂/∂{}: reverse {:e} vs forward {:e} for {}", names[k], r, fw, text);
            prop_assert!((r - fd[k]).abs() <= 1e-6 * (1.0 + r.abs()), "∂/∂{}: {:e} vs finite difference {:e} for {}", names[k], r, fd[k], text);
        }
    }
}

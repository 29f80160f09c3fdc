//! Recorded programs against re-running the function: values bit for bit,
//! and every derivative (gradient, vjp, jvp, Jacobian both ways, Hessian,
//! hvp) at new points, optimised and not; guarded branches; passes; size.

use chainrule::expr::parse;
use chainrule::program::{Passes, record, record_with};
use chainrule::{Error, Var, grad, hessian, hvp, jacfwd, jacrev, jvp, vjp};
use num_traits::Float;
use proptest::prelude::*;

/// Expression text over x, y, z from functions smooth on all of R.
fn smooth_text() -> impl Strategy<Value = String> {
    let leaf = prop_oneof![
        Just("x".to_string()),
        Just("y".to_string()),
        Just("z".to_string()),
        (-3.0..3.0f64).prop_map(|c| format!("{c}")),
    ];
    leaf.prop_recursive(4, 24, 2, |inner| {
        let one = prop_oneof![
            Just("sin"),
            Just("cos"),
            Just("tanh"),
            Just("atan"),
            Just("sigmoid"),
            Just("softplus"),
            Just("stop_gradient")
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
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("max({a}, {b}) * abs({a})")),
            (inner.clone(), inner).prop_map(|(a, b)| format!("hypot({a}, 1 + ({b})^2)")),
        ]
    })
}

/// Within 1e-13 of each other, relative to max(|a|, |b|, 1).
fn close(a: f64, b: f64) -> bool {
    a == b || (a.is_nan() && b.is_nan()) || (a - b).abs() <= 1e-13 * a.abs().max(b.abs()).max(1.0)
}

fn all_close(what: &str, a: &[f64], b: &[f64]) -> Result<(), TestCaseError> {
    prop_assert_eq!(a.len(), b.len());
    for (x, y) in a.iter().zip(b) {
        prop_assert!(close(*x, *y), "{}: {:?} vs {:?}", what, a, b);
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    #[test]
    fn programs_agree_with_re_recording(
        texts in prop::collection::vec(smooth_text(), 1..3),
        points in prop::collection::vec(prop::array::uniform3(-2.0..2.0f64), 6),
    ) {
        let source = texts.join("; ");
        let parsed = parse(&source).unwrap();
        let f = parsed.bind(&["x", "y", "z"]).unwrap();
        let optimised = record(|v| f.eval(v), &points[0]).unwrap();
        let plain = record_with(Passes::NONE, |v| f.eval(v), &points[0]).unwrap();
        prop_assert!(optimised.len() <= plain.len());
        for x in &points[1..] {
            let direct = f.eval(x);
            for program in [&optimised, &plain] {
                // Values: bit for bit.
                let values = program.eval(x).unwrap();
                prop_assert!(values.iter().zip(&direct).all(|(a, b)| a.to_bits() == b.to_bits()), "{source} at {x:?}");
                let j = program.jacobian(x).unwrap();
                all_close("jacobian vs jacfwd", j.as_slice(), jacfwd(|v| f.eval(v), x).unwrap().as_slice())?;
                all_close("jacobian vs jacrev", j.as_slice(), jacrev(|v| f.eval(v), x).unwrap().as_slice())?;
                let (_, jv) = program.jvp(x, &[0.5, -1.0, 2.0]).unwrap();
                all_close("jvp", &jv, &jvp(|v| f.eval(v), x, &[0.5, -1.0, 2.0]).unwrap().1)?;
                let u: Vec<f64> = (0..direct.len()).map(|k| 1.0 + k as f64).collect();
                let (_, uj) = program.vjp(x, &u).unwrap();
                all_close("vjp", &uj, &vjp(|v| f.eval(v), x, &u).unwrap().1)?;
            }
        }
        // Scalar programs: gradient, Hessian, hvp.
        let g = parse(&texts[0]).unwrap();
        let g = g.bind(&["x", "y", "z"]).unwrap();
        let program = record(|v| g.eval_one(v), &points[0]).unwrap();
        for x in &points[1..] {
            let (value, gradient) = program.value_and_gradient(x).unwrap();
            prop_assert_eq!(value.to_bits(), g.eval_one(x).to_bits());
            all_close("gradient", &gradient, &grad(|v| g.eval_one(v), x).unwrap())?;
            let (same_value, same_gradient, h) = program.value_gradient_hessian(x).unwrap();
            prop_assert_eq!(same_value.to_bits(), value.to_bits());
            all_close("gradient beside the Hessian", &same_gradient, &gradient)?;
            all_close("hessian", h.as_slice(), hessian(|v| g.eval_one(v), x).unwrap().as_slice())?;
            all_close("hvp", &program.hvp(x, &[1.0, 2.0, -1.0]).unwrap(), &hvp(|v| g.eval_one(v), x, &[1.0, 2.0, -1.0]).unwrap())?;
        }
    }
}

fn rosenbrock<T: Float>(x: &[T]) -> T {
    let hundred = T::from(100.0).unwrap();
    x.windows(2).fold(T::zero(), |acc, w| {
        acc + hundred * (w[1] - w[0] * w[0]).powi(2) + (T::one() - w[0]).powi(2)
    })
}

#[test]
fn rosenbrock_recorded_once_answers_everywhere() {
    let n = 100;
    let program = record(rosenbrock, &vec![0.0; n]).unwrap();
    for shift in [0.0, 0.3, -1.1] {
        let x: Vec<f64> = (0..n).map(|i| shift + 0.01 * i as f64).collect();
        let (value, gradient) = program.value_and_gradient(&x).unwrap();
        assert_eq!(value.to_bits(), rosenbrock(&x).to_bits());
        assert_eq!(gradient, grad(rosenbrock, &x).unwrap());
        let h = program.hessian(&x).unwrap();
        assert_eq!(h, hessian(rosenbrock, &x).unwrap());
    }
}

#[test]
fn a_flipped_branch_is_an_error_and_an_unflipped_one_is_not() {
    // The function's own `if`.
    let clipped = |x: &[Var<f64>]| if x[0] > x[1] { x[0] * x[0] } else { x[1].sin() };
    let program = record(clipped, &[2.0, 1.0]).unwrap();
    assert_eq!(program.guards().len(), 1);
    assert_eq!(program.gradient(&[3.0, 0.5]).unwrap(), vec![6.0, 0.0]);
    assert!(matches!(
        program.gradient(&[0.5, 3.0]),
        Err(Error::BranchChanged { comparison: 0, .. })
    ));
    assert!(matches!(program.eval(&[1.0, 1.0]), Err(Error::BranchChanged { .. })));
    // Equality tests are guarded as equalities: 2 ≠ 1 and 1 ≠ 3 are the same branch.
    let special = |x: &[Var<f64>]| if x[0] == Var::constant(0.0) { x[1] } else { x[0] * x[1] };
    let program = record(special, &[2.0, 1.0]).unwrap();
    assert_eq!(program.gradient(&[-1.0, 3.0]).unwrap(), vec![3.0, -1.0]);
    assert!(matches!(
        program.gradient(&[0.0, 3.0]),
        Err(Error::BranchChanged { .. })
    ));
    // Elementary functions with kinks are operations, evaluated afresh: no guard.
    let kinked = |x: &[Var<f64>]| x[0].abs() + x[0].max(x[1]);
    let program = record(kinked, &[2.0, 1.0]).unwrap();
    assert!(program.guards().is_empty());
    assert_eq!(
        program.gradient(&[-2.0, 1.0]).unwrap(),
        grad(kinked, &[-2.0, 1.0]).unwrap()
    );
    // Sorting compares many times; the same order elsewhere is fine.
    let sorted_sum = |x: &[Var<f64>]| {
        let mut v = x.to_vec();
        v.sort_by(|a, b| a.partial_cmp(b).unwrap());
        v[0] * 3.0 + v[1] * 2.0 + v[2]
    };
    let program = record(sorted_sum, &[3.0, 1.0, 2.0]).unwrap();
    assert_eq!(program.gradient(&[30.0, 10.0, 20.0]).unwrap(), vec![1.0, 3.0, 2.0]);
    assert!(program.gradient(&[1.0, 3.0, 2.0]).is_err());
}

#[test]
fn passes_shrink_the_program_without_changing_it() {
    let f = |x: &[Var<f64>]| {
        let unused = x[0].exp() * x[1];
        let _ = unused;
        let s = x[0].sin();
        s * x[1] + x[0].sin() * 2.0
    };
    let all = record(f, &[0.5, 1.5]).unwrap();
    let none = record_with(Passes::NONE, f, &[0.5, 1.5]).unwrap();
    let no_dce = record_with(
        Passes {
            eliminate_dead: false,
            ..Passes::ALL
        },
        f,
        &[0.5, 1.5],
    )
    .unwrap();
    // none: 2 inputs, exp, ×, sin, ×, sin, 2, ×, + = 10; all: without exp, its ×, the second sin.
    assert_eq!((none.len(), no_dce.len(), all.len()), (10, 10, 7));
    assert_eq!(
        all.to_string(),
        "v0 = input 0\nv1 = input 1\nv2 = sin(v0)\nv3 = v2 * v1\nv4 = 2\nv5 = v2 * v4\nv6 = v3 + v5\noutput 0 = v6\n"
    );
    for x in [[0.5, 1.5], [-2.0, 0.25]] {
        assert_eq!(
            all.value_and_gradient(&x).unwrap(),
            none.value_and_gradient(&x).unwrap()
        );
    }
}

#[test]
fn lengths_and_shapes_are_checked() {
    let program = record(|x: &[Var<f64>]| vec![x[0] * x[1], x[0]], &[1.0, 2.0]).unwrap();
    assert!(matches!(program.eval(&[1.0]), Err(Error::LengthMismatch { .. })));
    assert!(matches!(
        program.gradient(&[1.0, 2.0]),
        Err(Error::LengthMismatch { .. })
    ));
    assert!(matches!(
        program.vjp(&[1.0, 2.0], &[1.0]),
        Err(Error::LengthMismatch { .. })
    ));
    assert_eq!(
        program.jacobian(&[3.0, 4.0]).unwrap().to_rows(),
        vec![vec![4.0, 3.0], vec![1.0, 0.0]]
    );
    // A constant output is a constant node.
    let constant = record(|_x: &[Var<f64>]| Var::constant(7.0), &[1.0]).unwrap();
    assert_eq!(constant.value_and_gradient(&[5.0]).unwrap(), (7.0, vec![0.0]));
}

#[test]
fn a_program_of_ten_million_nodes_on_a_small_stack() {
    let nodes = std::thread::Builder::new()
        .stack_size(256 * 1024)
        .spawn(|| {
            let chain = |x: &[Var<f64>]| {
                let mut y = x[0];
                for _ in 0..5_000_000 {
                    y = (y * 0.999_999).sin();
                }
                y
            };
            let program = record(chain, &[0.5]).unwrap();
            let (value, gradient) = program.value_and_gradient(&[0.25]).unwrap();
            let (value2, gradient2) = chainrule::value_and_grad(chain, &[0.25]).unwrap();
            assert_eq!((value, gradient), (value2, gradient2));
            program.len()
        })
        .unwrap()
        .join()
        .unwrap();
    assert_eq!(nodes, 10_000_002);
}

#[test]
fn program_tangents_follow_the_rules_at_kinks_and_ties() {
    // softplus′(0) = 1/2, and max at a tie gives each argument 1/2, as jacfwd says.
    let f = |x: &[Var<f64>]| vec![chainrule::Real::softplus(x[0]), x[0].max(x[1])];
    let program = record(f, &[0.0, 0.0]).unwrap();
    let j = program.jacobian(&[0.0, 0.0]).unwrap();
    let direct = jacfwd(|v| vec![chainrule::Real::softplus(v[0]), v[0].max(v[1])], &[0.0, 0.0]).unwrap();
    assert_eq!(j, direct);
    assert_eq!(j.to_rows(), vec![vec![0.5, 0.0], vec![0.5, 0.5]]);
    // softplus″(0) = σ′(0) = 1/4 from the program and from re-recording.
    let g = |x: &[Var<f64>]| chainrule::Real::softplus(x[0]);
    let program = record(g, &[0.0]).unwrap();
    assert_eq!(program.hessian(&[0.0]).unwrap()[(0, 0)], 0.25);
    assert_eq!(
        hessian(|v| chainrule::Real::softplus(v[0]), &[0.0]).unwrap()[(0, 0)],
        0.25
    );
}

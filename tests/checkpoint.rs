//! Checkpointed loop gradients against one recording of the whole loop.

use chainrule::checkpoint::{Checkpointed, Schedule, checkpointed_value_and_grad, checkpointed_vjp};
use chainrule::{Error, Var, grad};
use num_traits::Float;

/// Two coupled damped pendulums (θ₁, ω₁, θ₂, ω₂), one explicit Euler step
/// of size h; params = (g/l, damping, coupling).
fn pendulums<T: Float>(p: &[T], s: &[T]) -> Vec<T> {
    let h = T::from(0.01).unwrap();
    let (gl, damping, coupling) = (p[0], p[1], p[2]);
    let (t1, w1, t2, w2) = (s[0], s[1], s[2], s[3]);
    let a1 = -gl * t1.sin() - damping * w1 + coupling * (t2 - t1);
    let a2 = -gl * t2.sin() - damping * w2 + coupling * (t1 - t2);
    vec![t1 + h * w1, w1 + h * a1, t2 + h * w2, w2 + h * a2]
}

fn energy<T: Float>(s: &[T]) -> T {
    s.iter().fold(T::zero(), |acc, &v| acc + v * v)
}

const PARAMS: [f64; 3] = [9.81, 0.3, 0.7];
const INITIAL: [f64; 4] = [0.8, 0.0, -0.4, 0.5];

/// The gradient of energy(s_n) with respect to (params, initial) from one
/// recording of all n steps.
fn whole_loop(steps: usize) -> Vec<f64> {
    let x: Vec<f64> = PARAMS.iter().chain(&INITIAL).copied().collect();
    grad(
        |v| {
            let mut s = v[3..].to_vec();
            for _ in 0..steps {
                s = pendulums(&v[..3], &s);
            }
            energy(&s)
        },
        &x,
    )
    .unwrap()
}

/// energy(s_n) and its gradient, checkpointed, for a step written on tape
/// variables (the pendulums, possibly counting its runs).
fn checkpointed_energy(
    step: impl Fn(&[Var<f64>], &[Var<f64>]) -> Vec<Var<f64>>,
    steps: usize,
    schedule: Schedule,
) -> Checkpointed<f64> {
    checkpointed_value_and_grad(step, |s: &[Var<f64>]| energy(s), &PARAMS, &INITIAL, steps, schedule).unwrap()
}

fn assert_close(what: &str, a: &[f64], b: &[f64]) {
    for (x, y) in a.iter().zip(b) {
        assert!(
            (x - y).abs() <= 1e-12 * x.abs().max(y.abs()).max(1.0),
            "{what}: {a:?} vs {b:?}"
        );
    }
}

#[test]
fn every_schedule_gives_the_whole_loops_gradient() {
    for steps in [0, 1, 2, 13, 100, 257] {
        let expected = whole_loop(steps);
        let schedules = [
            Schedule::Every(1),
            Schedule::Every(7),
            Schedule::Every(steps.max(1)),
            Schedule::Every(steps + 5),
            Schedule::sqrt(steps),
            Schedule::Binomial { checkpoints: 0 },
            Schedule::Binomial { checkpoints: 1 },
            Schedule::Binomial { checkpoints: 3 },
            Schedule::Binomial { checkpoints: 20 },
            Schedule::Binomial { checkpoints: steps + 3 },
        ];
        // The final state and the loss: the plain loop's, bit for bit.
        let mut plain = INITIAL.to_vec();
        for _ in 0..steps {
            plain = pendulums(&PARAMS, &plain);
        }
        for schedule in schedules {
            let run = checkpointed_energy(|p: &[Var<f64>], s: &[Var<f64>]| pendulums(p, s), steps, schedule);
            let what = format!("{steps} steps, {schedule:?}");
            assert_close(&format!("{what}: params"), &run.params, &expected[..3]);
            assert_close(&format!("{what}: initial state"), &run.initial, &expected[3..]);
            assert_eq!(run.final_state, plain, "{what}");
            assert_eq!(run.value.to_bits(), energy(&plain).to_bits(), "{what}");
        }
    }
}

#[test]
fn the_vjp_form_matches_the_loss_form() {
    let steps = 50;
    let step = |p: &[Var<f64>], s: &[Var<f64>]| pendulums(p, s);
    let by_loss = checkpointed_energy(step, steps, Schedule::Every(6));
    // ∂energy/∂s = 2s at the final state.
    let cotangent: Vec<f64> = by_loss.final_state.iter().map(|s| 2.0 * s).collect();
    let by_vjp = checkpointed_vjp(step, &PARAMS, &INITIAL, steps, &cotangent, Schedule::Every(6)).unwrap();
    assert_eq!(by_vjp.params, by_loss.params);
    assert_eq!(by_vjp.initial, by_loss.initial);
}

#[test]
fn lengths_are_checked() {
    let step = |p: &[Var<f64>], s: &[Var<f64>]| pendulums(p, s);
    let wrong_cotangent = checkpointed_vjp(step, &PARAMS, &INITIAL, 3, &[1.0; 3], Schedule::Every(2));
    assert!(matches!(wrong_cotangent, Err(Error::LengthMismatch { .. })));
    let shrinking = |_: &[Var<f64>], s: &[Var<f64>]| s[..1].to_vec();
    let refused = checkpointed_vjp(shrinking, &PARAMS, &INITIAL, 3, &[1.0; 4], Schedule::Every(2));
    assert!(matches!(refused, Err(Error::LengthMismatch { .. })));
}

#[test]
fn binomial_checkpointing_runs_each_step_at_most_r_times() {
    use std::cell::Cell;
    // 1000 steps, 5 checkpoints: r = 8, the least r with C(5 + r, 5) ≥ 1000.
    let (steps, checkpoints, r) = (1000, 5, 8);
    let runs = Cell::new(0usize);
    let recorded = Cell::new(0usize);
    let step = |p: &[Var<f64>], s: &[Var<f64>]| {
        if s[0].is_constant() {
            runs.set(runs.get() + 1);
        } else {
            recorded.set(recorded.get() + 1);
        }
        pendulums(p, s)
    };
    let run = checkpointed_energy(step, steps, Schedule::Binomial { checkpoints });
    let expected = whole_loop(steps);
    assert_close("params", &run.params, &expected[..3]);
    assert_close("initial state", &run.initial, &expected[3..]);
    assert_eq!(recorded.get(), steps, "each step is recorded once");
    // The forward run, then at most r − 1 more plain runs of each step.
    println!(
        "{steps} steps, {checkpoints} checkpoints: {} plain step runs (≤ {})",
        runs.get(),
        r * steps
    );
    assert!(runs.get() <= r * steps, "{} plain step runs", runs.get());
    assert!(runs.get() > steps, "the binomial schedule recomputes");
}

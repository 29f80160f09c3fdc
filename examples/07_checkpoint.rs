//! Checkpointing: the gradient of a long simulation without a tape of every
//! step.
//!
//! Two coupled damped pendulums, 200 000 explicit Euler steps; the gradient
//! of the final energy with respect to the 3 parameters and the 4 initial
//! values. Recorded whole, the loop is a tape of about 5 million operations;
//! checkpointed every ⌈√n⌉ = 448 steps, the run keeps 447 checkpoints, one
//! segment of 448 states and one step's tape; the binomial schedule keeps at
//! most 20 states and runs each step again at most 6 times (C(26, 6) ≥ 2·10⁵). Peak memory is read from
//! `/proc/self/status` (Linux), the checkpointed run first, as peaks only
//! grow.
//!
//! Run: `cargo run --release --example 07_checkpoint`

use std::time::Instant;

use chainrule::checkpoint::{Schedule, checkpointed_value_and_grad};
use chainrule::{Var, value_and_grad};
use num_traits::Float;

fn pendulums<T: Float>(p: &[T], s: &[T]) -> Vec<T> {
    let h = T::from(0.001).unwrap();
    let (gl, damping, coupling) = (p[0], p[1], p[2]);
    let (t1, w1, t2, w2) = (s[0], s[1], s[2], s[3]);
    let a1 = -gl * t1.sin() - damping * w1 + coupling * (t2 - t1);
    let a2 = -gl * t2.sin() - damping * w2 + coupling * (t1 - t2);
    vec![t1 + h * w1, w1 + h * a1, t2 + h * w2, w2 + h * a2]
}

fn energy<T: Float>(s: &[T]) -> T {
    s.iter().fold(T::zero(), |acc, &v| acc + v * v)
}

/// Peak resident memory so far in MB, if the system reports it.
fn peak_mb() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}

fn main() -> Result<(), chainrule::Error> {
    let steps = 200_000;
    let params = [9.81, 0.01, 0.7];
    let initial = [0.8, 0.0, -0.4, 0.5];
    let schedule = Schedule::sqrt(steps);
    let before = peak_mb();

    // The gradient by a schedule, and how long it took.
    let timed = |schedule: Schedule| {
        let start = Instant::now();
        let run = checkpointed_value_and_grad(
            |p: &[Var<f64>], s: &[Var<f64>]| pendulums(p, s),
            |s: &[Var<f64>]| energy(s),
            &params,
            &initial,
            steps,
            schedule,
        );
        run.map(|run| (run, start.elapsed()))
    };
    let (run, checkpointed_time) = timed(schedule)?;
    // The binomial schedule: 20 states at most besides the initial one.
    let (binomial, binomial_time) = timed(Schedule::Binomial { checkpoints: 20 })?;
    let checkpointed_peak = peak_mb();

    let start = Instant::now();
    let x: Vec<f64> = params.iter().chain(&initial).copied().collect();
    let (value, whole) = value_and_grad(
        |v| {
            let mut s = v[3..].to_vec();
            for _ in 0..steps {
                s = pendulums(&v[..3], &s);
            }
            energy(&s)
        },
        &x,
    )?;
    let whole_time = start.elapsed();
    let whole_peak = peak_mb();

    let gradient: Vec<f64> = run.params.iter().chain(&run.initial).copied().collect();
    let binomial_gradient: Vec<f64> = binomial.params.iter().chain(&binomial.initial).copied().collect();
    let largest_difference = |g: &[f64]| {
        g.iter()
            .zip(&whole)
            .map(|(a, b)| (a - b).abs() / b.abs())
            .fold(0.0, f64::max)
    };
    let difference = largest_difference(&gradient).max(largest_difference(&binomial_gradient));
    println!("{steps} steps, checkpoint every {schedule:?}");
    println!("final energy {:.12} (whole tape: {value:.12})", run.value);
    println!("gradient (params, initial state): {gradient:.6?}");
    println!("largest relative difference from the whole tape (both schedules): {difference:.1e}");
    println!(
        "time: every ⌈√n⌉ steps {:.0} ms, binomial with 20 checkpoints {:.0} ms, whole tape {:.0} ms",
        checkpointed_time.as_secs_f64() * 1e3,
        binomial_time.as_secs_f64() * 1e3,
        whole_time.as_secs_f64() * 1e3
    );
    if let (Some(before), Some(checkpointed), Some(whole)) = (before, checkpointed_peak, whole_peak) {
        println!(
            "peak memory: {before:.0} MB at start, {checkpointed:.0} MB after the checkpointed runs, {whole:.0} MB after the whole tape"
        );
    }
    Ok(())
}

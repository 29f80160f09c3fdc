//! Gradients of long loops in little memory: checkpoints instead of a tape
//! of every step.
//!
//! A loop `sₖ₊₁ = step(p, sₖ)` of `n` steps (an ODE integrator, a recurrent
//! network, a fixed-point iteration) recorded whole keeps every operation of
//! every step: memory grows with `n`. Here the forward run records nothing
//! and keeps the state at every `k`-th step (a checkpoint). The backward
//! pass takes the segments from last to first: it runs the segment again
//! from its checkpoint, keeping its `k` states, then records and sweeps one
//! step at a time, from the last, carrying the adjoint of the state and
//! accumulating the adjoint of the parameters.
//!
//! Memory: `⌈n/k⌉ + k` states and one step's tape, least at `k ≈ √n`
//! ([`Schedule::sqrt`]); time: about two plain runs of the loop plus one
//! recorded step and its sweep per step.
//!
//! ```
//! use chainrule::checkpoint::{checkpointed_value_and_grad, Schedule};
//! use chainrule::{grad, Var};
//!
//! // Exponential growth by explicit Euler: s ← s + h·p·s, 1000 steps.
//! let step = |p: &[Var<f64>], s: &[Var<f64>]| vec![s[0] + p[0] * s[0] * 0.001];
//! let loss = |s: &[Var<f64>]| s[0] * s[0];
//! let run = checkpointed_value_and_grad(step, loss, &[0.5], &[2.0], 1000, Schedule::sqrt(1000))?;
//! // The same gradient from one recording of the whole loop.
//! let whole = grad(
//!     |v| {
//!         let mut s = vec![v[1]];
//!         for _ in 0..1000 {
//!             s = step(&v[..1], &s);
//!         }
//!         loss(&s)
//!     },
//!     &[0.5, 2.0],
//! )?;
//! assert!((run.params[0] - whole[0]).abs() < 1e-12 * whole[0].abs());
//! assert!((run.initial[0] - whole[1]).abs() < 1e-12 * whole[1].abs());
//! # Ok::<(), chainrule::Error>(())
//! ```

use crate::error::{Result, check_len};
use crate::reverse::{Recording, TapeScalar, Var};

/// Where the forward run keeps checkpoints.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Schedule {
    /// A checkpoint every `k` steps (`k ≥ 1`; `k = 1` keeps every state).
    Every(usize),
}

impl Schedule {
    /// A checkpoint every `⌈√steps⌉` steps: the least memory for
    /// [`Schedule::Every`], `2·√steps` states.
    pub fn sqrt(steps: usize) -> Schedule {
        Schedule::Every(steps.isqrt().max(1) + usize::from(steps.isqrt().pow(2) < steps))
    }

    fn interval(self) -> usize {
        match self {
            Schedule::Every(k) => k.max(1),
        }
    }
}

/// What [`checkpointed_vjp`] returns.
#[derive(Clone, Debug, PartialEq)]
pub struct Checkpointed<S> {
    /// The loop's final state.
    pub final_state: Vec<S>,
    /// The value of the loss, for [`checkpointed_value_and_grad`] (for
    /// [`checkpointed_vjp`], the cotangent's dot product with the final
    /// state).
    pub value: S,
    /// The adjoint (gradient) of the parameters.
    pub params: Vec<S>,
    /// The adjoint (gradient) of the initial state.
    pub initial: Vec<S>,
}

/// The loop's final state `s_n` (with `s₀ = initial`, `sₖ₊₁ = step(params,
/// sₖ)`) and the vector-Jacobian products `wᵀ·∂s_n/∂params` and
/// `wᵀ·∂s_n/∂initial` for the cotangent `w`, in memory bounded by the
/// schedule's checkpoints (see the [module docs](self)).
///
/// `step` is written on tape variables, as for [`grad`](crate::grad); it
/// must return a state as long as the one it gets. It runs `3·steps` times:
/// twice without recording, once recorded.
///
/// # Errors
/// [`Error::LengthMismatch`](crate::Error::LengthMismatch) if the cotangent
/// and the state differ in length or a step changes the state's length;
/// otherwise as [`grad`](crate::grad).
pub fn checkpointed_vjp<S: TapeScalar>(
    step: impl Fn(&[Var<S>], &[Var<S>]) -> Vec<Var<S>>,
    params: &[S],
    initial: &[S],
    steps: usize,
    cotangent: &[S],
    schedule: Schedule,
) -> Result<Checkpointed<S>> {
    check_len("cotangent of the final state", initial.len(), cotangent.len())?;
    let (final_state, checkpoints) = forward(&step, params, initial, steps, schedule)?;
    let value = final_state
        .iter()
        .zip(cotangent)
        .fold(S::zero(), |sum, (&s, &w)| sum + s * w);
    let (params_adjoint, initial_adjoint) = backward(&step, params, checkpoints, steps, schedule, cotangent.to_vec())?;
    Ok(Checkpointed {
        final_state,
        value,
        params: params_adjoint,
        initial: initial_adjoint,
    })
}

/// The value of `loss(s_n)` for the loop of [`checkpointed_vjp`], and its
/// gradient with respect to the parameters and the initial state.
///
/// # Errors
/// As [`checkpointed_vjp`].
pub fn checkpointed_value_and_grad<S: TapeScalar>(
    step: impl Fn(&[Var<S>], &[Var<S>]) -> Vec<Var<S>>,
    loss: impl Fn(&[Var<S>]) -> Var<S>,
    params: &[S],
    initial: &[S],
    steps: usize,
    schedule: Schedule,
) -> Result<Checkpointed<S>> {
    let (final_state, checkpoints) = forward(&step, params, initial, steps, schedule)?;
    let (value, cotangent) = crate::value_and_grad(loss, &final_state)?;
    let (params_adjoint, initial_adjoint) = backward(&step, params, checkpoints, steps, schedule, cotangent)?;
    Ok(Checkpointed {
        final_state,
        value,
        params: params_adjoint,
        initial: initial_adjoint,
    })
}

/// Runs one step without recording (every input a constant).
fn plain_step<S: TapeScalar>(
    step: &impl Fn(&[Var<S>], &[Var<S>]) -> Vec<Var<S>>,
    params: &[Var<S>],
    state: &[S],
) -> Result<Vec<S>> {
    let state: Vec<Var<S>> = state.iter().map(|&s| Var::constant(s)).collect();
    let next: Vec<S> = step(params, &state).iter().map(|v| v.value()).collect();
    check_len("state returned by a step", state.len(), next.len())?;
    Ok(next)
}

/// The final state and the checkpoints: the state before steps 0, k, 2k...
fn forward<S: TapeScalar>(
    step: &impl Fn(&[Var<S>], &[Var<S>]) -> Vec<Var<S>>,
    params: &[S],
    initial: &[S],
    steps: usize,
    schedule: Schedule,
) -> Result<(Vec<S>, Vec<Vec<S>>)> {
    let k = schedule.interval();
    let constants: Vec<Var<S>> = params.iter().map(|&p| Var::constant(p)).collect();
    let mut checkpoints = Vec::with_capacity(steps.div_ceil(k));
    let mut state = initial.to_vec();
    for i in 0..steps {
        if i % k == 0 {
            checkpoints.push(state.clone());
        }
        state = plain_step(step, &constants, &state)?;
    }
    Ok((state, checkpoints))
}

/// The adjoints of the parameters and the initial state, segment by
/// segment from the last, from the adjoint of the final state.
fn backward<S: TapeScalar>(
    step: &impl Fn(&[Var<S>], &[Var<S>]) -> Vec<Var<S>>,
    params: &[S],
    checkpoints: Vec<Vec<S>>,
    steps: usize,
    schedule: Schedule,
    mut adjoint: Vec<S>,
) -> Result<(Vec<S>, Vec<S>)> {
    let k = schedule.interval();
    let constants: Vec<Var<S>> = params.iter().map(|&p| Var::constant(p)).collect();
    let mut params_adjoint = vec![S::zero(); params.len()];
    let mut states: Vec<Vec<S>> = Vec::with_capacity(k);
    for (segment, checkpoint) in checkpoints.into_iter().enumerate().rev() {
        let start = segment * k;
        let end = (start + k).min(steps);
        // The segment's states again, from its checkpoint.
        states.clear();
        states.push(checkpoint);
        for _ in start + 1..end {
            let next = plain_step(step, &constants, states.last().expect("a checkpoint"))?;
            states.push(next);
        }
        // Its steps backward, one recorded step at a time.
        for state in states.iter().rev() {
            let rec = Recording::<S>::new();
            let p = rec.inputs(params);
            let s = rec.inputs(state);
            let next = step(&p, &s);
            check_len("state returned by a step", state.len(), next.len())?;
            let adjoints = rec.vjp(&next, &adjoint)?;
            let (dp, ds) = adjoints.split_at(params.len());
            for (total, &d) in params_adjoint.iter_mut().zip(dp) {
                *total += d;
            }
            adjoint = ds.to_vec();
        }
    }
    Ok((params_adjoint, adjoint))
}

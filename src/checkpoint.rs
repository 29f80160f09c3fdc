//! Gradients of long loops in little memory: checkpoints instead of a tape
//! of every step.
//!
//! A loop `sₖ₊₁ = step(p, sₖ)` of `n` steps (an ODE integrator, a recurrent
//! network, a fixed-point iteration) recorded whole keeps every operation of
//! every step: memory grows with `n`. Here the forward run records nothing
//! and keeps a few states (checkpoints); the backward pass runs parts of the
//! loop again from them and records one step at a time, from the last,
//! carrying the adjoint of the state and accumulating the adjoint of the
//! parameters. Two [`Schedule`]s:
//!
//! - [`Schedule::Every`]`(k)`: a checkpoint every `k` steps; each segment is
//!   run again once from its checkpoint, keeping its `k` states. Memory
//!   `⌈n/k⌉ + k` states, least at `k ≈ √n` ([`Schedule::sqrt`]); time about
//!   two plain runs of the loop plus one recorded step and sweep per step.
//! - [`Schedule::Binomial`]: at most a given number of states besides the
//!   initial one, placed as Griewank's Revolve places them, so that memory
//!   is fixed and each step is run again as few times as possible.
//!
//! Measured (W11 in `bench/run`, 10⁶ Euler steps of two coupled pendulums,
//! 3 parameters, 4 states): one recording of the whole loop peaks at 644 MB;
//! `Schedule::sqrt` stays at the process's own 3.5 MB and takes 1.5–3.1×
//! the whole tape's time (0.52–0.82 s against 0.26–0.37 s over four
//! runs); `Schedule::Binomial { checkpoints: 20 }` also 3.5 MB, about 5×
//! the time (each step run again up to 8 times). BENCHMARKS.md has one run.
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

/// Where the runs keep checkpoints.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Schedule {
    /// A checkpoint every `k` steps (`k ≥ 1`; `k = 1` keeps every state).
    /// Each step runs three times (twice plain, once recorded); memory is
    /// `⌈n/k⌉ + k` states.
    Every(usize),
    /// Binomial checkpointing (Griewank's Revolve): at most `checkpoints`
    /// states kept besides the initial one, placed so that each step is run
    /// again as few times as possible: `r` times, for the least `r` with
    /// C(checkpoints + r, r) ≥ n. With 20 checkpoints, 10⁶ steps are
    /// reversed with each step recomputed at most 8 times; with none, the
    /// loop is run again from the start for every step (n²/2 steps).
    Binomial {
        /// How many states may be kept besides the initial one.
        checkpoints: usize,
    },
}

impl Schedule {
    /// A checkpoint every `⌈√steps⌉` steps: the least memory for
    /// [`Schedule::Every`], `2·√steps` states.
    pub fn sqrt(steps: usize) -> Schedule {
        Schedule::Every(steps.isqrt().max(1) + usize::from(steps.isqrt().pow(2) < steps))
    }
}

/// C(s + r, s): how many steps `s` checkpoints reverse when each step may be
/// run again `r` times (saturating).
fn binomial_reach(s: usize, r: usize) -> usize {
    // C(s + r, s) = Π_{i=1..s} (r + i) / i, exact at every step.
    (1..=s)
        .try_fold(1usize, |c, i| c.checked_mul(r + i).map(|c| c / i))
        .unwrap_or(usize::MAX)
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
/// must return a state as long as the one it gets. Under
/// [`Schedule::Every`] it runs `3·steps` times: twice without recording,
/// once recorded; the binomial schedule runs it again more often.
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
    run(&step, params, initial, steps, schedule, |final_state| {
        let value = final_state
            .iter()
            .zip(cotangent)
            .fold(S::zero(), |sum, (&s, &w)| sum + s * w);
        Ok((value, cotangent.to_vec()))
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
    run(&step, params, initial, steps, schedule, |final_state| {
        crate::value_and_grad(&loss, final_state)
    })
}

/// The forward run, then `seed` for the value and the final state's
/// adjoint, then the backward pass.
fn run<S: TapeScalar>(
    step: &impl Fn(&[Var<S>], &[Var<S>]) -> Vec<Var<S>>,
    params: &[S],
    initial: &[S],
    steps: usize,
    schedule: Schedule,
    seed: impl FnOnce(&[S]) -> Result<(S, Vec<S>)>,
) -> Result<Checkpointed<S>> {
    let (final_state, checkpoints) = forward(step, params, initial, steps, schedule)?;
    let (value, adjoint) = seed(&final_state)?;
    let (params_adjoint, initial_adjoint) = backward(step, params, checkpoints, steps, schedule, adjoint)?;
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
    // A binomial schedule keeps only the initial state on the way forward.
    let k = match schedule {
        Schedule::Every(k) => k.max(1),
        Schedule::Binomial { .. } => usize::MAX,
    };
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
    adjoint: Vec<S>,
) -> Result<(Vec<S>, Vec<S>)> {
    let mut sweep = Reverse {
        step,
        params,
        constants: params.iter().map(|&p| Var::constant(p)).collect(),
        params_adjoint: vec![S::zero(); params.len()],
        adjoint,
    };
    match schedule {
        Schedule::Every(k) => {
            let k = k.max(1);
            let mut states: Vec<Vec<S>> = Vec::with_capacity(k);
            for (segment, checkpoint) in checkpoints.into_iter().enumerate().rev() {
                let start = segment * k;
                let end = (start + k).min(steps);
                // The segment's states again, from its checkpoint.
                states.clear();
                states.push(checkpoint);
                for _ in start + 1..end {
                    let next = sweep.advance(states.last().expect("a checkpoint"))?;
                    states.push(next);
                }
                // Its steps backward, one recorded step at a time.
                for state in states.iter().rev() {
                    sweep.reverse_step(state)?;
                }
            }
        }
        Schedule::Binomial { checkpoints: slots } => {
            if let Some(initial) = checkpoints.into_iter().next() {
                sweep.binomial(initial, steps, slots)?;
            }
        }
    }
    Ok((sweep.params_adjoint, sweep.adjoint))
}

/// The backward pass's running state: the adjoints so far.
struct Reverse<'a, S: TapeScalar, F> {
    step: &'a F,
    params: &'a [S],
    constants: Vec<Var<S>>,
    params_adjoint: Vec<S>,
    /// The adjoint of the state after the next step to reverse.
    adjoint: Vec<S>,
}

impl<S: TapeScalar, F: Fn(&[Var<S>], &[Var<S>]) -> Vec<Var<S>>> Reverse<'_, S, F> {
    /// One step without recording.
    fn advance(&self, state: &[S]) -> Result<Vec<S>> {
        plain_step(self.step, &self.constants, state)
    }

    /// Records the step from `state`, sweeps it with the current adjoint,
    /// and moves the adjoint to `state`.
    fn reverse_step(&mut self, state: &[S]) -> Result<()> {
        let rec = Recording::<S>::new();
        let p = rec.inputs(self.params);
        let s = rec.inputs(state);
        let next = (self.step)(&p, &s);
        check_len("state returned by a step", state.len(), next.len())?;
        let adjoints = rec.vjp(&next, &self.adjoint)?;
        let (dp, ds) = adjoints.split_at(self.params.len());
        for (total, &d) in self.params_adjoint.iter_mut().zip(dp) {
            *total += d;
        }
        self.adjoint = ds.to_vec();
        Ok(())
    }

    /// Reverses steps `0..steps` from the initial state with at most
    /// `slots` more states kept, by binomial checkpointing. A loop over a
    /// stack of tasks (no recursion): reversing `start..end` with the state
    /// at `start` on top of `kept` either records the single step, or
    /// advances to a split point `m`, keeps that state, and reverses
    /// `m..end` with one slot less before `start..m`.
    fn binomial(&mut self, initial: Vec<S>, steps: usize, slots: usize) -> Result<()> {
        enum Task {
            Reverse { start: usize, end: usize, slots: usize },
            Release,
        }
        let mut kept: Vec<Vec<S>> = vec![initial];
        let mut tasks = vec![Task::Reverse {
            start: 0,
            end: steps,
            slots,
        }];
        while let Some(task) = tasks.pop() {
            let (start, end, slots) = match task {
                Task::Release => {
                    kept.pop();
                    continue;
                }
                Task::Reverse { start, end, slots } => (start, end, slots),
            };
            let length = end - start;
            let from = kept.last().expect("the state at the task's start is kept");
            if length == 0 {
                continue;
            }
            if length == 1 {
                let state = from.clone();
                self.reverse_step(&state)?;
                continue;
            }
            if slots == 0 {
                // No slot left: run forward from `start` again for each step.
                let origin = from.clone();
                for i in (start..end).rev() {
                    let mut state = origin.clone();
                    for _ in start..i {
                        state = self.advance(&state)?;
                    }
                    self.reverse_step(&state)?;
                }
                continue;
            }
            // The least number of repetitions r that reaches `length`, then
            // the longest right part that s − 1 slots reverse with r.
            let mut repetitions = 1;
            while binomial_reach(slots, repetitions) < length {
                repetitions += 1;
            }
            let right = binomial_reach(slots - 1, repetitions).min(length - 1);
            let split = end - right;
            let mut state = from.clone();
            for _ in start..split {
                state = self.advance(&state)?;
            }
            kept.push(state);
            tasks.push(Task::Reverse {
                start,
                end: split,
                slots,
            });
            tasks.push(Task::Release);
            tasks.push(Task::Reverse {
                start: split,
                end,
                slots: slots - 1,
            });
        }
        Ok(())
    }
}

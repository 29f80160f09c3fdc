//! [`Recording`]: one use of this thread's tape, from inputs to sweeps.

use std::marker::PhantomData;
use std::sync::atomic::{AtomicU32, Ordering};

use crate::error::{Error, Result, check_len};
use crate::reverse::call_sweeps;
use crate::reverse::tape::Tape;
use crate::reverse::thread_tape::{TapeScalar, with_tape};
use crate::reverse::var::Var;

/// Identifies recordings across all threads, so a `Var` of a finished
/// recording is never mistaken for one of the current recording.
static NEXT_GENERATION: AtomicU32 = AtomicU32::new(1);

fn next_generation() -> u32 {
    loop {
        // 0 means "no recording"; skip it when the counter wraps.
        let generation = NEXT_GENERATION.fetch_add(1, Ordering::Relaxed);
        if generation != 0 {
            return generation;
        }
    }
}

thread_local! {
    /// This thread's default tape limit in bytes (`usize::MAX`: none).
    static DEFAULT_LIMIT: std::cell::Cell<usize> = const { std::cell::Cell::new(usize::MAX) };
}

/// Sets the most bytes of tape each recording started afterwards on this
/// thread may hold (`None`: no limit, the default), for every scalar type and
/// for the recordings that [`grad`](crate::grad), [`hessian`](crate::hessian)
/// and the other functions make. A recording that would grow past it stops
/// recording and returns [`Error::TapeFull`] with [`TapeLimit::Bytes`].
///
/// The bytes counted are the edges' storage (for `f64`: 4 bytes per edge and
/// 8 per partial that is not exactly ±1, so 12 for `sin`, 24 for a product, 8
/// for a sum); tracing and the sweep's buffer of one value per node come on
/// top. Without a limit a tape grows until it has
/// [`MAX_NODES`](crate::reverse::MAX_NODES) nodes or the allocator refuses
/// more memory, and either is also [`Error::TapeFull`], not an abort.
///
/// ```
/// use chainrule::{grad, reverse::set_tape_limit, Error, TapeLimit};
/// use num_traits::Float;
///
/// set_tape_limit(Some(1 << 20)); // 1 MiB
/// let long = |x: &[chainrule::Var<f64>]| (0..1_000_000).fold(x[0], |y, _| y.sin());
/// let err = grad(long, &[0.5]).unwrap_err();
/// assert!(matches!(err, Error::TapeFull { limit: TapeLimit::Bytes(1048576), .. }));
/// set_tape_limit(None);
/// assert!(grad(long, &[0.5]).is_ok());
/// ```
///
/// [`TapeLimit::Bytes`]: crate::TapeLimit::Bytes
pub fn set_tape_limit(max_bytes: Option<usize>) {
    DEFAULT_LIMIT.set(max_bytes.unwrap_or(usize::MAX));
}

/// This thread's default tape limit in bytes, as set by [`set_tape_limit`].
pub fn tape_limit() -> Option<usize> {
    let limit = DEFAULT_LIMIT.get();
    (limit != usize::MAX).then_some(limit)
}

/// A recording on this thread's tape for the scalar type `T`.
///
/// Creating a `Recording` clears the thread's tape (keeping its memory, so a
/// loop of recordings allocates only while the tape still grows); inputs made
/// with [`input`](Recording::input) and everything computed from them are
/// recorded until the `Recording` is dropped. One recording can then be swept
/// as often as wanted, backward ([`gradient`](Recording::gradient),
/// [`vjp`](Recording::vjp)) and forward ([`jvp`](Recording::jvp)).
///
/// Recordings nest: a recording created while another one of the same scalar
/// type is active gets a fresh tape, and the outer one resumes when it is
/// dropped. Variables of the two never mix (see [`Error::ForeignVariable`]).
/// Recordings may be dropped in any order: an outer recording dropped while a
/// nested one is active frees its tape at once and is skipped when the nested
/// one ends, so its variables are then foreign (or, with no recording active,
/// panic when used), never recorded into a dead tape.
///
/// ```
/// use chainrule::Recording;
/// use num_traits::Float;
///
/// // f(x, y) = x·y + sin(x), recorded once, swept both ways.
/// let rec = Recording::<f64>::new();
/// let x = rec.input(1.0);
/// let y = rec.input(2.0);
/// let f = x * y + x.sin();
/// let gradient = rec.gradient(f).unwrap();
/// assert_eq!(gradient, vec![2.0 + 1f64.cos(), 1.0]);
/// let along_x = rec.jvp(&[1.0, 0.0], &[f]).unwrap();
/// assert_eq!(along_x, vec![gradient[0]]);
/// ```
pub struct Recording<T: TapeScalar> {
    generation: u32,
    /// The scalar type; not `Send`, since the tape is this thread's.
    _not_send: PhantomData<*const T>,
}

impl<T: TapeScalar> Default for Recording<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T: TapeScalar> Recording<T> {
    /// Starts recording on this thread's tape.
    pub fn new() -> Self {
        Self::start(false, DEFAULT_LIMIT.get())
    }

    /// Starts a recording whose tape may hold at most `max_bytes` bytes of
    /// edges (see [`set_tape_limit`]); past it, recording stops and the sweeps
    /// return [`Error::TapeFull`].
    ///
    /// ```
    /// use chainrule::{Error, Recording};
    /// use num_traits::Float;
    ///
    /// let rec = Recording::<f64>::with_tape_limit(1200); // 100 unary operations
    /// let mut y = rec.input(1.0);
    /// for _ in 0..1000 {
    ///     y = y.sin();
    /// }
    /// assert!(matches!(rec.gradient(y), Err(Error::TapeFull { .. })));
    /// assert!(rec.tape_capacity_bytes() <= 1200);
    /// ```
    pub fn with_tape_limit(max_bytes: usize) -> Self {
        Self::start(false, max_bytes)
    }

    /// Starts a recording that also keeps each node's operation and value, so
    /// the computational graph can be inspected afterwards.
    pub fn traced() -> Self {
        Self::start(true, DEFAULT_LIMIT.get())
    }

    fn start(traced: bool, max_bytes: usize) -> Self {
        let generation = next_generation();
        let retired = with_tape(|tape: &mut Tape<T>| {
            tape.suspend_if_active();
            tape.restart(generation, traced, max_bytes)
        });
        // The previous recording's custom calls hold user callbacks: dropped
        // here, with the tape released.
        drop(retired);
        Recording {
            generation,
            _not_send: PhantomData,
        }
    }

    /// Runs `f` on the tape if this recording is the active one.
    pub(crate) fn with_active<R>(&self, f: impl FnOnce(&mut Tape<T>) -> R) -> Result<R> {
        with_tape(|tape: &mut Tape<T>| {
            if tape.generation == self.generation {
                Ok(f(tape))
            } else {
                Err(Error::RecordingNotActive)
            }
        })
    }

    /// Runs `f` on the tape after checking that this recording is active,
    /// nothing went wrong while recording, and `outputs` belong to it.
    pub(crate) fn sweepable<R>(&self, outputs: &[Var<T>], f: impl FnOnce(&mut Tape<T>) -> R) -> Result<R> {
        if outputs
            .iter()
            .any(|v| !v.is_constant() && v.generation() != self.generation)
        {
            return Err(Error::ForeignVariable);
        }
        self.with_active(|tape| match tape.error.clone() {
            Some(error) => Err(error),
            None => Ok(f(tape)),
        })?
    }

    /// A new independent variable with the given value.
    ///
    /// # Panics
    /// If a nested recording of the same scalar type is active (create inputs
    /// before nesting, or on the nested recording).
    pub fn input(&self, value: T) -> Var<T> {
        match self.with_active(|tape| tape.record_input(value)) {
            Ok(index) => Var::from_parts(value, index, self.generation),
            Err(_) => panic!("Recording::input: a nested Recording is active; create inputs on the innermost one"),
        }
    }

    /// One new independent variable per value, in order.
    ///
    /// # Panics
    /// As [`input`](Recording::input).
    pub fn inputs(&self, values: &[T]) -> Vec<Var<T>> {
        values.iter().map(|&value| self.input(value)).collect()
    }

    /// Number of recorded nodes (inputs and operations on variables).
    pub fn len(&self) -> usize {
        self.with_active(|tape| tape.len()).unwrap_or(0)
    }

    /// Whether nothing has been recorded.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Bytes of tape this recording holds: a parent index per edge, and the
    /// partials that are not exactly ±1 or 0 (those are flags on the index).
    pub fn tape_bytes(&self) -> usize {
        self.with_active(|tape| tape.used_bytes()).unwrap_or(0)
    }

    /// Bytes of tape allocated on this thread for `T`, including room kept
    /// from earlier recordings (tapes are reused, not freed).
    pub fn tape_capacity_bytes(&self) -> usize {
        self.with_active(|tape| tape.capacity_bytes()).unwrap_or(0)
    }

    /// The gradient of `output` with respect to the inputs, in the order they
    /// were created: one backward sweep.
    ///
    /// # Errors
    /// [`Error::ForeignVariable`] if `output` or anything recorded came from
    /// another recording, [`Error::TapeFull`], [`Error::RecordingNotActive`].
    pub fn gradient(&self, output: Var<T>) -> Result<Vec<T>> {
        self.vjp(&[output], &[T::one()])
    }

    /// Vector-Jacobian product: `Σ_k cotangents[k] · ∂outputs[k]/∂inputs`,
    /// one backward sweep.
    ///
    /// # Errors
    /// As [`gradient`](Recording::gradient), and
    /// [`Error::LengthMismatch`] if the slices differ in length.
    pub fn vjp(&self, outputs: &[Var<T>], cotangents: &[T]) -> Result<Vec<T>> {
        check_len("cotangent vector", outputs.len(), cotangents.len())?;
        let plain = self.plain_sweep(outputs, |tape| {
            let seeds = outputs.iter().zip(cotangents).map(|(v, &c)| (v.index(), c));
            tape.sweep_backward(seeds);
            tape.swept_inputs()
        })?;
        if let Some(adjoints) = plain {
            return Ok(adjoints);
        }
        let seeds: Vec<(u32, [T; 1])> = outputs.iter().zip(cotangents).map(|(v, &c)| (v.index(), [c])).collect();
        let blocks = call_sweeps::backward(self.generation, &seeds)?;
        Ok(self.at_inputs(&blocks).into_iter().map(|[a]| a).collect())
    }

    /// As [`sweepable`](Self::sweepable), but `f` runs only if the recording
    /// holds no custom vector functions (`None` otherwise): their callbacks
    /// are user code, which the sweeps in [`call_sweeps`] run with the tape
    /// released.
    fn plain_sweep<R>(&self, outputs: &[Var<T>], f: impl FnOnce(&mut Tape<T>) -> R) -> Result<Option<R>> {
        self.sweepable(outputs, |tape| tape.calls.is_empty().then(|| f(tape)))
    }

    /// The blocks of the inputs, in creation order.
    fn at_inputs<B: Copy>(&self, blocks: &[B]) -> Vec<B> {
        with_tape(|tape: &mut Tape<T>| tape.inputs().iter().map(|&i| blocks[i as usize]).collect())
    }

    /// The inputs' nodes paired with their blocks, as sweep seeds.
    fn input_seeds<B: Copy>(&self, what: &'static str, blocks: &[B]) -> Result<Vec<(u32, B)>> {
        with_tape(|tape: &mut Tape<T>| {
            check_len(what, tape.inputs().len(), blocks.len())?;
            Ok(tape.inputs().iter().copied().zip(blocks.iter().copied()).collect())
        })
    }

    /// Jacobian-vector product on the recording: the tangents of `outputs`
    /// when the inputs move along `input_tangents`, one forward sweep.
    ///
    /// # Errors
    /// As [`gradient`](Recording::gradient), and
    /// [`Error::LengthMismatch`] unless there is one tangent per input.
    pub fn jvp(&self, input_tangents: &[T], outputs: &[Var<T>]) -> Result<Vec<T>> {
        let plain = self.plain_sweep(outputs, |tape| {
            check_len("input tangent vector", tape.inputs().len(), input_tangents.len())?;
            let seeds: Vec<(u32, T)> = tape
                .inputs()
                .iter()
                .copied()
                .zip(input_tangents.iter().copied())
                .collect();
            tape.sweep_forward(seeds);
            let tangents = tape.swept();
            Ok(outputs.iter().map(|v| tangents[v.index() as usize]).collect())
        })?;
        if let Some(tangents) = plain {
            return tangents;
        }
        let directions: Vec<[T; 1]> = input_tangents.iter().map(|&t| [t]).collect();
        let blocks = call_sweeps::forward(self.generation, &self.input_seeds("input tangent vector", &directions)?)?;
        Ok(outputs.iter().map(|v| blocks[v.index() as usize][0]).collect())
    }
}

impl<T: TapeScalar> Recording<T> {
    /// `K` Jacobian-vector products in one forward sweep: `directions[j]`
    /// holds input `j`'s tangent in each of the `K` directions; the result
    /// holds each output's `K` tangents.
    ///
    /// ```
    /// use chainrule::Recording;
    /// let rec = Recording::<f64>::new();
    /// let x = rec.inputs(&[2.0, 3.0]);
    /// let y = x[0] * x[1];
    /// // directions e1 and e2 at once: the gradient (3, 2)
    /// assert_eq!(rec.jvp_block(&[[1.0, 0.0], [0.0, 1.0]], &[y]).unwrap(), vec![[3.0, 2.0]]);
    /// ```
    ///
    /// # Errors
    /// As [`jvp`](Recording::jvp).
    pub fn jvp_block<const K: usize>(&self, directions: &[[T; K]], outputs: &[Var<T>]) -> Result<Vec<[T; K]>> {
        let plain = self.plain_sweep(outputs, |tape| {
            check_len("input tangent blocks", tape.inputs().len(), directions.len())?;
            let seeds: Vec<(u32, [T; K])> = tape.inputs().iter().copied().zip(directions.iter().copied()).collect();
            let mut blocks = Vec::new();
            tape.sweep_forward_block(&seeds, &mut blocks);
            Ok(outputs.iter().map(|v| blocks[v.index() as usize]).collect())
        })?;
        if let Some(tangents) = plain {
            return tangents;
        }
        let blocks = call_sweeps::forward(self.generation, &self.input_seeds("input tangent blocks", directions)?)?;
        Ok(outputs.iter().map(|v| blocks[v.index() as usize]).collect())
    }

    /// `K` vector-Jacobian products in one backward sweep: `cotangents[i]`
    /// holds output `i`'s cotangent in each of the `K` products; the result
    /// holds each input's `K` adjoints.
    ///
    /// ```
    /// use chainrule::Recording;
    /// let rec = Recording::<f64>::new();
    /// let x = rec.inputs(&[2.0, 3.0]);
    /// let (p, s) = (x[0] * x[1], x[0] + x[1]);
    /// // both rows of the Jacobian at once
    /// let rows = rec.vjp_block(&[p, s], &[[1.0, 0.0], [0.0, 1.0]]).unwrap();
    /// assert_eq!(rows, vec![[3.0, 1.0], [2.0, 1.0]]);
    /// ```
    ///
    /// # Errors
    /// As [`vjp`](Recording::vjp).
    pub fn vjp_block<const K: usize>(&self, outputs: &[Var<T>], cotangents: &[[T; K]]) -> Result<Vec<[T; K]>> {
        check_len("cotangent blocks", outputs.len(), cotangents.len())?;
        let seeds: Vec<(u32, [T; K])> = outputs
            .iter()
            .map(|v| v.index())
            .zip(cotangents.iter().copied())
            .collect();
        let plain = self.plain_sweep(outputs, |tape| {
            let mut blocks = Vec::new();
            tape.sweep_backward_block(&seeds, &mut blocks);
            tape.inputs().iter().map(|&i| blocks[i as usize]).collect()
        })?;
        match plain {
            Some(adjoints) => Ok(adjoints),
            None => Ok(self.at_inputs(&call_sweeps::backward(self.generation, &seeds)?)),
        }
    }
}

impl<T: TapeScalar> Drop for Recording<T> {
    fn drop(&mut self) {
        let generation = self.generation;
        let retired = with_tape(|tape: &mut Tape<T>| tape.finish(generation));
        drop(retired);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use num_traits::Float;

    /// Bytes held by this thread's `f64` tapes, the suspended ones included.
    fn held_bytes() -> usize {
        with_tape(|tape: &mut Tape<f64>| tape.capacity_bytes() + tape.suspended_capacity_bytes())
    }

    #[test]
    fn a_finished_outer_recording_frees_its_tape_at_once() {
        let outer = Recording::<f64>::new();
        let mut y = outer.input(1.0);
        for _ in 0..100_000 {
            y = y.sin();
        }
        let inner = Recording::<f64>::new();
        let before = held_bytes();
        assert!(before >= 100_000 * 12, "{before}");
        drop(outer);
        assert!(
            held_bytes() < before / 10,
            "{} of {before} bytes still held",
            held_bytes()
        );
        drop(inner);
    }
}

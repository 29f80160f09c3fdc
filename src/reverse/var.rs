//! [`Var`]: a scalar recorded on this thread's tape.

use std::fmt;
use std::rc::Rc;

use crate::reverse::call::{Call, Callback};
use crate::reverse::tape::{Arg, NodeOp, Outcome, Tape, TraceArgs, VectorTrace};
use crate::reverse::thread_tape::{TapeScalar, built_in_tape, on_tape, with_table_tape, with_tape};
use crate::rules::{self, Binary, Unary};

/// A scalar recorded on this thread's tape: reverse-mode AD.
///
/// `Var` implements [`num_traits::Float`] and [`Real`](crate::Real), so any function
/// written generically runs on it, and every operation appends its local
/// partial derivatives to the tape of the active
/// [`Recording`](crate::Recording). Constants (from `Float::one()`, `From`,
/// literals on either side of an operator) cost nothing on the tape.
///
/// A `Var` belongs to the recording that made it. Using it in a later or
/// nested recording makes that recording return
/// [`Error::ForeignVariable`](crate::Error::ForeignVariable); using it when no
/// recording of its scalar type is active at all panics. Each thread records
/// on its own tape: a `Var` may be moved or shared between threads (so that
/// it can be a nalgebra scalar), but on another thread it is foreign to that
/// thread's recording, which then returns `Error::ForeignVariable`.
///
/// Equality and ordering compare values only.
///
/// ```
/// use chainrule::Recording;
/// use num_traits::Float;
///
/// let mut rec = Recording::<f64>::new();
/// let x = rec.input(2.0);
/// let y = x.ln() + 3.0 * x;
/// assert_eq!(y.value(), 2f64.ln() + 6.0);
/// let grad = rec.gradient(y).unwrap();
/// assert_eq!(grad, vec![0.5 + 3.0]);
/// ```
///
/// A variable taken to another thread is foreign there (recordings are
/// numbered across all threads, so it is never mistaken for one of that
/// thread's variables):
///
/// ```
/// use chainrule::{Error, Recording};
/// let rec = Recording::<f64>::new();
/// let x = rec.input(1.0);
/// let error = std::thread::spawn(move || {
///     let there = Recording::<f64>::new();
///     let y = there.input(2.0);
///     there.gradient(x * y).unwrap_err()
/// })
/// .join()
/// .unwrap();
/// assert!(matches!(error, Error::ForeignVariable));
/// ```
#[derive(Clone, Copy)]
pub struct Var<T> {
    value: T,
    /// Node index on the tape; 0 for a constant.
    index: u32,
    /// The recording this variable belongs to; 0 for a constant.
    generation: u32,
}

impl<T: TapeScalar> Var<T> {
    /// A variable at tape node `index`. Index 0 (what a full tape returns)
    /// makes a constant: every path treats index 0 as constant whatever the
    /// recording id, and the recording reports the error.
    #[inline(always)]
    pub(crate) fn from_parts(value: T, index: u32, generation: u32) -> Self {
        Var {
            value,
            index,
            generation,
        }
    }

    /// A constant: not recorded, derivative 0 with respect to everything.
    #[inline(always)]
    pub fn constant(value: T) -> Self {
        Var {
            value,
            index: 0,
            generation: 0,
        }
    }

    /// The primal value.
    #[inline(always)]
    pub fn value(&self) -> T {
        self.value
    }

    /// Whether this is a constant (not on any tape).
    pub fn is_constant(&self) -> bool {
        self.index == 0
    }

    /// The node index on the tape (0 for constants).
    pub(crate) fn index(&self) -> u32 {
        self.index
    }

    pub(crate) fn generation(&self) -> u32 {
        self.generation
    }

    fn arg(&self) -> Arg<T> {
        if self.index == 0 {
            Arg::Constant(self.value)
        } else {
            Arg::Node(self.index)
        }
    }

    #[inline(always)]
    fn primal(&self) -> T {
        self.value
    }

    /// Logs a comparison that involves a variable, for traced recordings
    /// (recorded programs guard the branches taken).
    #[inline(always)]
    fn note_comparison(&self, other: &Self, outcome: Outcome) {
        if self.index != 0 || other.index != 0 {
            let (left, right) = (
                (self.index, self.generation, self.value),
                (other.index, other.generation, other.value),
            );
            with_tape(|tape: &mut Tape<T>| tape.note_comparison(left, right, outcome));
        }
    }

    /// Whether this is the constant 0. A recorded variable whose value
    /// happens to be 0 is not: it still carries derivatives, and treating it
    /// as a strong zero would drop them (reverse-over-forward nesting).
    #[inline(always)]
    fn is_exact_zero(&self) -> bool {
        self.index == 0 && self.value.is_zero()
    }

    #[inline(always)]
    fn lift_unary(self, op: Unary) -> Self {
        let (value, slope) = rules::unary(op, self.value);
        if self.index == 0 {
            return Var::constant(value);
        }
        let args = || TraceArgs::new(&[self.arg()]);
        let index = on_tape!(T, |tape| tape.record_1(
            (self.index, self.generation),
            slope,
            value,
            NodeOp::Unary(op),
            args
        ));
        Var::from_parts(value, index, self.generation)
    }

    #[inline(always)]
    fn lift_binary(self, op: Binary, other: Self) -> Self {
        let (value, da, db) = rules::binary(op, self.value, other.value);
        self.record_binary(other, value, da, db, op)
    }

    /// The strong-zero product (see [`rules::chain`]): nothing recorded when
    /// either factor is the constant 0; otherwise a product node whose value
    /// is the strong product of the values (0 when either is 0, even against
    /// ∞) and whose partials are the product rule's.
    #[inline(always)]
    fn lift_strong_mul(self, other: Self) -> Self {
        if self.is_exact_zero() || other.is_exact_zero() {
            return Var::constant(T::zero());
        }
        let value = rules::chain(self.value, other.value);
        self.record_binary(other, value, other.value, self.value, Binary::Mul)
    }

    /// Records `op(self, other) = value` with partials `da`, `db`; constant
    /// arguments get no edge, and two constants make a constant.
    #[inline(always)]
    fn record_binary(self, other: Self, value: T, da: T, db: T, op: Binary) -> Self {
        let node_op = NodeOp::Binary(op);
        let args = || TraceArgs::new(&[self.arg(), other.arg()]);
        let (index, generation) = match (self.index, other.index) {
            (0, 0) => return Var::constant(value),
            (_, 0) => {
                let index = on_tape!(T, |tape| tape.record_1(
                    (self.index, self.generation),
                    da,
                    value,
                    node_op,
                    args
                ));
                (index, self.generation)
            }
            (0, _) => {
                let index = on_tape!(T, |tape| tape.record_1(
                    (other.index, other.generation),
                    db,
                    value,
                    node_op,
                    args
                ));
                (index, other.generation)
            }
            _ => {
                let (a, b) = ((self.index, self.generation), (other.index, other.generation));
                (
                    on_tape!(T, |tape| tape.record_2(a, da, b, db, value, node_op)),
                    self.generation,
                )
            }
        };
        Var::from_parts(value, index, generation)
    }

    /// Whether a custom function of `args` lands on a traced recording: some
    /// argument is recorded, and the tape keeps a trace.
    fn traced(args: &[Self]) -> bool {
        args.iter().any(|a| a.index != 0) && with_tape(|tape: &mut Tape<T>| tape.trace().is_some())
    }

    /// A custom elementary function: value and partials on the values, one
    /// node whose edges carry the partials (constant arguments get none).
    fn lift_elementary<E: crate::custom::Elementary<K>, const K: usize>(f: &E, args: [Self; K]) -> Self {
        let values = args.map(|a| a.value);
        // The user's code runs before the tape is reached (see `with_tape`).
        let (value, partials) = (T::apply_elementary(f, values), T::elementary_partials(f, values));
        // A traced recording keeps the rule (cloned here, with the tape
        // released), so a recorded program can run it again.
        let rule = Self::traced(&args).then(|| crate::custom::erased::erase::<T, E, K>(f));
        let var = Self::record_edges(args, partials, value, NodeOp::Custom(E::NAME), TraceArgs::none);
        if let Some(rule) = rule {
            let trace_args = args.iter().map(|a| a.arg()).collect();
            let unused =
                (var.index != 0).then(|| with_tape(|tape: &mut Tape<T>| tape.note_rule(var.index, rule, trace_args)));
            // A rule the tape did not keep is dropped here, with the tape released.
            drop(unused);
        }
        var
    }

    /// The partials of a custom elementary function as variables: recorded
    /// with the user's second partials as their edges when the rule has
    /// them, otherwise by running `partials` on these variables.
    fn lift_elementary_partials<E: crate::custom::Elementary<K>, const K: usize>(f: &E, args: [Self; K]) -> [Self; K] {
        let values = args.map(|a| a.value);
        crate::custom::lifted_partials(f, args, values, |value, partials| {
            Self::record_edges(args, partials, value, NodeOp::Custom(E::NAME), TraceArgs::none)
        })
    }

    /// A custom vector function: the values by the rule on the values (so
    /// a nested scalar applies it again), recorded as one call whose
    /// products run the rule's `vjp` and `jvp` at this point.
    fn lift_vector<F: crate::custom::VectorRule>(f: &F, args: &[Self]) -> Vec<Self> {
        let values: Vec<T> = args.iter().map(|a| a.value).collect();
        // The user's code runs before the tape is reached (see `with_tape`).
        let outputs = T::apply_vector(f, &values);
        // A traced recording keeps the rule (cloned here, with the tape
        // released), so a recorded program can run it again.
        let kept = Self::traced(args).then(|| crate::custom::erased::erase_vector::<T, F>(f));
        let (x, y) = (Rc::new(values), Rc::new(outputs.clone()));
        let pullback: Callback<T> = {
            let (f, x, y) = (f.clone(), Rc::clone(&x), Rc::clone(&y));
            Rc::new(move |y_bar: &[T]| f.vjp(&x, &y, y_bar))
        };
        let pushforward: Callback<T> = {
            let f = f.clone();
            Rc::new(move |x_dot: &[T]| f.jvp(&x, &y, x_dot))
        };
        let result = Self::record_call(F::NAME, args, &outputs, pullback, Some(pushforward));
        if let (Some(rule), Some(first)) = (kept, result.first().filter(|v| v.index != 0)) {
            let call = VectorTrace {
                first_output: first.index,
                outputs: result.len() as u32,
                rule,
                args: args.iter().map(|a| a.arg()).collect(),
            };
            let unused = with_tape(|tape: &mut Tape<T>| tape.note_vector_call(call));
            // A rule the tape did not keep is dropped here, with the tape released.
            drop(unused);
        }
        result
    }

    /// Records a custom vector function of `args` with values `outputs` as
    /// one call on the tape (see [`call_sweeps`](crate::reverse::call_sweeps)); all
    /// constant arguments (or no outputs) make constants.
    pub(crate) fn record_call(
        name: &'static str,
        args: &[Self],
        outputs: &[T],
        vjp: Callback<T>,
        jvp: Option<Callback<T>>,
    ) -> Vec<Self> {
        let constants = || outputs.iter().map(|&v| Var::constant(v)).collect();
        let Some(generation) = args.iter().find(|a| a.index != 0).map(|a| a.generation) else {
            return constants();
        };
        let Ok(count) = u32::try_from(outputs.len()) else {
            // More outputs than a tape has nodes: the recording reports it.
            with_tape(|tape: &mut Tape<T>| tape.report_node_limit());
            return constants();
        };
        if count == 0 {
            return Vec::new();
        }
        let arguments: Vec<(u32, u32)> = args.iter().map(|a| (a.index, a.generation)).collect();
        let mut call = Call::new(name, args.iter().map(|a| a.index).collect(), count, vjp, jvp);
        // Two steps, so that no closure that could panic (a variable used
        // with no recording active) owns the call: its callbacks are user
        // code, dropped only with the tape released.
        match with_tape(|tape: &mut Tape<T>| tape.record_outputs(name, &arguments, outputs)) {
            Some((first_output, first_edge)) => {
                (call.first_output, call.first_edge) = (first_output, first_edge);
                // Moves the call into the table: no user code runs.
                with_tape(|tape: &mut Tape<T>| tape.calls.push(call));
                let nodes = first_output..first_output + count;
                outputs
                    .iter()
                    .zip(nodes)
                    .map(|(&v, i)| Var::from_parts(v, i, generation))
                    .collect()
            }
            // The tape is full (the recording reports it); the call is
            // dropped here, with the tape released.
            None => constants(),
        }
    }

    fn lift_mul_add(self, a: Self, b: Self) -> Self {
        let (value, d_self, d_a, d_b) = rules::mul_add(self.value, a.value, b.value);
        let args = || TraceArgs::new(&[self.arg(), a.arg(), b.arg()]);
        Self::record_edges([self, a, b], [d_self, d_a, d_b], value, NodeOp::MulAdd, args)
    }

    /// Records `op(args) = value` with one edge per argument that is not a
    /// constant, weighted by its partial; all constants make a constant.
    #[inline(always)]
    fn record_edges<const K: usize>(
        args: [Self; K],
        partials: [T; K],
        value: T,
        op: NodeOp,
        trace: impl FnOnce() -> TraceArgs<T>,
    ) -> Self {
        let mut edges = [(0, 0, T::zero()); K];
        let mut count = 0;
        let mut generation = 0;
        for (var, partial) in args.into_iter().zip(partials) {
            if var.index != 0 {
                edges[count] = (var.index, var.generation, partial);
                generation = var.generation;
                count += 1;
            }
        }
        if count == 0 {
            return Var::constant(value);
        }
        let index = on_tape!(T, |tape| tape.record_n(&edges[..count], value, op, trace));
        Var::from_parts(value, index, generation)
    }
}

impl_real_number!([T: TapeScalar] Var<T>, T);

impl<T: fmt::Display> fmt::Display for Var<T> {
    /// The value, as its scalar prints it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.value, f)
    }
}

impl<T: fmt::Debug> fmt::Debug for Var<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.index == 0 {
            f.debug_tuple("Var::constant").field(&self.value).finish()
        } else {
            f.debug_struct("Var")
                .field("value", &self.value)
                .field("node", &self.index)
                .finish()
        }
    }
}

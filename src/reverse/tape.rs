//! The tape: a flat Wengert list of local partial derivatives.
//!
//! Layout (struct of arrays, no pointers):
//!
//! - Node `0` is a *sink*: constants never reach the tape, and an input's
//!   single edge points here with partial 0, so every node has at least one
//!   edge and the sweeps need no special case for inputs.
//! - Each recorded node `i ≥ 1` owns one edge per non-constant argument, stored
//!   contiguously in recording order: `partials[e]` is `∂v_i/∂v_parent`, and
//!   `parents[e]` the parent's index, with [`FIRST`] set on the node's first
//!   edge. That flag is all a sweep needs to know where nodes begin, so a
//!   unary operation costs 12 bytes (f64 partial + u32 index) and a binary one
//!   24, with no per-node header.
//! - Sweeps are plain loops over these arrays, backward for adjoints and
//!   forward for tangents: no recursion, whatever the graph's depth.
//!
//! With tracing on (for the graph module), each node also keeps its operation
//! and primal value.

use std::ops::Range;

use crate::Real;
use crate::custom::erased::Shared;
use crate::error::{Error, TapeLimit};
use crate::reverse::call::Call;
use crate::rules::{Binary, Unary, chain};

/// Set on the first edge of each node.
pub(crate) const FIRST: u32 = 1 << 31;
/// Extracts the parent index from an edge.
pub(crate) const INDEX: u32 = FIRST - 1;
/// The most nodes one tape holds (node indices use 31 bits).
pub const MAX_NODES: usize = INDEX as usize;

/// What produced a node; kept only while tracing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NodeOp {
    /// An independent variable.
    Input,
    /// An elementary function of one argument.
    Unary(Unary),
    /// An elementary function of two arguments.
    Binary(Binary),
    /// `a·b + c` rounded once.
    MulAdd,
    /// A custom elementary function ([`Elementary`](crate::Elementary)) or
    /// an output of a custom vector function
    /// ([`VectorRule`](crate::custom::VectorRule)), by name: traced for the
    /// error message, not replayable.
    Custom(&'static str),
}

/// Per-node operation and value, and which arguments were constants.
#[derive(Clone, Debug, Default)]
pub(crate) struct TraceLog<T> {
    pub ops: Vec<NodeOp>,
    pub values: Vec<T>,
    /// For each node, its arguments in order: another node, or a constant
    /// argument by its value.
    pub args: Vec<TraceArgs<T>>,
    /// The comparisons the recorded code made between values that depend
    /// on the inputs, in order: the branches a recorded program must guard.
    pub comparisons: Vec<Comparison<T>>,
    /// The custom elementary functions applied, in node order, with their
    /// rules (for recorded programs to run again) and all their arguments.
    pub rules: Vec<CustomTrace<T>>,
    /// The custom vector functions applied (through a
    /// [`VectorRule`](crate::VectorRule)), in node order.
    pub vector_calls: Vec<VectorTrace<T>>,
}

/// A custom vector function applied while tracing.
#[derive(Clone, Debug)]
#[cfg_attr(not(feature = "program"), allow(dead_code))] // read by recorded programs
pub(crate) struct VectorTrace<T> {
    /// Its first output's node; the outputs are consecutive.
    pub first_output: u32,
    pub outputs: u32,
    pub rule: Shared<T>,
    /// Its arguments, in order.
    pub args: Vec<Arg<T>>,
}

/// A custom elementary function applied while tracing.
#[derive(Clone, Debug)]
#[cfg_attr(not(feature = "program"), allow(dead_code))] // read by recorded programs
pub(crate) struct CustomTrace<T> {
    /// Its node.
    pub node: u32,
    pub rule: Shared<T>,
    /// Its arguments, in order.
    pub args: Vec<Arg<T>>,
}

/// What a finished recording leaves that holds user code (custom vector
/// functions' callbacks, custom rules kept for programs): handed to the
/// caller, which drops it once it no longer holds the tape.
#[must_use = "drop the retired user code after releasing the tape"]
pub(crate) struct Retired<T> {
    _calls: Vec<Call<T>>,
    _rules: Vec<CustomTrace<T>>,
    _vector_calls: Vec<VectorTrace<T>>,
}

/// One comparison made while tracing: `left` against `right`, and what the
/// code learnt from it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Comparison<T> {
    pub left: Arg<T>,
    pub right: Arg<T>,
    pub outcome: Outcome,
}

/// What a comparison answered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// `partial_cmp` (and so `<`, `<=`, `>`, `>=`) gave this ordering
    /// (`None`: unordered, a NaN was involved).
    Order(Option<std::cmp::Ordering>),
    /// `==` gave this answer.
    Equal(bool),
}

/// An argument of a traced operation.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Arg<T> {
    /// Another node, by index.
    Node(u32),
    /// A constant, by value.
    Constant(T),
}

/// The arguments of one traced operation (at most three), kept inline so
/// that tracing allocates nothing per operation.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct TraceArgs<T> {
    args: [Arg<T>; 3],
    count: u8,
}

impl<T: Copy> TraceArgs<T> {
    /// The given arguments (at most three).
    #[inline(always)]
    pub(crate) fn new(args: &[Arg<T>]) -> Self {
        let mut all = [Arg::Node(0); 3];
        all[..args.len()].copy_from_slice(args);
        TraceArgs {
            args: all,
            count: args.len() as u8,
        }
    }

    /// No arguments (an input).
    pub(crate) fn none() -> Self {
        Self::new(&[])
    }
}

impl<T> std::ops::Deref for TraceArgs<T> {
    type Target = [Arg<T>];
    fn deref(&self) -> &[Arg<T>] {
        &self.args[..self.count as usize]
    }
}

/// A flat Wengert list. See the module docs for the layout.
pub struct Tape<T> {
    partials: Vec<T>,
    parents: Vec<u32>,
    /// Number of nodes, the sink included.
    nodes: u32,
    /// Indices of the input nodes, in creation order.
    inputs: Vec<u32>,
    /// Identifies the active recording; 0 while none is active.
    pub(crate) generation: u32,
    /// The first misuse seen during this recording.
    pub(crate) error: Option<Error>,
    pub(crate) trace: Option<TraceLog<T>>,
    /// Reused buffer for sweeps.
    work: Vec<T>,
    /// The most bytes of edges this recording may hold.
    pub(crate) max_bytes: usize,
    /// Tapes of the enclosing recordings while a nested one is active,
    /// innermost last; a finished one is replaced by an empty tape with
    /// generation 0 until the nested recordings above it end.
    suspended: Vec<Tape<T>>,
    /// The custom vector functions recorded, in node order: the sweeps stop
    /// at each to run its callback (see [`call_sweeps`](crate::reverse::call_sweeps)).
    pub(crate) calls: Vec<Call<T>>,
}

impl<T> Tape<T> {
    /// An empty, inactive tape (no allocation).
    pub const fn new() -> Self {
        Tape {
            partials: Vec::new(),
            parents: Vec::new(),
            nodes: 1,
            inputs: Vec::new(),
            generation: 0,
            error: None,
            trace: None,
            work: Vec::new(),
            max_bytes: usize::MAX,
            suspended: Vec::new(),
            calls: Vec::new(),
        }
    }

    /// If a recording is active, moves its tape onto the stack of suspended
    /// tapes and leaves an empty, inactive tape in its place.
    pub(crate) fn suspend_if_active(&mut self) {
        if self.generation != 0 {
            let mut outer = std::mem::replace(self, Tape::new());
            self.suspended = std::mem::take(&mut outer.suspended);
            self.suspended.push(outer);
        }
    }

    /// Ends recording `generation`, whichever tape holds it. The active one
    /// hands the thread back to the innermost unfinished suspended recording
    /// (or to none, keeping its memory for the next recording); a suspended
    /// one frees its memory now and is skipped when its turn comes.
    ///
    /// Returns the finished recording's user code (see [`Retired`]) instead
    /// of dropping it.
    pub(crate) fn finish(&mut self, generation: u32) -> Retired<T> {
        if self.generation == generation {
            let retired = self.retire();
            while let Some(outer) = self.suspended.pop() {
                if outer.generation != 0 {
                    let rest = std::mem::take(&mut self.suspended);
                    *self = outer;
                    self.suspended = rest;
                    return retired;
                }
            }
            self.generation = 0;
            retired
        } else if let Some(tape) = self.suspended.iter_mut().find(|t| t.generation == generation) {
            let retired = tape.retire();
            *tape = Tape::new();
            retired
        } else {
            Retired {
                _calls: Vec::new(),
                _rules: Vec::new(),
                _vector_calls: Vec::new(),
            }
        }
    }

    /// Takes the user code this tape holds, for the caller to drop later.
    fn retire(&mut self) -> Retired<T> {
        let (rules, vector_calls) = match self.trace.as_mut() {
            Some(log) => (std::mem::take(&mut log.rules), std::mem::take(&mut log.vector_calls)),
            None => (Vec::new(), Vec::new()),
        };
        Retired {
            _calls: std::mem::take(&mut self.calls),
            _rules: rules,
            _vector_calls: vector_calls,
        }
    }
}

impl<T: Real> Tape<T> {
    /// Empties the tape for a new recording, keeping its memory. Returns the
    /// previous recording's user code (see [`Retired`]).
    pub(crate) fn restart(&mut self, generation: u32, traced: bool, max_bytes: usize) -> Retired<T> {
        let retired = self.retire();
        self.max_bytes = max_bytes;
        if self.capacity_bytes() > max_bytes {
            // Memory kept from a larger earlier recording would exceed the new limit.
            self.partials = Vec::new();
            self.parents = Vec::new();
        }
        self.partials.clear();
        self.parents.clear();
        self.inputs.clear();
        self.nodes = 1;
        self.generation = generation;
        self.error = None;
        self.trace = if traced {
            let mut log = self.trace.take().unwrap_or_default();
            log.ops.clear();
            log.values.clear();
            log.args.clear();
            log.comparisons.clear();
            // The sink occupies slot 0 so trace indices match node indices.
            log.ops.push(NodeOp::Input);
            log.values.push(T::zero());
            log.args.push(TraceArgs::none());
            Some(log)
        } else {
            None
        };
        retired
    }

    /// Number of recorded nodes (inputs and operations, not the sink).
    pub(crate) fn len(&self) -> usize {
        self.nodes as usize - 1
    }

    /// Number of recorded edges (one per non-constant argument).
    pub(crate) fn edge_count(&self) -> usize {
        self.parents.len()
    }

    /// Bytes held per recorded edge (partial + parent index).
    pub(crate) const BYTES_PER_EDGE: usize = std::mem::size_of::<T>() + std::mem::size_of::<u32>();

    /// Bytes of edge storage allocated, used or not.
    pub(crate) fn capacity_bytes(&self) -> usize {
        self.partials.capacity() * std::mem::size_of::<T>() + self.parents.capacity() * std::mem::size_of::<u32>()
    }

    /// Bytes of edge storage held by suspended (outer) recordings.
    #[cfg(test)]
    pub(crate) fn suspended_capacity_bytes(&self) -> usize {
        self.suspended.iter().map(|t| t.capacity_bytes()).sum()
    }

    /// The operations and values kept by a traced recording.
    pub(crate) fn trace(&self) -> Option<&TraceLog<T>> {
        self.trace.as_ref()
    }

    pub(crate) fn inputs(&self) -> &[u32] {
        &self.inputs
    }

    fn fail(&mut self, error: Error) {
        if self.error.is_none() {
            self.error = Some(error);
        }
    }

    /// Checks that an argument belongs to this recording; `generation` 0 means
    /// a constant, which belongs everywhere.
    #[inline(always)]
    fn check(&mut self, generation: u32) {
        if generation != self.generation {
            self.foreign();
        }
    }

    #[cold]
    fn foreign(&mut self) {
        assert!(
            self.generation != 0,
            "a chainrule Var was used while no Recording of its scalar type is active; \
             keep Vars inside the closure or Recording that created them"
        );
        self.fail(Error::ForeignVariable);
    }

    /// Opens a new node with room for `edges` edges and returns its index, or
    /// 0 (the sink) when the tape is full, which the recording then reports.
    #[inline(always)]
    fn open_node(&mut self, edges: usize) -> u32 {
        if !self.room_for_node(edges) {
            return 0;
        }
        self.nodes += 1;
        self.nodes - 1
    }

    /// Whether one more node with `edges` edges fits: below the node limit,
    /// and both edge arrays with room for `edges` more (growing them if
    /// needed). Reports [`Error::TapeFull`] when not.
    #[inline(always)]
    fn room_for_node(&mut self, edges: usize) -> bool {
        if self.nodes as usize >= MAX_NODES {
            self.full(TapeLimit::Nodes(MAX_NODES));
            return false;
        }
        let len = self.parents.len();
        self.has_room(len, edges) || (self.grow(edges) && self.has_room(len, edges))
    }

    /// Reports that the recording needs more nodes than a tape holds.
    #[cold]
    pub(crate) fn report_node_limit(&mut self) {
        self.full(TapeLimit::Nodes(MAX_NODES));
    }

    #[cold]
    fn full(&mut self, limit: TapeLimit) {
        self.fail(Error::TapeFull {
            nodes: self.len(),
            limit,
        });
    }

    /// Makes room for `additional` more edges: doubling, capped by the byte
    /// limit, then a smaller step if the allocator refuses the doubling.
    /// Reports [`Error::TapeFull`] and returns false when no room is left, so
    /// a recording too large for memory is an error, not an abort.
    #[cold]
    #[inline(never)]
    fn grow(&mut self, additional: usize) -> bool {
        let len = self.parents.len();
        let needed = len + additional; // at most MAX_NODES · 3: no overflow
        let most = self.max_bytes / Self::BYTES_PER_EDGE;
        if needed > most {
            self.full(TapeLimit::Bytes(self.max_bytes));
            return false;
        }
        let capacity = self.parents.capacity().min(self.partials.capacity());
        let doubled = capacity.saturating_mul(2).max(needed).max(64).min(most);
        let modest = (capacity + capacity / 8).max(needed).min(most);
        for target in [doubled, modest] {
            let parents = self.parents.try_reserve_exact(target - self.parents.len());
            let partials = self.partials.try_reserve_exact(target - self.partials.len());
            if parents.is_ok() && partials.is_ok() {
                return true;
            }
        }
        self.full(TapeLimit::OutOfMemory {
            bytes: needed.saturating_mul(Self::BYTES_PER_EDGE),
        });
        false
    }

    /// Appends one edge; the node was opened with room for it.
    #[inline(always)]
    fn edge(&mut self, parent: u32, partial: T, first: bool) {
        self.parents.push(if first { parent | FIRST } else { parent });
        self.partials.push(partial);
    }

    /// Opens a node with `K` edges (the first flagged) and returns its index,
    /// or 0 (the sink) when the tape is full: the recording hot path, one
    /// capacity check for both arrays.
    #[inline(always)]
    fn push_node<const K: usize>(&mut self, edges: [(u32, T); K]) -> u32 {
        if !self.room_for_node(K) {
            return 0;
        }
        let index = self.nodes;
        let len = self.parents.len();
        // SAFETY: both arrays hold exactly `len` elements (the invariant on
        // `has_room`: they only ever change length together) and have room
        // for `K` more (`room_for_node` just returned true only once
        // `has_room(len, K)` held, and nothing touched the arrays since);
        // every slot up to `len + K` is written before `set_len`, and the
        // elements are plain `Copy` data.
        unsafe {
            let parents = self.parents.as_mut_ptr().add(len);
            let partials = self.partials.as_mut_ptr().add(len);
            for (k, (parent, partial)) in edges.into_iter().enumerate() {
                parents.add(k).write(if k == 0 { parent | FIRST } else { parent });
                partials.add(k).write(partial);
            }
            self.parents.set_len(len + K);
            self.partials.set_len(len + K);
        }
        self.nodes += 1;
        index
    }

    /// Whether both edge arrays have room for `k` more edges after `len`.
    ///
    /// Invariant: `parents` and `partials` always hold the same number of
    /// elements. They are private to this module, and every method here that
    /// changes their length changes both alike (`edge`, `push_node` push to
    /// both; `restart` clears or replaces both), so `len`, read from
    /// `parents`, is the length of `partials` too.
    #[inline(always)]
    fn has_room(&self, len: usize, k: usize) -> bool {
        debug_assert_eq!(self.partials.len(), len, "the edge arrays differ in length");
        self.parents.capacity() - len >= k && self.partials.capacity() - len >= k
    }

    /// Records a new input with the given value.
    pub(crate) fn record_input(&mut self, value: T) -> u32 {
        let index = self.open_node(1);
        if index != 0 {
            self.edge(0, T::zero(), true);
            self.inputs.push(index);
            self.log(NodeOp::Input, value, TraceArgs::none());
        }
        index
    }

    /// Records `op` applied to one node (the other arguments were constants).
    #[inline(always)]
    pub(crate) fn record_1(
        &mut self,
        parent: (u32, u32),
        partial: T,
        value: T,
        op: NodeOp,
        args: impl FnOnce() -> TraceArgs<T>,
    ) -> u32 {
        self.check(parent.1);
        let index = self.push_node([(parent.0, partial)]);
        if index != 0 && self.trace.is_some() {
            self.log(op, value, args());
        }
        index
    }

    /// Records `op` applied to two nodes.
    #[inline(always)]
    pub(crate) fn record_2(&mut self, a: (u32, u32), da: T, b: (u32, u32), db: T, value: T, op: NodeOp) -> u32 {
        self.check(a.1);
        self.check(b.1);
        let index = self.push_node([(a.0, da), (b.0, db)]);
        if index != 0 && self.trace.is_some() {
            self.log(op, value, TraceArgs::new(&[Arg::Node(a.0), Arg::Node(b.0)]));
        }
        index
    }

    /// Records an operation on any number of arguments, given as
    /// `(node, generation, partial)` for the non-constant ones.
    pub(crate) fn record_n(
        &mut self,
        edges: &[(u32, u32, T)],
        value: T,
        op: NodeOp,
        args: impl FnOnce() -> TraceArgs<T>,
    ) -> u32 {
        for &(_, generation, _) in edges {
            self.check(generation);
        }
        let index = self.open_node(edges.len());
        if index != 0 {
            for (k, &(parent, _, partial)) in edges.iter().enumerate() {
                self.edge(parent, partial, k == 0);
            }
            if self.trace.is_some() {
                self.log(op, value, args());
            }
        }
        index
    }

    /// Notes a comparison of `left` with `right` (given as `(index,
    /// generation, value)`) while tracing, if either is a variable of this
    /// recording.
    pub(crate) fn note_comparison(&mut self, left: (u32, u32, T), right: (u32, u32, T), outcome: Outcome) {
        let generation = self.generation;
        let Some(log) = self.trace.as_mut() else { return };
        // A variable of another recording counts as the constant it is here.
        let arg = |(index, owner, value): (u32, u32, T)| {
            if index != 0 && owner == generation {
                Arg::Node(index)
            } else {
                Arg::Constant(value)
            }
        };
        let (left, right) = (arg(left), arg(right));
        if matches!(left, Arg::Node(_)) || matches!(right, Arg::Node(_)) {
            log.comparisons.push(Comparison { left, right, outcome });
        }
    }

    /// Keeps the rule of the custom elementary function recorded at `node`,
    /// with its arguments, while tracing. Gives the rule back when not
    /// tracing, for the caller to drop with the tape released.
    pub(crate) fn note_rule(&mut self, node: u32, rule: Shared<T>, args: Vec<Arg<T>>) -> Option<Shared<T>> {
        match self.trace.as_mut() {
            Some(log) => {
                log.rules.push(CustomTrace { node, rule, args });
                None
            }
            None => Some(rule),
        }
    }

    /// Keeps the rule of the custom vector function whose outputs were
    /// recorded from `first_output`, while tracing; gives it back when not
    /// tracing, as [`note_rule`](Self::note_rule).
    pub(crate) fn note_vector_call(&mut self, call: VectorTrace<T>) -> Option<VectorTrace<T>> {
        match self.trace.as_mut() {
            Some(log) => {
                log.vector_calls.push(call);
                None
            }
            None => Some(call),
        }
    }

    fn log(&mut self, op: NodeOp, value: T, args: TraceArgs<T>) {
        if let Some(log) = self.trace.as_mut() {
            log.ops.push(op);
            log.values.push(value);
            log.args.push(args);
        }
    }

    /// Backward sweep: seeds adjoints at `seeds` (node, adjoint) and
    /// accumulates every node's adjoint into [`Tape::swept`].
    pub(crate) fn sweep_backward(&mut self, seeds: impl IntoIterator<Item = (u32, T)>) {
        let work = &mut self.work;
        work.clear();
        work.resize(self.nodes as usize, T::zero());
        for (node, seed) in seeds {
            work[node as usize] += seed;
        }
        // Node by node from the last: a node's adjoint is final once every
        // later node has been swept, and its edges are the run of edges ending
        // at the one flagged FIRST.
        let mut edge = self.parents.len();
        let mut node = self.nodes as usize - 1;
        while edge > 0 {
            let adjoint = work[node];
            node -= 1;
            if adjoint.is_zero() {
                // Nothing flows back: skip this node's edges.
                loop {
                    edge -= 1;
                    if self.parents[edge] & FIRST != 0 {
                        break;
                    }
                }
            } else if adjoint.is_plain_finite() {
                // A finite adjoint times any partial is already the strong-zero product.
                loop {
                    edge -= 1;
                    let parent = self.parents[edge];
                    work[(parent & INDEX) as usize] += self.partials[edge] * adjoint;
                    if parent & FIRST != 0 {
                        break;
                    }
                }
            } else {
                loop {
                    edge -= 1;
                    let parent = self.parents[edge];
                    work[(parent & INDEX) as usize] += chain(self.partials[edge], adjoint);
                    if parent & FIRST != 0 {
                        break;
                    }
                }
            }
        }
        // The sink collects the inputs' zero contributions; it has no adjoint.
        work[0] = T::zero();
    }

    /// Forward sweep: seeds tangents at `seeds` (node, tangent), usually the
    /// inputs, and propagates them to every node, into [`Tape::swept`].
    pub(crate) fn sweep_forward(&mut self, seeds: impl IntoIterator<Item = (u32, T)>) {
        let work = &mut self.work;
        work.clear();
        work.resize(self.nodes as usize, T::zero());
        for (node, seed) in seeds {
            work[node as usize] += seed;
        }
        let mut node = 0usize;
        for (&parent, &partial) in self.parents.iter().zip(self.partials.iter()) {
            if parent & FIRST != 0 {
                node += 1;
            }
            let incoming = work[(parent & INDEX) as usize];
            work[node] += chain(partial, incoming);
        }
    }

    /// `K` forward sweeps at once: each node carries a block of `K` tangents,
    /// so one pass over the edges serves `K` directions. `seeds` gives the
    /// tangent blocks of some nodes (usually the inputs); the result, one
    /// block per node, goes into `blocks`.
    pub(crate) fn sweep_forward_block<const K: usize>(&self, seeds: &[(u32, [T; K])], blocks: &mut Vec<[T; K]>) {
        blocks.clear();
        blocks.resize(self.nodes as usize, [T::zero(); K]);
        for &(node, seed) in seeds {
            blocks[node as usize] = seed;
        }
        self.forward_block_span(blocks, 0..self.parents.len(), 0);
    }

    /// The forward block sweep over the edges in `edges`, which begin at a
    /// node's first edge; `node` is the index of the node before that one.
    pub(crate) fn forward_block_span<const K: usize>(
        &self,
        blocks: &mut [[T; K]],
        edges: Range<usize>,
        mut node: usize,
    ) {
        let (parents, partials) = (&self.parents[edges.clone()], &self.partials[edges]);
        for (&parent, &partial) in parents.iter().zip(partials) {
            if parent & FIRST != 0 {
                node += 1;
            }
            let incoming = blocks[(parent & INDEX) as usize];
            if partial.is_zero() || T::all_zero(&incoming) {
                continue;
            }
            add_scaled(&mut blocks[node], partial, &incoming);
        }
    }

    /// `K` backward sweeps at once, each node carrying a block of `K`
    /// adjoints; `seeds` gives the blocks of some nodes (usually the outputs).
    pub(crate) fn sweep_backward_block<const K: usize>(&self, seeds: &[(u32, [T; K])], blocks: &mut Vec<[T; K]>) {
        blocks.clear();
        blocks.resize(self.nodes as usize, [T::zero(); K]);
        for &(node, seed) in seeds {
            for k in 0..K {
                blocks[node as usize][k] += seed[k];
            }
        }
        self.backward_block_span(blocks, 0..self.parents.len(), self.nodes as usize - 1);
        blocks[0] = [T::zero(); K];
    }

    /// The backward block sweep over the edges in `edges`, which end at a
    /// node's last edge; `node` is the index of that node.
    pub(crate) fn backward_block_span<const K: usize>(
        &self,
        blocks: &mut [[T; K]],
        edges: Range<usize>,
        mut node: usize,
    ) {
        let mut edge = edges.end;
        while edge > edges.start {
            let adjoint = blocks[node];
            node -= 1;
            let flowing = !T::all_zero(&adjoint);
            loop {
                edge -= 1;
                let parent = self.parents[edge];
                let partial = self.partials[edge];
                if flowing && !partial.is_zero() {
                    add_scaled(&mut blocks[(parent & INDEX) as usize], partial, &adjoint);
                }
                if parent & FIRST != 0 {
                    break;
                }
            }
        }
    }

    /// Number of nodes, the sink included.
    pub(crate) fn node_count(&self) -> u32 {
        self.nodes
    }

    /// Records the `values.len()` outputs of the custom vector function
    /// `name` of `arguments` (`(node, generation)`, node 0 for a constant) as
    /// new nodes, each with one edge to the sink like an input: the sweeps
    /// stop before these edges and run the call's callback instead. Returns
    /// the first output's node and edge, or `None` when the tape is full (the
    /// recording then reports it). The caller adds the [`Call`] to
    /// [`Tape::calls`].
    pub(crate) fn record_outputs(
        &mut self,
        name: &'static str,
        arguments: &[(u32, u32)],
        values: &[T],
    ) -> Option<(u32, usize)> {
        for &(node, generation) in arguments {
            if node != 0 {
                self.check(generation);
            }
        }
        let first = (self.nodes, self.parents.len());
        for &value in values {
            if self.open_node(1) == 0 {
                return None;
            }
            self.edge(0, T::zero(), true);
            self.log(NodeOp::Custom(name), value, TraceArgs::none());
        }
        Some(first)
    }

    /// The result of the last sweep, by node index (0 for the sink).
    pub(crate) fn swept(&self) -> &[T] {
        &self.work
    }

    /// The last sweep's result at the inputs, in creation order.
    pub(crate) fn swept_inputs(&self) -> Vec<T> {
        self.inputs.iter().map(|&i| self.work[i as usize]).collect()
    }
}

/// `target += partial · incoming`, lane by lane, with the strong zero of
/// [`chain`]. A finite nonzero partial times anything is already the
/// strong-zero product, so that case is a plain loop the compiler vectorizes.
#[inline(always)]
fn add_scaled<T: Real, const K: usize>(target: &mut [T; K], partial: T, incoming: &[T; K]) {
    if partial.is_plain_finite() && !partial.is_zero() {
        for (t, &x) in target.iter_mut().zip(incoming) {
            *t += partial * x;
        }
    } else {
        for (t, &x) in target.iter_mut().zip(incoming) {
            *t += chain(partial, x);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edge_costs_twelve_bytes_for_f64() {
        assert_eq!(Tape::<f64>::BYTES_PER_EDGE, 12);
    }

    #[test]
    fn sweeps_follow_recorded_edges() {
        // v1 = x, v2 = y, v3 = v1·v2 (partials y, x), v4 = sin(v3)
        let (x, y) = (2.0_f64, 3.0_f64);
        let mut tape = Tape::<f64>::new();
        let _no_calls = tape.restart(7, false, usize::MAX);
        let vx = tape.record_input(x);
        let vy = tape.record_input(y);
        let v3 = tape.record_2((vx, 7), y, (vy, 7), x, x * y, NodeOp::Binary(Binary::Mul));
        let v4 = tape.record_1(
            (v3, 7),
            (x * y).cos(),
            (x * y).sin(),
            NodeOp::Unary(Unary::Sin),
            TraceArgs::none,
        );
        assert_eq!(tape.len(), 4);
        assert_eq!(tape.edge_count(), 5);
        tape.sweep_backward([(v4, 1.0)]);
        let adjoints = tape.swept();
        assert_eq!(adjoints[vx as usize], 6f64.cos() * y);
        assert_eq!(adjoints[vy as usize], 6f64.cos() * x);
        tape.sweep_forward([(vx, 1.0)]);
        let tangents = tape.swept();
        assert_eq!(tangents[v4 as usize], 6f64.cos() * y);
    }

    #[test]
    fn foreign_generation_is_reported() {
        let mut tape = Tape::<f64>::new();
        let _no_calls = tape.restart(3, false, usize::MAX);
        let a = tape.record_input(1.0);
        tape.record_1((a, 2), 1.0, 1.0, NodeOp::Unary(Unary::Neg), TraceArgs::none);
        assert_eq!(tape.error, Some(Error::ForeignVariable));
    }
}

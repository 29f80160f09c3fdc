//! The tape: a flat Wengert list of local partial derivatives.
//!
//! Layout (struct of arrays, no pointers):
//!
//! - Node `0` is a *sink*: constants never reach the tape, and an input's
//!   single edge points here with partial 0, so every node has at least one
//!   edge and the sweeps need no special case for inputs.
//! - Each recorded node `i ≥ 1` owns one edge per non-constant argument, stored
//!   contiguously in recording order: `parents[e]` holds the parent's index
//!   and, in its top bits, [`FIRST`] on the node's first edge and the edge's
//!   *kind*. Most partials are not numbers worth storing: `+1` (sums), `−1`
//!   (differences, negation) and `0` (an input's edge to the sink) are kinds
//!   of their own, and only the other partials go to `partials`, in edge
//!   order. A sweep walks both arrays with two cursors. So a sum costs 8
//!   bytes, a negation 4, and a product 24 (two f64 partials, two u32
//!   indices), with no per-node header; the flag is all a sweep needs to
//!   know where nodes begin.
//! - Sweeps are plain loops over these arrays, backward for adjoints and
//!   forward for tangents: no recursion, whatever the graph's depth. A unit
//!   edge adds or subtracts without a multiplication, a zero edge is
//!   skipped: exactly the strong-zero chain rule's `±1·a` and `0·a`.
//! - Recording checks one bound per operation: the edges may grow up to
//!   `edge_limit` without looking at capacities or the node limit, which
//!   the cold path that sets it has already taken into account.
//!
//! Invariants, kept by every function here that appends edges, which the
//! backward sweep's unchecked reads rely on: there is one [`FIRST`] edge per
//! node after the sink, and edge 0 (if any) is one; every edge leads to an
//! earlier node of the same tape (a variable of another recording is
//! recorded as the sink); and `partials` holds exactly one partial per
//! stored edge, in edge order.
//!
//! With tracing on (for the graph module), each node also keeps its operation
//! and primal value.

use crate::Real;
use crate::custom::erased::Shared;
use crate::error::{Error, TapeLimit};
use crate::reverse::call::Call;
use crate::rules::{Binary, Unary, chain};

/// Set on the first edge of each node.
pub(crate) const FIRST: u32 = 1 << 31;
/// The bits of an edge that give its kind.
const KIND: u32 = 3 << 29;
/// An edge whose partial is the next one in `partials`.
const STORED: u32 = 0;
/// An edge whose partial is exactly `+1` (not stored).
const PLUS: u32 = 1 << 29;
/// An edge whose partial is exactly `−1` (not stored).
const MINUS: u32 = 2 << 29;
/// An edge whose partial is exactly 0 (not stored): an input's or a custom
/// call's output's edge to the sink, along which nothing flows. Only those
/// edges have it, so the backward sweep may add along it into the sink,
/// whose adjoint is dropped.
const ZERO: u32 = 3 << 29;
/// Extracts the parent index from an edge.
pub(crate) const INDEX: u32 = (1 << 29) - 1;
/// The most nodes one tape holds (node indices use 29 bits).
pub const MAX_NODES: usize = INDEX as usize;

/// The kind of an edge with this partial: a unit kind for exactly ±1,
/// otherwise stored. Only primitive floats are sorted (for composite numbers
/// a part that comparisons ignore may differ); a partial that is a literal
/// ±1 in the rule folds to its kind.
#[inline(always)]
fn kind_of<T: Real>(partial: T) -> u32 {
    if !T::PRIMITIVE {
        STORED
    } else if partial == T::one() {
        PLUS
    } else if partial == -T::one() {
        MINUS
    } else {
        STORED
    }
}

/// A place on the tape between two edges: how many edges, and how many
/// stored partials, come before it. Sweeps over part of a tape (between
/// custom calls) start and end at these.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Position {
    pub edge: usize,
    pub partial: usize,
}

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

impl NodeOp {
    /// Whether the operation's partials are the same numbers whatever its
    /// arguments (`−x`, `x + y`, `x − y`): the rule's ±1, which the
    /// recording sorts into unit edges at no cost once inlined. Other
    /// partials are stored without being looked at, so the hot path pays
    /// no comparison for them.
    #[inline(always)]
    fn has_constant_partials(self) -> bool {
        match self {
            NodeOp::Unary(op) => op.has_unit_slope(),
            NodeOp::Binary(op) => op.has_unit_partials(),
            _ => false,
        }
    }
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
    /// The stored partials, in edge order (unit and zero edges have none).
    partials: Vec<T>,
    /// One per edge: parent index, kind and [`FIRST`] flag.
    parents: Vec<u32>,
    /// Edges may be appended without a check while `parents.len()` stays
    /// within this: it is at most the room in `parents`, at most the room in
    /// `partials` counted from `parents.len()` (an edge stores at most one
    /// partial), and keeps the node count below [`MAX_NODES`] (a node has at
    /// least one edge). Only [`make_room`](Self::make_room) raises it, and
    /// `restart` resets it to 0.
    edge_limit: usize,
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
            edge_limit: 0,
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
        self.edge_limit = 0;
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
    #[cfg(test)]
    pub(crate) fn edge_count(&self) -> usize {
        self.parents.len()
    }

    /// Bytes of one stored partial and of one edge's parent index.
    const PARTIAL_BYTES: usize = std::mem::size_of::<T>();
    const INDEX_BYTES: usize = std::mem::size_of::<u32>();

    /// Bytes of tape in use: an index per edge and the stored partials.
    pub(crate) fn used_bytes(&self) -> usize {
        self.parents.len() * Self::INDEX_BYTES + self.partials.len() * Self::PARTIAL_BYTES
    }

    /// Bytes of edge storage allocated, used or not.
    pub(crate) fn capacity_bytes(&self) -> usize {
        self.partials.capacity() * Self::PARTIAL_BYTES + self.parents.capacity() * Self::INDEX_BYTES
    }

    /// Where the tape ends now.
    pub(crate) fn end(&self) -> Position {
        Position {
            edge: self.parents.len(),
            partial: self.partials.len(),
        }
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

    /// The node to record an edge to for the argument `(index, generation)`:
    /// its own if it belongs to this recording, otherwise (the recording
    /// then reports [`Error::ForeignVariable`]) the sink. So every edge on
    /// the tape leads to an earlier node of the same tape, which the
    /// backward sweep relies on.
    #[inline(always)]
    fn own(&mut self, (index, generation): (u32, u32)) -> u32 {
        if generation == self.generation {
            index
        } else {
            self.foreign();
            0
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
        if !self.room_for(edges) {
            return 0;
        }
        self.nodes += 1;
        self.nodes - 1
    }

    /// Whether a node with `edges` edges fits: the one check of the hot
    /// path (see [`Tape::edge_limit`]), with [`make_room`](Self::make_room)
    /// behind it.
    #[inline(always)]
    fn room_for(&mut self, edges: usize) -> bool {
        self.parents.len() + edges <= self.edge_limit || self.make_room(edges)
    }

    /// Makes room for a node with `edges` edges, growing the arrays if
    /// needed, and sets [`Tape::edge_limit`] anew. Reports
    /// [`Error::TapeFull`] and returns false when the node limit, the byte
    /// limit or the allocator refuses.
    #[cold]
    #[inline(never)]
    fn make_room(&mut self, edges: usize) -> bool {
        if self.nodes as usize >= MAX_NODES {
            self.full(TapeLimit::Nodes(MAX_NODES));
            return false;
        }
        // Under a byte limit each array takes its share of what is left: an
        // index per edge and (at most) a partial per edge.
        let per_edge = Self::INDEX_BYTES + Self::PARTIAL_BYTES;
        let partial_budget = self
            .max_bytes
            .saturating_sub(self.parents.capacity() * Self::INDEX_BYTES);
        let grown = grow(
            &mut self.partials,
            edges,
            partial_budget,
            (Self::PARTIAL_BYTES, per_edge),
            self.max_bytes,
        )
        .and_then(|()| {
            // The indices' budget is what the partials, grown, leave.
            let index_budget = self
                .max_bytes
                .saturating_sub(self.partials.capacity() * Self::PARTIAL_BYTES);
            grow(
                &mut self.parents,
                edges,
                index_budget,
                (Self::INDEX_BYTES, per_edge),
                self.max_bytes,
            )
        });
        if let Err(limit) = grown {
            self.full(limit);
            return false;
        }
        let nodes_left = MAX_NODES - self.nodes as usize;
        let room = (self.parents.capacity() - self.parents.len())
            .min(self.partials.capacity() - self.partials.len())
            .min(nodes_left.max(edges));
        self.edge_limit = self.parents.len() + room;
        true
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

    /// Appends one edge; the node was opened with room for it.
    #[inline(always)]
    fn edge(&mut self, parent: u32, partial: T, first: bool) {
        let kind = kind_of(partial);
        self.parents.push(parent | kind | if first { FIRST } else { 0 });
        if kind == STORED {
            self.partials.push(partial);
        }
    }

    /// Opens a node with `K` edges (the first flagged) and returns its index,
    /// or 0 (the sink) when the tape is full: the recording hot path, one
    /// bound check for both arrays and the node count. `sorted` says whether
    /// to sort the partials into kinds (see [`NodeOp::has_constant_partials`]);
    /// otherwise all are stored.
    #[inline(always)]
    fn push_node<const K: usize>(&mut self, edges: [(u32, T); K], sorted: bool) -> u32 {
        if !self.room_for(K) {
            return 0;
        }
        let index = self.nodes;
        let (len, stored) = (self.parents.len(), self.partials.len());
        let mut kept = 0;
        // SAFETY: `room_for(K)` held: either `len + K <= edge_limit`, and by
        // the invariant of `edge_limit` (set by `make_room` from the
        // capacities, after which each edge adds one index and at most one
        // partial, and reset by `restart` whenever the arrays are emptied or
        // replaced) `parents` has room for `K` more indices after `len` and
        // `partials` for `K` more after `stored`; or `make_room(K)` just made
        // that room. Slot `stored + kept` with `kept < K` is within it. Every
        // index slot up to `len + K` and every partial up to `stored + kept`
        // is written before `set_len`, and the elements are plain `Copy` data.
        unsafe {
            let parents = self.parents.as_mut_ptr().add(len);
            let partials = self.partials.as_mut_ptr().add(stored);
            for (k, (parent, partial)) in edges.into_iter().enumerate() {
                let kind = if sorted { kind_of(partial) } else { STORED };
                parents.add(k).write(parent | kind | if k == 0 { FIRST } else { 0 });
                if kind == STORED {
                    partials.add(kept).write(partial);
                    kept += 1;
                }
            }
            self.parents.set_len(len + K);
            self.partials.set_len(stored + kept);
        }
        self.nodes += 1;
        index
    }

    /// Records a new input with the given value.
    pub(crate) fn record_input(&mut self, value: T) -> u32 {
        let index = self.open_node(1);
        if index != 0 {
            self.parents.push(ZERO | FIRST);
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
        let parent = self.own(parent);
        let index = self.push_node([(parent, partial)], op.has_constant_partials());
        if index != 0 && self.trace.is_some() {
            self.log(op, value, args());
        }
        index
    }

    /// Records `op` applied to two nodes.
    #[inline(always)]
    pub(crate) fn record_2(&mut self, a: (u32, u32), da: T, b: (u32, u32), db: T, value: T, op: NodeOp) -> u32 {
        // One branch for both arguments.
        let (a, b) = if (a.1 ^ self.generation) | (b.1 ^ self.generation) != 0 {
            (self.own(a), self.own(b))
        } else {
            (a.0, b.0)
        };
        let index = self.push_node([(a, da), (b, db)], op.has_constant_partials());
        if index != 0 && self.trace.is_some() {
            self.log(op, value, TraceArgs::new(&[Arg::Node(a), Arg::Node(b)]));
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
        let index = self.open_node(edges.len());
        if index != 0 {
            for (k, &(parent, generation, partial)) in edges.iter().enumerate() {
                let parent = self.own((parent, generation));
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
        let (parents, partials) = (&self.parents[..], &self.partials[..]);
        let work = &mut work[..];
        // Node by node from the last: a node's adjoint is final once every
        // later node has been swept, and its edges are the run of edges ending
        // at the one flagged FIRST. `stored` counts the partials not yet passed.
        let mut edge = parents.len();
        let mut stored = partials.len();
        let mut node = self.nodes as usize - 1;
        while edge > 0 {
            // There are as many FIRST edges as nodes after the sink, so while
            // edges remain, `node` is a node with edges.
            let adjoint = work[node];
            node -= 1;
            if adjoint.is_zero() {
                // Nothing flows back: skip this node's edges.
                loop {
                    edge -= 1;
                    let parent = parents[edge];
                    stored -= usize::from(parent & KIND == STORED);
                    if parent & FIRST != 0 {
                        break;
                    }
                }
                continue;
            }
            // A finite adjoint times any partial is already the strong-zero
            // product; otherwise each stored partial goes through `chain`.
            // SAFETY: `work` has one slot per node (resized above), `edge`
            // follows the last edge of node `node + 1`, and `stored` counts
            // the stored edges before `edge` (all the partials at the start,
            // one fewer for each stored edge passed).
            (edge, stored) = unsafe {
                if adjoint.is_plain_finite() {
                    pull_node::<T, false>(parents, partials, work, edge, stored, adjoint)
                } else {
                    pull_node::<T, true>(parents, partials, work, edge, stored, adjoint)
                }
            };
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
        let mut stored = 0usize;
        for &parent in &self.parents {
            if parent & FIRST != 0 {
                node += 1;
            }
            let incoming = work[(parent & INDEX) as usize];
            match parent & KIND {
                STORED => {
                    work[node] += chain(self.partials[stored], incoming);
                    stored += 1;
                }
                PLUS => work[node] += incoming,
                MINUS => work[node] -= incoming,
                _ => {}
            }
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
        self.forward_block_span(blocks, Position::default(), self.end(), 0);
    }

    /// The forward block sweep over the edges from `from` to `to`; `from`
    /// is a node's first edge, and `node` the index of the node before it.
    pub(crate) fn forward_block_span<const K: usize>(
        &self,
        blocks: &mut [[T; K]],
        from: Position,
        to: Position,
        mut node: usize,
    ) {
        let mut stored = from.partial;
        for &parent in &self.parents[from.edge..to.edge] {
            if parent & FIRST != 0 {
                node += 1;
            }
            let incoming = blocks[(parent & INDEX) as usize];
            let kind = parent & KIND;
            let partial = if kind == STORED {
                stored += 1;
                self.partials[stored - 1]
            } else {
                T::zero()
            };
            if kind == ZERO || T::all_zero(&incoming) {
                continue;
            }
            add_along(&mut blocks[node], kind, partial, &incoming);
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
        self.backward_block_span(blocks, Position::default(), self.end(), self.nodes as usize - 1);
        blocks[0] = [T::zero(); K];
    }

    /// The backward block sweep over the edges from `from` to `to`; `to`
    /// follows the last edge of node `node`.
    pub(crate) fn backward_block_span<const K: usize>(
        &self,
        blocks: &mut [[T; K]],
        from: Position,
        to: Position,
        mut node: usize,
    ) {
        let (mut edge, mut stored) = (to.edge, to.partial);
        while edge > from.edge {
            let adjoint = blocks[node];
            node -= 1;
            let flowing = !T::all_zero(&adjoint);
            loop {
                edge -= 1;
                let parent = self.parents[edge];
                let kind = parent & KIND;
                let partial = if kind == STORED {
                    stored -= 1;
                    self.partials[stored]
                } else {
                    T::zero()
                };
                if flowing && kind != ZERO {
                    add_along(&mut blocks[(parent & INDEX) as usize], kind, partial, &adjoint);
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
    /// new nodes, each with one zero edge to the sink like an input: the
    /// sweeps stop before these edges and run the call's callback instead.
    /// Returns the first output's node and where its edge is, or `None` when
    /// the tape is full (the recording then reports it). The caller adds the
    /// [`Call`] to [`Tape::calls`].
    pub(crate) fn record_outputs(
        &mut self,
        name: &'static str,
        arguments: &[(u32, u32)],
        values: &[T],
    ) -> Option<(u32, Position)> {
        for &(node, generation) in arguments {
            if node != 0 {
                self.check(generation);
            }
        }
        let first = (self.nodes, self.end());
        for &value in values {
            if self.open_node(1) == 0 {
                return None;
            }
            self.parents.push(ZERO | FIRST);
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

/// Adds the contributions of one node with adjoint `adjoint` to its
/// parents' adjoints in `work`: its edges are the ones before `edge` back
/// to the one flagged [`FIRST`], and its stored partials the ones before
/// `stored`. Returns both cursors moved past the node. `STRONG` sends each
/// stored partial through [`chain`] (for an adjoint that is not finite);
/// unit edges add `±adjoint`, which is what `chain(±1, adjoint)` is. A zero
/// edge (which leads to the sink, whose adjoint is dropped) adds `−adjoint`
/// there, as it carries the `MINUS` bit.
///
/// # Safety
/// `parents` and `partials` are a tape's arrays and `work` has one slot per
/// node of that tape; `edge` is 0 or follows the last edge of a node, which
/// is below `work.len()`, and `stored` counts the stored edges before
/// `edge`. The tape's invariants (see [`Tape`]) then keep every index in
/// bounds: the node's run of edges ends at a `FIRST` edge at or after 0,
/// each of its edges leads to an earlier node, and each stored edge before
/// `edge` has its partial before `stored`.
#[inline(always)]
unsafe fn pull_node<T: Real, const STRONG: bool>(
    parents: &[u32],
    partials: &[T],
    work: &mut [T],
    mut edge: usize,
    mut stored: usize,
    adjoint: T,
) -> (usize, usize) {
    loop {
        edge -= 1;
        debug_assert!(edge < parents.len());
        // SAFETY: the run of edges ends at a FIRST edge, and edge 0 is one,
        // so `edge` stays in `0..parents.len()` (the caller's contract).
        let parent = unsafe { *parents.get_unchecked(edge) };
        let contribution = if parent & KIND == STORED {
            stored -= 1;
            debug_assert!(stored < partials.len());
            // SAFETY: this edge is stored and before the cursor, so its
            // partial is at `stored`, below `partials.len()`.
            let partial = unsafe { *partials.get_unchecked(stored) };
            if STRONG {
                chain(partial, adjoint)
            } else {
                partial * adjoint
            }
        } else if parent & MINUS != 0 {
            -adjoint
        } else {
            adjoint
        };
        let target = (parent & INDEX) as usize;
        debug_assert!(target < work.len());
        // SAFETY: an edge leads to an earlier node of the same tape (the
        // invariant kept by `Tape::own` and the recording functions), and
        // `work` has a slot for every node.
        unsafe { *work.get_unchecked_mut(target) += contribution };
        if parent & FIRST != 0 {
            return (edge, stored);
        }
    }
}

/// `target += partial · incoming`, lane by lane, with the strong zero of
/// [`chain`], for an edge of kind `kind` (not [`ZERO`]); `partial` is read
/// only for a stored one. A finite nonzero partial times anything is already
/// the strong-zero product, so that case is a plain loop the compiler
/// vectorizes, as are the unit kinds.
#[inline(always)]
fn add_along<T: Real, const K: usize>(target: &mut [T; K], kind: u32, partial: T, incoming: &[T; K]) {
    match kind {
        PLUS => {
            for (t, &x) in target.iter_mut().zip(incoming) {
                *t += x;
            }
        }
        MINUS => {
            for (t, &x) in target.iter_mut().zip(incoming) {
                *t -= x;
            }
        }
        _ if partial.is_zero() => {}
        _ if partial.is_plain_finite() => {
            for (t, &x) in target.iter_mut().zip(incoming) {
                *t += partial * x;
            }
        }
        _ => {
            for (t, &x) in target.iter_mut().zip(incoming) {
                *t += chain(partial, x);
            }
        }
    }
}

/// Makes room in `vec` for `additional` more elements within `budget` bytes
/// of capacity: doubling, but taking at most `share` of what the budget
/// leaves beyond what is needed (so that under a byte limit the other array
/// keeps room to grow), then a smaller step if the allocator refuses. A
/// recording too large for memory is an error, not an abort.
fn grow<E>(
    vec: &mut Vec<E>,
    additional: usize,
    budget: usize,
    share: (usize, usize),
    max_bytes: usize,
) -> Result<(), TapeLimit> {
    let len = vec.len();
    if vec.capacity() - len >= additional {
        return Ok(());
    }
    let size = std::mem::size_of::<E>();
    let needed = len + additional; // at most MAX_NODES · 3: no overflow
    let most = budget / size;
    if needed > most {
        return Err(TapeLimit::Bytes(max_bytes));
    }
    let capacity = vec.capacity();
    let doubled = capacity.saturating_mul(2).max(needed).max(64);
    let target = doubled.min(needed + (most - needed) / share.1 * share.0);
    let modest = (capacity + capacity / 8).max(needed).min(target);
    for target in [target, modest] {
        if vec.try_reserve_exact(target - len).is_ok() {
            return Ok(());
        }
    }
    Err(TapeLimit::OutOfMemory {
        bytes: needed.saturating_mul(size),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edges_cost_four_bytes_and_stored_partials_eight_for_f64() {
        assert_eq!((Tape::<f64>::INDEX_BYTES, Tape::<f64>::PARTIAL_BYTES), (4, 8));
    }

    #[test]
    fn sweeps_follow_recorded_edges() {
        // v1 = x, v2 = y, v3 = v1·v2 (partials y, x), v4 = sin(v3). The
        // cosine is computed once: Miri's cos may differ between calls.
        let (x, y) = (2.0_f64, 3.0_f64);
        let slope = (x * y).cos();
        let mut tape = Tape::<f64>::new();
        let _no_calls = tape.restart(7, false, usize::MAX);
        let vx = tape.record_input(x);
        let vy = tape.record_input(y);
        let v3 = tape.record_2((vx, 7), y, (vy, 7), x, x * y, NodeOp::Binary(Binary::Mul));
        let v4 = tape.record_1(
            (v3, 7),
            slope,
            (x * y).sin(),
            NodeOp::Unary(Unary::Sin),
            TraceArgs::none,
        );
        assert_eq!(tape.len(), 4);
        assert_eq!(tape.edge_count(), 5);
        tape.sweep_backward([(v4, 1.0)]);
        let adjoints = tape.swept();
        assert_eq!(adjoints[vx as usize], slope * y);
        assert_eq!(adjoints[vy as usize], slope * x);
        tape.sweep_forward([(vx, 1.0)]);
        let tangents = tape.swept();
        assert_eq!(tangents[v4 as usize], slope * y);
    }

    #[test]
    fn unit_edges_store_no_partial_and_sweep_as_the_chain_rule() {
        // z = x + y, w = z − y, n = −w: five unit edges, no stored partial.
        let mut tape = Tape::<f64>::new();
        let _no_calls = tape.restart(5, false, usize::MAX);
        let x = tape.record_input(1.0);
        let y = tape.record_input(2.0);
        let z = tape.record_2((x, 5), 1.0, (y, 5), 1.0, 3.0, NodeOp::Binary(Binary::Add));
        let w = tape.record_2((z, 5), 1.0, (y, 5), -1.0, 1.0, NodeOp::Binary(Binary::Sub));
        let n = tape.record_1((w, 5), -1.0, -1.0, NodeOp::Unary(Unary::Neg), TraceArgs::none);
        assert_eq!((tape.edge_count(), tape.partials.len()), (7, 0));
        let kinds: Vec<u32> = tape.parents.iter().map(|p| p & KIND).collect();
        assert_eq!(kinds, [ZERO, ZERO, PLUS, PLUS, PLUS, MINUS, MINUS]);
        tape.sweep_backward([(n, 1.0)]);
        assert_eq!((tape.swept()[x as usize], tape.swept()[y as usize]), (-1.0, 0.0));
        // An infinite adjoint flows as ±∞ (what chain(±1, ∞) gives), and
        // meets itself at y as ∞ − ∞.
        tape.sweep_backward([(w, f64::INFINITY)]);
        assert_eq!(tape.swept()[x as usize], f64::INFINITY);
        assert!(tape.swept()[y as usize].is_nan());
        assert_eq!(tape.swept()[0], 0.0, "the sink's adjoint is dropped");
        tape.sweep_forward([(x, 1.0), (y, 10.0)]);
        assert_eq!(tape.swept()[n as usize], -1.0);
        let mut blocks = Vec::new();
        tape.sweep_backward_block(&[(n, [1.0, f64::NAN])], &mut blocks);
        assert_eq!(blocks[x as usize][0], -1.0);
        assert!(blocks[x as usize][1].is_nan() && blocks[y as usize][1].is_nan());
        tape.sweep_forward_block(&[(x, [1.0, 0.0]), (y, [0.0, 1.0])], &mut blocks);
        assert_eq!(blocks[n as usize], [-1.0, 0.0]);
    }

    #[test]
    fn a_foreign_argument_is_recorded_as_the_sink() {
        let mut tape = Tape::<f64>::new();
        let _no_calls = tape.restart(3, false, usize::MAX);
        let a = tape.record_input(1.0);
        // Node 1_000 of recording 2 does not exist here.
        tape.record_2((a, 3), 2.0, (1_000, 2), 3.0, 0.0, NodeOp::Binary(Binary::Mul));
        assert_eq!(tape.error, Some(Error::ForeignVariable));
        assert!(tape.parents.iter().all(|&p| (p & INDEX) < tape.nodes));
    }

    #[test]
    fn a_byte_limit_is_shared_by_both_arrays() {
        // sin: 12 bytes a node, so 100 fit in 1200 bytes; the arrays grow
        // towards the limit without one taking the other's share.
        let mut tape = Tape::<f64>::new();
        let _no_calls = tape.restart(4, false, 1200);
        let mut y = tape.record_input(0.5);
        while tape.error.is_none() {
            y = tape.record_1((y, 4), 0.5, 0.5, NodeOp::Unary(Unary::Sin), TraceArgs::none);
        }
        assert!(tape.capacity_bytes() <= 1200);
        assert!(tape.len() >= 90, "{} nodes in 1200 bytes", tape.len());
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

//! One custom vector function recorded on a tape: where its outputs are,
//! which nodes it reads, and the user's callbacks that the sweeps in
//! [`call_sweeps`](super::call_sweeps) run.

use std::rc::Rc;

use crate::reverse::tape::Position;

/// A vector-Jacobian or Jacobian-vector product of one recorded call: the
/// outputs' adjoints to the arguments' adjoints, or the arguments' tangents
/// to the outputs' tangents.
pub(crate) type Callback<T> = Rc<dyn Fn(&[T]) -> Vec<T>>;

/// One custom vector function recorded on a tape.
#[derive(Clone)]
pub(crate) struct Call<T> {
    /// The function's name, for errors and pictures.
    pub name: &'static str,
    /// The first output's node; the outputs are consecutive.
    pub first_output: u32,
    /// Number of outputs.
    pub outputs: u32,
    /// Where the first output node's edge is (each output has one, a zero
    /// edge with no stored partial).
    pub first_edge: Position,
    /// The argument nodes, in order; 0 (the sink) for a constant argument.
    pub arguments: Vec<u32>,
    /// Adjoints of the outputs to adjoints of the arguments.
    pub vjp: Callback<T>,
    /// Tangents of the arguments to tangents of the outputs, if the function
    /// has a forward rule.
    pub jvp: Option<Callback<T>>,
}

impl<T> Call<T> {
    /// A call of `name` on `arguments` with `outputs` outputs; the tape fills
    /// in where its nodes are when it records it.
    pub(crate) fn new(
        name: &'static str,
        arguments: Vec<u32>,
        outputs: u32,
        vjp: Callback<T>,
        jvp: Option<Callback<T>>,
    ) -> Self {
        Call {
            name,
            first_output: 0,
            outputs,
            first_edge: Position::default(),
            arguments,
            vjp,
            jvp,
        }
    }

    /// Where the edge after the outputs' edges is.
    pub(crate) fn after_outputs(&self) -> Position {
        Position {
            edge: self.first_edge.edge + self.outputs as usize,
            partial: self.first_edge.partial,
        }
    }

    pub(crate) fn output_nodes(&self) -> std::ops::Range<usize> {
        let first = self.first_output as usize;
        first..first + self.outputs as usize
    }
}

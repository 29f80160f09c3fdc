//! [`record`]: runs a function once on a traced tape and keeps its program.

use foldhash::{HashMap, HashMapExt};

use super::{CustomNode, Guard, Op, Passes, Program, VectorNode};
use crate::error::{Error, Result};
use crate::reverse::tape::{Arg, NodeOp, Tape};
use crate::reverse::{Recording, TapeScalar, Var};

/// What a recorded function returns: one variable or several.
pub trait Outputs<S> {
    /// The outputs, in order.
    fn into_outputs(self) -> Vec<Var<S>>;
}

impl<S: TapeScalar> Outputs<S> for Var<S> {
    fn into_outputs(self) -> Vec<Var<S>> {
        vec![self]
    }
}

impl<S: TapeScalar> Outputs<S> for Vec<Var<S>> {
    fn into_outputs(self) -> Vec<Var<S>> {
        self
    }
}

/// Runs `f` once at `x` and returns its [`Program`], with every pass on.
///
/// `f` may return one variable (a scalar function) or a `Vec` of them.
///
/// # Errors
/// As [`grad`](crate::grad): a full tape, or a variable from another
/// recording among the outputs.
pub fn record<S: TapeScalar, O: Outputs<S>>(f: impl Fn(&[Var<S>]) -> O, x: &[S]) -> Result<Program<S>> {
    record_with(Passes::ALL, f, x)
}

/// [`record`] with a choice of [`Passes`].
///
/// ```
/// use chainrule::program::{record_with, Passes};
/// use num_traits::Float;
/// // sin(x) twice: common-subexpression elimination keeps one.
/// let f = |x: &[chainrule::Var<f64>]| x[0].sin() + x[0].sin();
/// assert_eq!(record_with(Passes::ALL, f, &[1.0])?.len(), 3);
/// assert_eq!(record_with(Passes::NONE, f, &[1.0])?.len(), 4);
/// # Ok::<(), chainrule::Error>(())
/// ```
///
/// # Errors
/// As [`record`].
pub fn record_with<S: TapeScalar, O: Outputs<S>>(
    passes: Passes,
    f: impl Fn(&[Var<S>]) -> O,
    x: &[S],
) -> Result<Program<S>> {
    let rec = Recording::<S>::traced();
    let inputs = rec.inputs(x);
    let outputs = f(&inputs).into_outputs();
    let program = rec.sweepable(&outputs, |tape| build(tape, &outputs))??;
    Ok(passes.apply(program).prepare_sweeps())
}

/// Builds the program from a traced tape: inputs first, then each recorded
/// operation, constants as nodes where first used.
fn build<S: TapeScalar>(tape: &Tape<S>, outputs: &[Var<S>]) -> Result<Program<S>> {
    let log = tape.trace().ok_or(Error::RecordingNotActive)?;
    let mut builder = Builder::default();
    // Tape index → program node.
    let mut node_of = vec![u32::MAX; log.ops.len()];
    for (k, &tape_index) in tape.inputs().iter().enumerate() {
        node_of[tape_index as usize] = builder.push(Op::Input(k as u32), [0; 3]);
    }
    builder.inputs = tape.inputs().len();
    // The custom rules and vector functions kept while tracing, in node order.
    let mut rules = log.rules.iter().peekable();
    let mut vector_calls = log.vector_calls.iter().peekable();
    for tape_index in 1..log.ops.len() {
        if node_of[tape_index] != u32::MAX {
            // An input, or a vector function's output already placed.
            continue;
        }
        let op = match log.ops[tape_index] {
            NodeOp::Input => continue,
            NodeOp::Unary(u) => Op::Unary(u),
            NodeOp::Binary(b) => Op::Binary(b),
            NodeOp::MulAdd => Op::MulAdd,
            NodeOp::Custom(operation) => {
                // An elementary rule was kept; a custom vector function's
                // outputs have none.
                if let Some(call) = vector_calls.next_if(|c| c.first_output as usize == tape_index) {
                    let args = call.args.iter().map(|&arg| builder.arg(arg, &node_of)).collect();
                    let index = builder.vector_calls.len() as u32;
                    let first = builder.ops.len() as u32;
                    for output in 0..call.outputs {
                        let node = builder.push(Op::CustomOutput { call: index, output }, [0; 3]);
                        node_of[tape_index + output as usize] = node;
                    }
                    builder.vector_calls.push(VectorNode {
                        rule: call.rule.clone(),
                        args,
                        first,
                        outputs: call.outputs,
                    });
                    continue;
                }
                let Some(custom) = rules.next_if(|c| c.node as usize == tape_index) else {
                    return Err(Error::NotRecordable { operation });
                };
                let args = custom.args.iter().map(|&arg| builder.arg(arg, &node_of)).collect();
                builder.customs.push(CustomNode {
                    rule: custom.rule.clone(),
                    args,
                });
                node_of[tape_index] = builder.push(Op::Custom((builder.customs.len() - 1) as u32), [0; 3]);
                continue;
            }
        };
        let mut args = [0u32; 3];
        for (slot, arg) in args.iter_mut().zip(log.args[tape_index].iter()) {
            *slot = builder.arg(*arg, &node_of);
        }
        node_of[tape_index] = builder.push(op, args);
    }
    for comparison in &log.comparisons {
        let left = builder.arg(comparison.left, &node_of);
        let right = builder.arg(comparison.right, &node_of);
        builder.guards.push(Guard {
            left,
            right,
            outcome: comparison.outcome,
        });
    }
    let outputs = outputs
        .iter()
        .map(|v| {
            builder.arg(
                if v.is_constant() {
                    Arg::Constant(v.value())
                } else {
                    Arg::Node(v.index())
                },
                &node_of,
            )
        })
        .collect();
    Ok(Program {
        ops: builder.ops,
        args: builder.args,
        customs: builder.customs,
        vector_calls: builder.vector_calls,
        constants: builder.constants,
        inputs: builder.inputs,
        outputs,
        guards: builder.guards,
        sparse: Default::default(),
        steps: Vec::new(),
    })
}

/// The program under construction.
struct Builder<S> {
    ops: Vec<Op>,
    args: Vec<[u32; 3]>,
    customs: Vec<CustomNode<S>>,
    vector_calls: Vec<VectorNode<S>>,
    constants: Vec<S>,
    /// Node of each distinct constant of a primitive float, by the bits of
    /// its `f64` value (exact for `f32` and `f64`, so equal bits are equal
    /// constants).
    constant_nodes: HashMap<u64, u32>,
    inputs: usize,
    guards: Vec<Guard>,
}

impl<S> Default for Builder<S> {
    fn default() -> Self {
        Builder {
            ops: Vec::new(),
            args: Vec::new(),
            customs: Vec::new(),
            vector_calls: Vec::new(),
            constants: Vec::new(),
            constant_nodes: HashMap::new(),
            inputs: 0,
            guards: Vec::new(),
        }
    }
}

impl<S: TapeScalar> Builder<S> {
    fn push(&mut self, op: Op, args: [u32; 3]) -> u32 {
        self.ops.push(op);
        self.args.push(args);
        (self.ops.len() - 1) as u32
    }

    /// The node of an argument: a recorded node, or a constant node (one per
    /// distinct constant).
    fn arg(&mut self, arg: Arg<S>, node_of: &[u32]) -> u32 {
        match arg {
            Arg::Node(index) => node_of[index as usize],
            Arg::Constant(value) => {
                // One node per distinct constant of a primitive float (equal
                // bits); constants of composite numbers are kept apart.
                let key = S::PRIMITIVE.then(|| value.to_f64().map(f64::to_bits)).flatten();
                if let Some(&node) = key.and_then(|key| self.constant_nodes.get(&key)) {
                    return node;
                }
                self.constants.push(value);
                let node = self.push(Op::Constant((self.constants.len() - 1) as u32), [0; 3]);
                if let Some(key) = key {
                    self.constant_nodes.insert(key, node);
                }
                node
            }
        }
    }
}

//! [`Graph`]: the computational graph of a recording, as a value.

use crate::error::{Error, Result, check_len};
use crate::reverse::tape::{Arg, NodeOp, TraceArgs};
use crate::rules::{self, Binary, Unary, chain};
use crate::{Recording, Var};

/// What a graph node computes.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum GraphOp {
    /// Input number `k` (in the order the inputs were given).
    Input(usize),
    /// A constant operand.
    Constant,
    /// An elementary function of one argument.
    Unary(Unary),
    /// An elementary function of two arguments.
    Binary(Binary),
    /// `a·b + c`.
    MulAdd,
}

/// One node: its operation, the nodes it reads, the local partial derivative
/// with respect to each of them, and its value.
#[derive(Clone, Debug, PartialEq)]
pub struct GraphNode {
    /// What the node computes.
    pub op: GraphOp,
    /// Indices of the nodes it reads, in argument order.
    pub args: Vec<usize>,
    /// `∂node/∂args[k]`, from the rule table at the recorded values.
    pub partials: Vec<f64>,
    /// The primal value.
    pub value: f64,
}

/// A computational graph: a DAG of elementary operations in evaluation
/// order, captured from a traced [`Recording`].
///
/// A variable used twice is one node with two out-edges; its adjoint is the
/// sum over them. Inputs come first, numbered as in the textbooks (with `n`
/// inputs: `v_{1-n} … v_0`), then constants and operations `v_1, v_2, …`.
///
/// ```
/// use chainrule::graph::capture;
/// use num_traits::Float;
///
/// // Baydin et al. (2018): f(x1, x2) = ln(x1) + x1·x2 − sin(x2)
/// let graph = capture(|x| vec![x[0].ln() + x[0] * x[1] - x[1].sin()], &[2.0, 5.0]).unwrap();
/// assert_eq!(graph.len(), 7);
/// let adjoints = graph.adjoints(&[1.0]).unwrap();
/// assert_eq!(adjoints[0], 5.5); // x̄1
/// assert_eq!(graph.id(0), "v-1");
/// assert_eq!(graph.id(6), "v5");
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Graph {
    nodes: Vec<GraphNode>,
    input_names: Vec<String>,
    outputs: Vec<usize>,
}

/// Records `f` at `x` with tracing on and captures its graph.
///
/// # Errors
/// As [`grad`](crate::grad).
pub fn capture(f: impl Fn(&[Var<f64>]) -> Vec<Var<f64>>, x: &[f64]) -> Result<Graph> {
    let rec = Recording::traced();
    let inputs = rec.inputs(x);
    let outputs = f(&inputs);
    Graph::from_recording(&rec, &outputs)
}

impl Graph {
    /// The graph of everything `rec` recorded, with `outputs` marked.
    ///
    /// # Errors
    /// [`Error::RecordingNotActive`], [`Error::ForeignVariable`] if an output
    /// is from another recording, [`Error::NotTraced`] if `rec` was not
    /// created with [`Recording::traced`] (there is nothing to capture), or
    /// [`Error::NotRecordable`] if it applied a custom elementary function.
    pub fn from_recording(rec: &Recording<f64>, outputs: &[Var<f64>]) -> Result<Graph> {
        // Checks that the outputs belong to `rec` and nothing went wrong while recording.
        rec.sweepable(outputs, |tape| {
            let trace = tape.trace().ok_or(Error::NotTraced)?;
            if let Some(&NodeOp::Custom(operation)) = trace.ops.iter().find(|op| matches!(op, NodeOp::Custom(_))) {
                return Err(Error::NotRecordable { operation });
            }
            Ok(Self::build(
                &trace.ops,
                &trace.values,
                &trace.args,
                tape.inputs(),
                outputs,
            ))
        })?
    }

    fn build(ops: &[NodeOp], values: &[f64], args: &[TraceArgs<f64>], inputs: &[u32], outputs: &[Var<f64>]) -> Graph {
        let mut nodes = Vec::with_capacity(ops.len());
        // Tape index → graph index. Inputs first, in input order.
        let mut map = vec![usize::MAX; ops.len()];
        for (k, &tape_index) in inputs.iter().enumerate() {
            map[tape_index as usize] = nodes.len();
            nodes.push(GraphNode {
                op: GraphOp::Input(k),
                args: Vec::new(),
                partials: Vec::new(),
                value: values[tape_index as usize],
            });
        }
        let constant = |nodes: &mut Vec<GraphNode>, value: f64| {
            nodes.push(GraphNode {
                op: GraphOp::Constant,
                args: Vec::new(),
                partials: Vec::new(),
                value,
            });
            nodes.len() - 1
        };
        for tape_index in 1..ops.len() {
            let op = match ops[tape_index] {
                NodeOp::Input => continue,
                NodeOp::Unary(u) => GraphOp::Unary(u),
                NodeOp::Binary(b) => GraphOp::Binary(b),
                NodeOp::MulAdd => GraphOp::MulAdd,
                NodeOp::Custom(_) => unreachable!("custom operations are refused before the graph is built"),
            };
            let mut node_args = Vec::with_capacity(args[tape_index].len());
            for arg in args[tape_index].iter() {
                node_args.push(match *arg {
                    Arg::Node(parent) => map[parent as usize],
                    Arg::Constant(value) => constant(&mut nodes, value),
                });
            }
            let arg_values: Vec<f64> = node_args.iter().map(|&a| nodes[a].value).collect();
            let partials = local_partials(op, &arg_values);
            map[tape_index] = nodes.len();
            nodes.push(GraphNode {
                op,
                args: node_args,
                partials,
                value: values[tape_index],
            });
        }
        let outputs = outputs
            .iter()
            .map(|v| {
                if v.is_constant() {
                    constant(&mut nodes, v.value())
                } else {
                    map[v.index() as usize]
                }
            })
            .collect();
        let input_names = (1..=inputs.len()).map(|k| format!("x{k}")).collect();
        let (nodes, outputs) = layered(nodes, outputs);
        Graph {
            nodes,
            input_names,
            outputs,
        }
    }

    /// Names the inputs (default `x1, x2, …`).
    ///
    /// # Errors
    /// [`Error::LengthMismatch`] unless there is one name per input.
    pub fn with_input_names<S: AsRef<str>>(mut self, names: &[S]) -> Result<Self> {
        check_len("input names", self.input_count(), names.len())?;
        self.input_names = names.iter().map(|n| n.as_ref().to_string()).collect();
        Ok(self)
    }

    /// Number of nodes (inputs, constants and operations).
    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    /// Whether the graph has no nodes.
    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    /// The nodes in evaluation order.
    pub fn nodes(&self) -> &[GraphNode] {
        &self.nodes
    }

    /// Node indices of the outputs.
    pub fn outputs(&self) -> &[usize] {
        &self.outputs
    }

    /// Number of inputs.
    pub fn input_count(&self) -> usize {
        self.input_names.len()
    }

    /// The input names.
    pub fn input_names(&self) -> &[String] {
        &self.input_names
    }

    /// The textbook name of node `i`: `v-1`, `v0` for two inputs, then `v1`, ….
    pub fn id(&self, i: usize) -> String {
        let n = self.input_count() as i64;
        match self.nodes[i].op {
            GraphOp::Input(k) => format!("v{}", k as i64 + 1 - n),
            _ => format!("v{}", i as i64 + 1 - n),
        }
    }

    /// What node `i` computes, in terms of its arguments' ids, e.g.
    /// `ln(v-1)`, `v-1 × v0`, or the input's name.
    pub fn definition(&self, i: usize) -> String {
        self.definition_with(i, |a| self.id(a))
    }

    /// What node `i` computes, with each argument written by `name` (given
    /// the argument's node index): [`definition`](Graph::definition) with
    /// ids, or the same formula with the arguments' values.
    pub fn definition_with(&self, i: usize, name: impl Fn(usize) -> String) -> String {
        let node = &self.nodes[i];
        let arg = |k: usize| name(node.args[k]);
        match node.op {
            GraphOp::Input(k) => self.input_names[k].clone(),
            GraphOp::Constant => format_number(node.value),
            GraphOp::Unary(Unary::Neg) => format!("−{}", arg(0)),
            GraphOp::Unary(Unary::Powi(n)) => format!("{}^{n}", arg(0)),
            GraphOp::Unary(op) => format!("{}({})", op.name(), arg(0)),
            GraphOp::Binary(op) => match op {
                Binary::Add => format!("{} + {}", arg(0), arg(1)),
                Binary::Sub => format!("{} − {}", arg(0), arg(1)),
                Binary::Mul => format!("{} × {}", arg(0), arg(1)),
                Binary::Div => format!("{} / {}", arg(0), arg(1)),
                Binary::Powf => format!("{} ^ {}", arg(0), arg(1)),
                _ => format!("{}({}, {})", op.name(), arg(0), arg(1)),
            },
            GraphOp::MulAdd => format!("{} × {} + {}", arg(0), arg(1), arg(2)),
        }
    }

    /// The operation's short name: `input`, `const`, `ln`, `+`, `*`, ….
    pub fn op_name(&self, i: usize) -> &'static str {
        match self.nodes[i].op {
            GraphOp::Input(_) => "input",
            GraphOp::Constant => "const",
            GraphOp::Unary(op) => op.name(),
            GraphOp::Binary(op) => op.name(),
            GraphOp::MulAdd => "mul_add",
        }
    }

    /// Tangents of every node when the inputs move along `direction` (a
    /// forward sweep over the graph).
    ///
    /// # Errors
    /// [`Error::LengthMismatch`] unless there is one entry per input.
    pub fn tangents(&self, direction: &[f64]) -> Result<Vec<f64>> {
        check_len("direction", self.input_count(), direction.len())?;
        let mut tangents = vec![0.0; self.nodes.len()];
        for (i, node) in self.nodes.iter().enumerate() {
            tangents[i] = match node.op {
                GraphOp::Input(k) => direction[k],
                _ => node
                    .args
                    .iter()
                    .zip(&node.partials)
                    .map(|(&a, &p)| chain(p, tangents[a]))
                    .sum(),
            };
        }
        Ok(tangents)
    }

    /// Adjoints of every node for the output cotangents `seeds` (a backward
    /// sweep over the graph): `∂(Σ seeds[k]·output_k)/∂node`.
    ///
    /// # Errors
    /// [`Error::LengthMismatch`] unless there is one seed per output.
    pub fn adjoints(&self, seeds: &[f64]) -> Result<Vec<f64>> {
        self.adjoints_observed(seeds, |_| {})
    }

    /// [`adjoints`](Graph::adjoints), calling `observe` after each edge's
    /// contribution is added, so a walkthrough can show every step of the
    /// sweep it describes.
    pub(crate) fn adjoints_observed(&self, seeds: &[f64], mut observe: impl FnMut(EdgeStep)) -> Result<Vec<f64>> {
        check_len("output seeds", self.outputs.len(), seeds.len())?;
        let mut adjoints = vec![0.0; self.nodes.len()];
        for (&output, &seed) in self.outputs.iter().zip(seeds) {
            adjoints[output] += seed;
        }
        for (i, node) in self.nodes.iter().enumerate().rev() {
            let adjoint = adjoints[i];
            for (slot, (&a, &p)) in node.args.iter().zip(&node.partials).enumerate() {
                let contribution = chain(p, adjoint);
                adjoints[a] += contribution;
                observe(EdgeStep {
                    node: i,
                    slot,
                    adjoint,
                    contribution,
                    accumulated: adjoints[a],
                });
            }
        }
        Ok(adjoints)
    }
}

/// One edge of a backward sweep: node `node`'s adjoint pushed to its
/// argument in slot `slot`.
#[derive(Clone, Copy, Debug)]
pub(crate) struct EdgeStep {
    pub node: usize,
    pub slot: usize,
    /// The adjoint of `node`.
    pub adjoint: f64,
    /// `chain(∂node/∂arg, adjoint)`, added to the argument's adjoint.
    pub contribution: f64,
    /// The argument's adjoint after the addition.
    pub accumulated: f64,
}

/// Renumbers the nodes by depth (inputs, then constants, at depth 0; each
/// operation one deeper than its deepest argument), keeping evaluation order
/// within a depth. This is still an evaluation order, and it is the
/// textbooks' numbering: for Baydin et al.'s example `ln`, `×` and `sin` come
/// before `+` and `−`, whatever order the expression was written in.
fn layered(nodes: Vec<GraphNode>, outputs: Vec<usize>) -> (Vec<GraphNode>, Vec<usize>) {
    let mut depth = vec![0usize; nodes.len()];
    for (i, node) in nodes.iter().enumerate() {
        depth[i] = node.args.iter().map(|&a| depth[a] + 1).max().unwrap_or(0);
    }
    let rank = |i: usize| match nodes[i].op {
        GraphOp::Input(k) => (0, 0, k),
        GraphOp::Constant => (0, 1, i),
        _ => (depth[i], 2, i),
    };
    let mut order: Vec<usize> = (0..nodes.len()).collect();
    order.sort_by_key(|&i| rank(i));
    let mut new_index = vec![0usize; nodes.len()];
    for (new, &old) in order.iter().enumerate() {
        new_index[old] = new;
    }
    let mut slots: Vec<Option<GraphNode>> = nodes.into_iter().map(Some).collect();
    let reordered = order
        .iter()
        .map(|&old| {
            let mut node = slots[old].take().expect("each node is moved once");
            for a in &mut node.args {
                *a = new_index[*a];
            }
            node
        })
        .collect();
    (reordered, outputs.into_iter().map(|o| new_index[o]).collect())
}

/// The partials of `op` at `args`, from the rule table.
fn local_partials(op: GraphOp, args: &[f64]) -> Vec<f64> {
    match op {
        GraphOp::Unary(u) => vec![rules::unary(u, args[0]).1],
        GraphOp::Binary(b) => {
            let (_, da, db) = rules::binary(b, args[0], args[1]);
            vec![da, db]
        }
        GraphOp::MulAdd => {
            let (_, da, db, dc) = rules::mul_add(args[0], args[1], args[2]);
            vec![da, db, dc]
        }
        GraphOp::Input(_) | GraphOp::Constant => Vec::new(),
    }
}

/// A number with eight significant digits (fewer when it has fewer), for
/// tables and pictures.
pub fn format_number(x: f64) -> String {
    if x.is_nan() {
        return "NaN".into();
    }
    if x.is_infinite() {
        return if x > 0.0 { "∞".into() } else { "−∞".into() };
    }
    if x == 0.0 {
        return "0".into(); // also for -0: a sign on zero only distracts here
    }
    let shortest = format!("{x}");
    let digits = shortest.chars().filter(|c| c.is_ascii_digit()).count();
    if (x == 0.0 || (1e-4..1e7).contains(&x.abs())) && digits <= 8 {
        return shortest;
    }
    let formatted = if (1e-4..1e7).contains(&x.abs()) {
        let decimals = (7 - x.abs().log10().floor() as i32).max(0) as usize;
        format!("{x:.decimals$}")
    } else {
        format!("{x:.7e}")
    };
    trim_zeros(&formatted)
}

/// `1.50000` → `1.5`, `2.000e-9` → `2e-9`.
fn trim_zeros(text: &str) -> String {
    let (mantissa, exponent) = match text.find('e') {
        Some(at) => text.split_at(at),
        None => (text, ""),
    };
    let mantissa = if mantissa.contains('.') {
        mantissa.trim_end_matches('0').trim_end_matches('.')
    } else {
        mantissa
    };
    format!("{mantissa}{exponent}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_keep_six_significant_digits() {
        assert_eq!(format_number(std::f64::consts::LN_2), "0.69314718");
        assert_eq!(format_number(11.652071455223084), "11.652071");
        assert_eq!(format_number(-0.9589242746631385), "-0.95892427");
        assert_eq!(format_number(5.5), "5.5");
        assert_eq!(format_number(2.0), "2");
        assert_eq!(format_number(1.2345678912e-9), "1.2345679e-9");
        assert_eq!(format_number(2e-9), "2e-9");
        assert_eq!(format_number(123456789.0), "1.2345679e8");
    }
}

//! Evaluation traces: the textbook tables of primal, tangent and adjoint
//! values, one row per graph node.

use super::capture::{Graph, GraphOp, format_number};
use crate::error::Result;

/// One row of an evaluation trace.
#[derive(Clone, Debug, PartialEq)]
pub struct TraceStep {
    /// Textbook id, e.g. `v-1`, `v3`.
    pub id: String,
    /// Operation name: `input`, `const`, `ln`, `+`, `*`, ….
    pub op: String,
    /// Ids of the arguments.
    pub args: Vec<String>,
    /// What the node computes, e.g. `ln(v-1)`, `v-1 × v0`, or the input's name.
    pub definition: String,
    /// Primal value.
    pub value: f64,
    /// Tangent along the chosen direction (forward trace).
    pub tangent: Option<f64>,
    /// Adjoint after the backward sweep (reverse trace).
    pub adjoint: Option<f64>,
}

/// An evaluation trace: the graph's nodes in evaluation order, with values
/// and, optionally, tangents and adjoints.
///
/// ```
/// use chainrule::graph::capture;
/// use num_traits::Float;
///
/// let graph = capture(|x| vec![x[0].ln() + x[0] * x[1] - x[1].sin()], &[2.0, 5.0]).unwrap();
/// let trace = graph.trace(Some(&[1.0, 0.0]), None).unwrap();
/// let tangents: Vec<f64> = trace.steps.iter().map(|s| s.tangent.unwrap()).collect();
/// assert_eq!(tangents, vec![1.0, 0.0, 0.5, 5.0, 0.0, 5.5, 5.5]); // Baydin et al., table 2
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Trace {
    /// Input names, in order.
    pub inputs: Vec<String>,
    /// One step per node.
    pub steps: Vec<TraceStep>,
    /// Ids of the output nodes.
    pub outputs: Vec<String>,
}

impl Graph {
    /// The trace, with tangents for the input `direction` and/or adjoints for
    /// the output cotangent `seeds` when given.
    ///
    /// # Errors
    /// [`Error::LengthMismatch`](crate::Error::LengthMismatch) if `direction`
    /// or `seeds` has the wrong length.
    pub fn trace(&self, direction: Option<&[f64]>, seeds: Option<&[f64]>) -> Result<Trace> {
        let tangents = direction.map(|d| self.tangents(d)).transpose()?;
        let adjoints = seeds.map(|s| self.adjoints(s)).transpose()?;
        let steps = (0..self.len())
            .map(|i| {
                let node = &self.nodes()[i];
                TraceStep {
                    id: self.id(i),
                    op: self.op_name(i).to_string(),
                    args: node.args.iter().map(|&a| self.id(a)).collect(),
                    definition: self.definition(i),
                    value: node.value,
                    tangent: tangents.as_ref().map(|t| t[i]),
                    adjoint: adjoints.as_ref().map(|a| a[i]),
                }
            })
            .collect();
        Ok(Trace {
            inputs: self.input_names().to_vec(),
            steps,
            outputs: self.outputs().iter().map(|&o| self.id(o)).collect(),
        })
    }

    /// Whether node `i` is an input.
    pub fn is_input(&self, i: usize) -> bool {
        matches!(self.nodes()[i].op, GraphOp::Input(_))
    }
}

impl Trace {
    /// The trace as an aligned text table: node, definition, value, and the
    /// tangent and adjoint columns that were computed.
    ///
    /// `tangent_label` heads the tangent column, e.g. `∂/∂x1`.
    pub fn table(&self, tangent_label: &str) -> String {
        let with_tangent = self.steps.iter().any(|s| s.tangent.is_some());
        let with_adjoint = self.steps.iter().any(|s| s.adjoint.is_some());
        let mut rows: Vec<Vec<String>> = Vec::new();
        let mut head = vec!["node".to_string(), "definition".to_string(), "value".to_string()];
        if with_tangent {
            head.push(format!("tangent {tangent_label}"));
        }
        if with_adjoint {
            head.push("adjoint".to_string());
        }
        rows.push(head);
        for step in &self.steps {
            let mut row = vec![step.id.clone(), step.definition.clone(), format_number(step.value)];
            if let Some(t) = step.tangent {
                row.push(format_number(t));
            }
            if let Some(a) = step.adjoint {
                row.push(format_number(a));
            }
            rows.push(row);
        }
        let columns = rows[0].len();
        let widths: Vec<usize> = (0..columns)
            .map(|c| rows.iter().map(|r| r[c].chars().count()).max().unwrap_or(0))
            .collect();
        let mut out = String::new();
        for (r, row) in rows.iter().enumerate() {
            let mut line = String::from("  ");
            for (c, cell) in row.iter().enumerate() {
                let pad = " ".repeat(widths[c] - cell.chars().count());
                // Text columns align left, numbers right.
                if c < 2 || r == 0 {
                    line.push_str(cell);
                    line.push_str(&pad);
                } else {
                    line.push_str(&pad);
                    line.push_str(cell);
                }
                line.push_str("   ");
            }
            out.push_str(line.trim_end());
            out.push('\n');
        }
        out.push_str(&format!("  output: {}\n", self.outputs.join(", ")));
        out
    }
}

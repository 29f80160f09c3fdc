//! Graphviz DOT export.

use super::capture::{Graph, GraphOp, format_number};
use super::trace::Trace;

impl Graph {
    /// The graph in Graphviz's DOT language, left to right from inputs to
    /// outputs. Each node shows its definition, value, and the tangent and
    /// adjoint of `trace` when it has them; each edge shows the local partial
    /// derivative `∂v_j/∂v_i`.
    ///
    /// ```
    /// use chainrule::graph::capture;
    /// let graph = capture(|x| vec![x[0] * x[1]], &[3.0, 4.0]).unwrap();
    /// let dot = graph.to_dot(&graph.trace(None, Some(&[1.0])).unwrap());
    /// assert!(dot.starts_with("digraph chainrule {"));
    /// assert!(dot.contains("n0 -> n2 [label=\"4\"]")); // ∂(x1·x2)/∂x1 = x2
    /// ```
    ///
    /// # Panics
    /// If `trace` was not made from this graph (it has a different number of
    /// steps).
    pub fn to_dot(&self, trace: &Trace) -> String {
        assert_eq!(
            trace.steps.len(),
            self.len(),
            "to_dot: the trace must come from this graph (Graph::trace)"
        );
        let mut out = String::from(
            "digraph chainrule {\n  rankdir=LR;\n  node [shape=box, style=\"rounded,filled\", fillcolor=\"#ffffff\", fontname=\"Helvetica\"];\n  edge [fontname=\"Helvetica\", fontsize=10];\n",
        );
        for (i, step) in trace.steps.iter().enumerate() {
            let mut label = format!(
                "{} = {}\\nvalue {}",
                step.id,
                escape(&step.definition),
                format_number(step.value)
            );
            if let Some(t) = step.tangent {
                label.push_str(&format!("\\ntangent {}", format_number(t)));
            }
            if let Some(a) = step.adjoint {
                label.push_str(&format!("\\nadjoint {}", format_number(a)));
            }
            let fill = match self.nodes()[i].op {
                GraphOp::Input(_) => ", fillcolor=\"#dbeafe\"",
                GraphOp::Constant => ", fillcolor=\"#f3f4f6\"",
                _ if self.outputs().contains(&i) => ", fillcolor=\"#dcfce7\", penwidth=2",
                _ => "",
            };
            out.push_str(&format!("  n{i} [label=\"{label}\"{fill}];\n"));
        }
        for (i, node) in self.nodes().iter().enumerate() {
            for (&a, &p) in node.args.iter().zip(&node.partials) {
                out.push_str(&format!("  n{a} -> n{i} [label=\"{}\"];\n", format_number(p)));
            }
        }
        out.push_str("}\n");
        out
    }
}

/// Escapes text for a double-quoted DOT string.
fn escape(text: &str) -> String {
    text.replace('\\', "\\\\").replace('"', "\\\"")
}

//! Graphviz DOT export.

use super::capture::Graph;
use super::svg::{NodeStyle, Picture};
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
        self.picture(trace).to_dot()
    }
}

impl Picture {
    /// The picture in Graphviz's DOT language, left to right: one box per
    /// node (its title and lines, filled by its style) and one edge per
    /// argument, labelled as in the SVG picture. Scalar graphs
    /// ([`Graph::to_dot`]) and tensor graphs (`TensorTape::to_dot`) both
    /// write through it.
    pub fn to_dot(&self) -> String {
        let mut out = String::from(
            "digraph chainrule {\n  rankdir=LR;\n  node [shape=box, style=\"rounded,filled\", fillcolor=\"#ffffff\", fontname=\"Helvetica\"];\n  edge [fontname=\"Helvetica\", fontsize=10];\n",
        );
        for (i, node) in self.nodes.iter().enumerate() {
            let mut label = escape(&node.title);
            for (line, _) in &node.lines {
                label.push_str("\\n");
                label.push_str(&escape(line));
            }
            let fill = match node.style {
                NodeStyle::Input => ", fillcolor=\"#dbeafe\"",
                NodeStyle::Constant => ", fillcolor=\"#f3f4f6\"",
                NodeStyle::Output => ", fillcolor=\"#dcfce7\", penwidth=2",
                NodeStyle::Operation => "",
            };
            out.push_str(&format!("  n{i} [label=\"{label}\"{fill}];\n"));
        }
        for (i, node) in self.nodes.iter().enumerate() {
            for (k, &a) in node.args.iter().enumerate() {
                match node.edge_labels.get(k) {
                    Some(label) => out.push_str(&format!("  n{a} -> n{i} [label=\"{}\"];\n", escape(label))),
                    None => out.push_str(&format!("  n{a} -> n{i};\n")),
                }
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

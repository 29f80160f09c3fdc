//! SVG pictures of computational graphs, laid out and drawn by chainrule.
//!
//! Anything that is a DAG of boxes can be drawn: a [`Picture`] holds, per
//! node, a title, a few coloured lines of text, the nodes it reads and a label
//! per incoming edge. [`Graph::to_svg`] (scalar graphs, with values, tangents,
//! adjoints and partials) and `TensorTape::to_svg` (array graphs, with
//! operations and shapes) both build one.
//!
//! Layout: each node sits in the column one right of its rightmost argument
//! (inputs in column 0; a constant just left of its first user); within a
//! column, nodes are ordered by the mean row of their arguments, which keeps
//! most edges short and uncrossed. Everything is a loop over the nodes in
//! evaluation order, so a graph of thousands of nodes draws in milliseconds.
//!
//! Elements carry ids an interactive page can address: box `n{i}` (class
//! `node`), its lines `f{k}`, the edge into node `i` from its argument `k`
//! `e{i}-{k}` and that edge's label `l{i}-{k}`.

use std::fmt::Write;

use super::capture::{Graph, GraphOp, format_number};
use super::trace::Trace;

const BOX_WIDTH: f64 = 176.0;
const LINE_HEIGHT: f64 = 16.0;
const COLUMN_GAP: f64 = 110.0;
const ROW_GAP: f64 = 34.0;
const MARGIN: f64 = 24.0;
const HEADER: f64 = 64.0;
/// Longest title drawn in a box; longer ones are cut (the full text is in the
/// node's tooltip).
const MAX_TITLE: usize = 26;

/// How a node is drawn.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NodeStyle {
    /// An independent input (blue).
    Input,
    /// A constant (grey).
    Constant,
    /// An intermediate operation (white).
    Operation,
    /// An output (green, thick border).
    Output,
}

/// One box of a [`Picture`].
#[derive(Clone, Debug, PartialEq)]
pub struct PictureNode {
    /// First line, in bold (e.g. `v3 = sin(v0)`).
    pub title: String,
    /// Further lines with their colours (e.g. `("value 0.5", "#111827")`).
    pub lines: Vec<(String, &'static str)>,
    /// Indices of the nodes this one reads (all smaller than its own index).
    pub args: Vec<usize>,
    /// A label per incoming edge, in the order of `args` (may be empty).
    pub edge_labels: Vec<String>,
    /// How to draw the box.
    pub style: NodeStyle,
}

/// A DAG of labelled boxes in evaluation order, ready to draw.
#[derive(Clone, Debug, PartialEq)]
pub struct Picture {
    /// The heading.
    pub heading: String,
    /// One line under the heading saying how to read the picture.
    pub legend: String,
    /// The boxes.
    pub nodes: Vec<PictureNode>,
}

impl Graph {
    /// The graph as a standalone SVG document: nodes as boxes with their
    /// definition, value, and the tangent and adjoint of `trace` when it has
    /// them; edges labelled with the local partial derivative `∂v_j/∂v_i`.
    ///
    /// ```
    /// use chainrule::graph::capture;
    /// let graph = capture(|x| vec![x[0] * x[1]], &[3.0, 4.0]).unwrap();
    /// let svg = graph.to_svg(&graph.trace(None, Some(&[1.0])).unwrap());
    /// assert!(svg.starts_with("<svg"));
    /// assert!(svg.contains("v1 = v-1 × v0"));
    /// ```
    ///
    /// # Panics
    /// If `trace` was not made from this graph.
    pub fn to_svg(&self, trace: &Trace) -> String {
        self.picture(trace).to_svg()
    }

    /// The [`Picture`] that [`to_svg`](Graph::to_svg) draws.
    ///
    /// # Panics
    /// If `trace` was not made from this graph.
    pub fn picture(&self, trace: &Trace) -> Picture {
        assert_eq!(
            trace.steps.len(),
            self.len(),
            "to_svg: the trace must come from this graph (Graph::trace)"
        );
        let has_tangents = trace.steps.iter().any(|s| s.tangent.is_some());
        let has_adjoints = trace.steps.iter().any(|s| s.adjoint.is_some());
        let nodes = trace
            .steps
            .iter()
            .zip(self.nodes())
            .enumerate()
            .map(|(i, (step, node))| {
                let [value_colour, tangent_colour, adjoint_colour] = FIELD_COLOURS;
                let mut lines = vec![(format!("value {}", format_number(step.value)), value_colour)];
                if let Some(t) = step.tangent {
                    lines.push((format!("tangent {}", format_number(t)), tangent_colour));
                }
                if let Some(a) = step.adjoint {
                    lines.push((format!("adjoint {}", format_number(a)), adjoint_colour));
                }
                let style = self.node_style(i);
                PictureNode {
                    title: format!("{} = {}", step.id, step.definition),
                    lines,
                    args: node.args.clone(),
                    edge_labels: node.partials.iter().map(|&p| format_number(p)).collect(),
                    style,
                }
            })
            .collect();
        let fields = format!(
            "value{}{}",
            if has_tangents { ", tangent" } else { "" },
            if has_adjoints { ", adjoint" } else { "" }
        );
        Picture {
            heading: "Computational graph".into(),
            legend: format!(
                "Boxes: v_i = operation, {fields}. Edge labels: local partial ∂v_j/∂v_i. \
                 An adjoint is the sum, over out-edges, of label × adjoint at the arrow's head."
            ),
            nodes,
        }
    }
}

/// Colours of the value, tangent and adjoint lines (contrast ≥ 4.5:1 on white).
pub(crate) const FIELD_COLOURS: [&str; 3] = ["#111827", "#1d4ed8", "#b91c1c"];

impl Graph {
    /// How node `i` is drawn: inputs, constants, outputs and the rest.
    pub(crate) fn node_style(&self, i: usize) -> NodeStyle {
        match self.nodes()[i].op {
            GraphOp::Input(_) => NodeStyle::Input,
            GraphOp::Constant => NodeStyle::Constant,
            _ if self.outputs().contains(&i) => NodeStyle::Output,
            _ => NodeStyle::Operation,
        }
    }
}

impl Picture {
    /// The picture as a standalone SVG document.
    ///
    /// ```
    /// use chainrule::graph::{NodeStyle, Picture, PictureNode};
    /// let node = |title: &str, args: Vec<usize>, style| PictureNode {
    ///     title: title.into(), lines: vec![], args, edge_labels: vec![], style,
    /// };
    /// let picture = Picture {
    ///     heading: "Two boxes".into(),
    ///     legend: "An input and what reads it.".into(),
    ///     nodes: vec![node("x", vec![], NodeStyle::Input), node("y = sin(x)", vec![0], NodeStyle::Output)],
    /// };
    /// let svg = picture.to_svg();
    /// assert!(svg.contains("y = sin(x)") && svg.contains("<path"));
    /// ```
    pub fn to_svg(&self) -> String {
        let layout = Layout::of(self);
        let lines = 1 + self.nodes.iter().map(|n| n.lines.len()).max().unwrap_or(0);
        let box_height = lines as f64 * LINE_HEIGHT + 10.0;
        let row_height = box_height + ROW_GAP;
        let column_width = BOX_WIDTH + COLUMN_GAP;
        let rows = layout.rows_per_column.iter().copied().max().unwrap_or(0);
        let width = MARGIN * 2.0 + layout.rows_per_column.len() as f64 * column_width - COLUMN_GAP;
        let height = HEADER + MARGIN + rows as f64 * row_height;
        // Top-left corner of each box; short columns are centred vertically.
        let corner = |i: usize| {
            let column = layout.column[i];
            let offset = (rows - layout.rows_per_column[column]) as f64 * row_height / 2.0;
            (
                MARGIN + column as f64 * column_width,
                HEADER + offset + layout.row[i] as f64 * row_height,
            )
        };

        let mut svg = String::new();
        let _ = write!(
            svg,
            r##"<svg xmlns="http://www.w3.org/2000/svg" width="{w:.0}" height="{h:.0}" viewBox="0 0 {w:.0} {h:.0}" font-family="Helvetica, Arial, sans-serif" font-size="12">
<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="9" markerHeight="9" markerUnits="userSpaceOnUse" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#6b7280"/></marker></defs>
<rect width="100%" height="100%" fill="#ffffff"/>
<text x="{MARGIN}" y="24" font-size="15" font-weight="bold">{heading}</text>
<text x="{MARGIN}" y="44" fill="#374151">{legend}</text>
"##,
            w = width.max(400.0),
            h = height,
            heading = escape(&self.heading),
            legend = escape(&self.legend),
        );

        svg.push_str("<g fill=\"none\" stroke=\"#9ca3af\" stroke-width=\"1.3\">\n");
        let mut labels = String::new();
        for (i, node) in self.nodes.iter().enumerate() {
            let (tx, ty) = corner(i);
            for (k, &a) in node.args.iter().enumerate() {
                let (sx, sy) = corner(a);
                let (x1, y1) = (sx + BOX_WIDTH, sy + box_height / 2.0);
                // Several arguments enter the box at different heights.
                let share = (k as f64 + 1.0) / (node.args.len() as f64 + 1.0);
                let (x2, y2) = (tx, ty + box_height * share);
                let bend = (x2 - x1).abs().max(40.0) / 2.0;
                let _ = writeln!(
                    svg,
                    r#"<path id="e{i}-{k}" d="M{x1:.1},{y1:.1} C{:.1},{y1:.1} {:.1},{y2:.1} {x2:.1},{y2:.1}" marker-end="url(#arrow)"/>"#,
                    x1 + bend,
                    x2 - bend
                );
                if let Some(label) = node.edge_labels.get(k) {
                    let (mx, my) = ((x1 + x2) / 2.0, (y1 + y2) / 2.0);
                    let _ = writeln!(
                        labels,
                        r##"<text id="l{i}-{k}" x="{mx:.1}" y="{:.1}" text-anchor="middle" fill="#b45309" font-size="11" stroke="#ffffff" stroke-width="3" paint-order="stroke">{}</text>"##,
                        my - 3.0,
                        escape(label)
                    );
                }
            }
        }
        svg.push_str("</g>\n<g>\n");
        svg.push_str(&labels);
        svg.push_str("</g>\n");

        for (i, node) in self.nodes.iter().enumerate() {
            let (x, y) = corner(i);
            let (fill, stroke, stroke_width) = match node.style {
                NodeStyle::Input => ("#dbeafe", "#2563eb", 1.5),
                NodeStyle::Constant => ("#f3f4f6", "#9ca3af", 1.0),
                NodeStyle::Output => ("#dcfce7", "#16a34a", 2.5),
                NodeStyle::Operation => ("#ffffff", "#374151", 1.2),
            };
            let shown = if node.title.chars().count() > MAX_TITLE {
                let cut: String = node.title.chars().take(MAX_TITLE - 1).collect();
                format!("{cut}…")
            } else {
                node.title.clone()
            };
            let _ = writeln!(
                svg,
                r#"<g class="node" id="n{i}"><title>{}</title><rect x="{x:.1}" y="{y:.1}" width="{BOX_WIDTH}" height="{box_height:.1}" rx="6" fill="{fill}" stroke="{stroke}" stroke-width="{stroke_width}"/>"#,
                escape(&node.title)
            );
            let mut line_y = y + LINE_HEIGHT;
            let _ = writeln!(
                svg,
                r#"<text x="{:.1}" y="{line_y:.1}" font-weight="bold">{}</text>"#,
                x + 8.0,
                escape(&shown)
            );
            for (k, (text, color)) in node.lines.iter().enumerate() {
                line_y += LINE_HEIGHT;
                let _ = writeln!(
                    svg,
                    r#"<text class="f{k}" x="{:.1}" y="{line_y:.1}" fill="{color}">{}</text>"#,
                    x + 8.0,
                    escape(text)
                );
            }
            svg.push_str("</g>\n");
        }
        svg.push_str("</svg>\n");
        svg
    }
}

/// Column and row of every node.
struct Layout {
    column: Vec<usize>,
    row: Vec<usize>,
    rows_per_column: Vec<usize>,
}

impl Layout {
    fn of(picture: &Picture) -> Layout {
        let nodes = &picture.nodes;
        let n = nodes.len();
        let mut column = vec![0usize; n];
        for (i, node) in nodes.iter().enumerate() {
            if let Some(deepest) = node.args.iter().map(|&a| column[a]).max() {
                column[i] = deepest + 1;
            }
        }
        // A constant sits just left of its first (leftmost) user.
        let mut constant_column = vec![usize::MAX; n];
        for (i, node) in nodes.iter().enumerate() {
            for &a in &node.args {
                if nodes[a].style == NodeStyle::Constant {
                    constant_column[a] = constant_column[a].min(column[i].saturating_sub(1));
                }
            }
        }
        for i in 0..n {
            if constant_column[i] != usize::MAX {
                column[i] = constant_column[i];
            }
        }
        let columns = column.iter().copied().max().map_or(0, |c| c + 1);
        let mut by_column: Vec<Vec<usize>> = vec![Vec::new(); columns];
        for (i, &c) in column.iter().enumerate() {
            by_column[c].push(i);
        }
        let mut row = vec![0usize; n];
        // Columns left to right: arguments are placed before their users.
        for members in &mut by_column {
            let key = |i: usize| -> f64 {
                let placed: Vec<f64> = nodes[i]
                    .args
                    .iter()
                    .filter(|&&a| column[a] < column[i])
                    .map(|&a| row[a] as f64)
                    .collect();
                if placed.is_empty() {
                    f64::INFINITY
                } else {
                    placed.iter().sum::<f64>() / placed.len() as f64
                }
            };
            let mut keyed: Vec<(f64, usize)> = members.iter().map(|&i| (key(i), i)).collect();
            keyed.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
            *members = keyed.into_iter().map(|(_, i)| i).collect();
            for (r, &i) in members.iter().enumerate() {
                row[i] = r;
            }
        }
        let rows_per_column = by_column.iter().map(Vec::len).collect();
        Layout {
            column,
            row,
            rows_per_column,
        }
    }
}

/// Escapes text for SVG content and attributes.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            _ => out.push(c),
        }
    }
    out
}

//! SVG pictures of the graph, laid out and drawn by chainrule itself.
//!
//! Layout: each node sits in the column one right of its rightmost argument
//! (inputs in column 0; a constant just left of its first user); within a
//! column, nodes are ordered by the mean row of their arguments, which keeps
//! most edges short and uncrossed. Everything is a loop over the nodes in
//! evaluation order, so a graph of thousands of nodes draws in milliseconds.

use std::fmt::Write;

use super::capture::{Graph, GraphOp, format_number};
use super::trace::Trace;

const BOX_WIDTH: f64 = 176.0;
const LINE_HEIGHT: f64 = 16.0;
const COLUMN_GAP: f64 = 110.0;
const ROW_GAP: f64 = 34.0;
const MARGIN: f64 = 24.0;
const HEADER: f64 = 64.0;
/// Longest definition drawn in a box; longer ones are cut (the full text is
/// in the node's tooltip).
const MAX_DEFINITION: usize = 22;

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
        assert_eq!(
            trace.steps.len(),
            self.len(),
            "to_svg: the trace must come from this graph (Graph::trace)"
        );
        let layout = Layout::of(self);
        let lines = 2
            + usize::from(trace.steps.iter().any(|s| s.tangent.is_some()))
            + usize::from(trace.steps.iter().any(|s| s.adjoint.is_some()));
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
<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#6b7280"/></marker></defs>
<rect width="100%" height="100%" fill="#ffffff"/>
<text x="{MARGIN}" y="24" font-size="15" font-weight="bold">Computational graph</text>
<text x="{MARGIN}" y="44" fill="#374151">Boxes: v_i = operation, value{tangent}{adjoint}. Edge labels: local partial ∂v_j/∂v_i. An adjoint is the sum, over out-edges, of label × adjoint at the arrow's head.</text>
"##,
            w = width,
            h = height,
            tangent = if lines > 2 && trace.steps.iter().any(|s| s.tangent.is_some()) {
                ", tangent"
            } else {
                ""
            },
            adjoint = if trace.steps.iter().any(|s| s.adjoint.is_some()) {
                ", adjoint"
            } else {
                ""
            },
        );

        svg.push_str("<g fill=\"none\" stroke=\"#9ca3af\" stroke-width=\"1.3\">\n");
        let mut labels = String::new();
        for (i, node) in self.nodes().iter().enumerate() {
            let (tx, ty) = corner(i);
            for (k, (&a, &p)) in node.args.iter().zip(&node.partials).enumerate() {
                let (sx, sy) = corner(a);
                let (x1, y1) = (sx + BOX_WIDTH, sy + box_height / 2.0);
                // Several arguments enter the box at different heights.
                let share = (k as f64 + 1.0) / (node.args.len() as f64 + 1.0);
                let (x2, y2) = (tx, ty + box_height * share);
                let bend = (x2 - x1).abs().max(40.0) / 2.0;
                let _ = writeln!(
                    svg,
                    r##"<path d="M{x1:.1},{y1:.1} C{:.1},{y1:.1} {:.1},{y2:.1} {x2:.1},{y2:.1}" marker-end="url(#arrow)"/>"##,
                    x1 + bend,
                    x2 - bend
                );
                let (mx, my) = ((x1 + x2) / 2.0, (y1 + y2) / 2.0);
                let _ = writeln!(
                    labels,
                    r##"<text x="{mx:.1}" y="{:.1}" text-anchor="middle" fill="#b45309" font-size="11" stroke="#ffffff" stroke-width="3" paint-order="stroke">{}</text>"##,
                    my - 3.0,
                    escape(&format_number(p))
                );
            }
        }
        svg.push_str("</g>\n<g>\n");
        svg.push_str(&labels);
        svg.push_str("</g>\n");

        for (i, step) in trace.steps.iter().enumerate() {
            let (x, y) = corner(i);
            let (fill, stroke, stroke_width) = match self.nodes()[i].op {
                GraphOp::Input(_) => ("#dbeafe", "#2563eb", 1.5),
                GraphOp::Constant => ("#f3f4f6", "#9ca3af", 1.0),
                _ if self.outputs().contains(&i) => ("#dcfce7", "#16a34a", 2.5),
                _ => ("#ffffff", "#374151", 1.2),
            };
            let full = format!("{} = {}", step.id, step.definition);
            let shown = if step.definition.chars().count() > MAX_DEFINITION {
                let cut: String = step.definition.chars().take(MAX_DEFINITION - 1).collect();
                format!("{} = {cut}…", step.id)
            } else {
                full.clone()
            };
            let _ = writeln!(
                svg,
                r##"<g><title>{}</title><rect x="{x:.1}" y="{y:.1}" width="{BOX_WIDTH}" height="{box_height:.1}" rx="6" fill="{fill}" stroke="{stroke}" stroke-width="{stroke_width}"/>"##,
                escape(&full)
            );
            let mut line_y = y + LINE_HEIGHT;
            let _ = writeln!(
                svg,
                r#"<text x="{:.1}" y="{line_y:.1}" font-weight="bold">{}</text>"#,
                x + 8.0,
                escape(&shown)
            );
            let mut field = |name: &str, value: f64, color: &str| {
                line_y += LINE_HEIGHT;
                let _ = writeln!(
                    svg,
                    r##"<text x="{:.1}" y="{line_y:.1}" fill="{color}">{name} {}</text>"##,
                    x + 8.0,
                    escape(&format_number(value))
                );
            };
            field("value", step.value, "#111827");
            if let Some(t) = step.tangent {
                field("tangent", t, "#2563eb");
            }
            if let Some(a) = step.adjoint {
                field("adjoint", a, "#dc2626");
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
    fn of(graph: &Graph) -> Layout {
        let nodes = graph.nodes();
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
                if nodes[a].op == GraphOp::Constant {
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
        // Columns left to right: arguments are always placed before their users
        // (constants aside, which sit left of their users and are placed first
        // by index order within the column).
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

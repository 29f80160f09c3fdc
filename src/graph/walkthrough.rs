//! [`Walkthrough`]: the sweeps over a graph as a sequence of steps, each
//! with the arithmetic it did, for the interactive page to play.
//!
//! Every number in a walkthrough is computed here, by the library's own
//! sweeps ([`Graph::tangents`], the edge-by-edge [`Graph::adjoints`]) and
//! formatted by [`format_number`]; the page only shows them.

use super::capture::{Graph, GraphOp, format_number};
use super::svg::{FIELD_COLOURS, Picture, PictureNode};
use crate::error::Result;

/// A graph picture together with the sweeps over it, step by step.
///
/// Each node shows a few *fields* (for scalar graphs: value, tangent,
/// adjoint). A [`Sweep`] fills some of them in, one [`WalkStep`] at a time;
/// the fields it does not fill show their [`WalkNode::known`] text.
#[derive(Clone, Debug, PartialEq)]
pub struct Walkthrough {
    /// The picture, one line per field in each box.
    pub picture: Picture,
    /// Field names, e.g. `value`, `tangent`, `adjoint`.
    pub fields: Vec<String>,
    /// Per node: its id, definition and known field values.
    pub nodes: Vec<WalkNode>,
    /// The sweeps a viewer can step through.
    pub sweeps: Vec<Sweep>,
}

/// What the page knows about one node before any sweep runs.
#[derive(Clone, Debug, PartialEq)]
pub struct WalkNode {
    /// Textbook id, e.g. `v3`.
    pub id: String,
    /// What it computes, e.g. `sin(v0)`.
    pub definition: String,
    /// One text per field: the field's final value, or empty when only a
    /// sweep can say.
    pub known: Vec<String>,
    /// Shown on hover or focus: full definition, value, local partials.
    pub details: String,
    /// Per incoming edge (in argument order): e.g. `∂v2/∂v-1 = 5`.
    pub edges: Vec<String>,
}

/// Which way a sweep runs through the graph.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SweepDirection {
    /// Inputs to outputs.
    Forward,
    /// Outputs to inputs.
    Reverse,
}

/// One sweep: a name, the fields it fills and its steps in order.
#[derive(Clone, Debug, PartialEq)]
pub struct Sweep {
    /// Shown in the sweep chooser, e.g. `forward: tangents along x1`.
    pub name: String,
    /// Which way it runs.
    pub direction: SweepDirection,
    /// The fields shown while this sweep plays (indices into `fields`).
    pub shows: Vec<usize>,
    /// The fields that start blank and are filled by the steps.
    pub fills: Vec<usize>,
    /// The steps.
    pub steps: Vec<WalkStep>,
}

/// One step of a sweep.
#[derive(Clone, Debug, PartialEq)]
pub struct WalkStep {
    /// The node the step computes or updates (highlighted, and its row in
    /// the trace table).
    pub node: usize,
    /// The edge it pushes along, as (reading node, argument slot).
    pub edge: Option<(usize, usize)>,
    /// What it computed, one line each, e.g. `v2 = v-1 × v0 = 2 × 5 = 10`.
    pub lines: Vec<String>,
    /// Field updates: (node, field, new text).
    pub sets: Vec<(usize, usize, String)>,
}

const VALUE: usize = 0;
const TANGENT: usize = 1;
const ADJOINT: usize = 2;

impl Graph {
    /// The walkthrough of this graph: a forward sweep along each input
    /// (filling values and tangents node by node) and a reverse sweep for
    /// each output (seeding it, then pushing adjoints back edge by edge).
    ///
    /// ```
    /// use chainrule::graph::capture;
    /// use num_traits::Float;
    ///
    /// let graph = capture(|x| vec![x[0].ln() + x[0] * x[1] - x[1].sin()], &[2.0, 5.0])?
    ///     .with_input_names(&["x1", "x2"])?;
    /// let walk = graph.walkthrough()?;
    /// let forward = &walk.sweeps[0];
    /// assert_eq!(forward.name, "forward: tangents along x1");
    /// assert_eq!(forward.steps[3].lines[0], "v2 = v-1 × v0 = 2 × 5 = 10");
    /// assert_eq!(forward.steps[3].lines[1], "v̇2 = 5·v̇-1 + 2·v̇0 = 5·1 + 2·0 = 5");
    /// let reverse = &walk.sweeps[2];
    /// assert_eq!(reverse.steps.last().unwrap().lines[0], "v̄-1 += v̄1 · ∂v1/∂v-1 = 1 · 0.5 = 0.5");
    /// # Ok::<(), chainrule::Error>(())
    /// ```
    ///
    /// # Errors
    /// None for a graph made by [`capture`](super::capture); the sweeps'
    /// length checks cannot fail here.
    pub fn walkthrough(&self) -> Result<Walkthrough> {
        let fields = vec!["value".to_string(), "tangent".to_string(), "adjoint".to_string()];
        let nodes = (0..self.len()).map(|i| self.walk_node(i)).collect();
        let mut sweeps = Vec::with_capacity(self.input_count() + self.outputs().len());
        for k in 0..self.input_count() {
            sweeps.push(self.forward_sweep(k)?);
        }
        for k in 0..self.outputs().len() {
            sweeps.push(self.reverse_sweep(k)?);
        }
        let picture = self.walk_picture(&fields);
        Ok(Walkthrough {
            picture,
            fields,
            nodes,
            sweeps,
        })
    }

    fn walk_node(&self, i: usize) -> WalkNode {
        let node = &self.nodes()[i];
        let id = self.id(i);
        let edges: Vec<String> = node
            .args
            .iter()
            .zip(&node.partials)
            .map(|(&a, &p)| format!("∂{id}/∂{} = {}", self.id(a), format_number(p)))
            .collect();
        let kind = match node.op {
            GraphOp::Input(k) => format!("input {}", k + 1),
            GraphOp::Constant => "constant".to_string(),
            _ => format!("operation {}", self.op_name(i)),
        };
        let mut details = format!(
            "{id} = {} ({kind})\nvalue {}",
            self.definition(i),
            format_number(node.value)
        );
        for edge in &edges {
            details.push('\n');
            details.push_str(edge);
        }
        if let Some(k) = self.outputs().iter().position(|&o| o == i) {
            details.push_str(&format!("\noutput {}", k + 1));
        }
        WalkNode {
            id,
            definition: self.definition(i),
            known: vec![format_number(node.value), String::new(), String::new()],
            details,
            edges,
        }
    }

    fn walk_picture(&self, fields: &[String]) -> Picture {
        let nodes = (0..self.len())
            .map(|i| {
                let node = &self.nodes()[i];
                PictureNode {
                    title: format!("{} = {}", self.id(i), self.definition(i)),
                    lines: fields.iter().zip(FIELD_COLOURS).map(|(f, c)| (f.clone(), c)).collect(),
                    args: node.args.clone(),
                    edge_labels: node.partials.iter().map(|&p| format_number(p)).collect(),
                    style: self.node_style(i),
                }
            })
            .collect();
        Picture {
            heading: "Computational graph".into(),
            legend: "Edge labels: local partial ∂v_j/∂v_i, from the rule table.".into(),
            nodes,
        }
    }

    /// Values and tangents node by node, the inputs moving along input `k`.
    fn forward_sweep(&self, k: usize) -> Result<Sweep> {
        let mut direction = vec![0.0; self.input_count()];
        direction[k] = 1.0;
        let tangents = self.tangents(&direction)?;
        let name = &self.input_names()[k];
        let steps = (0..self.len())
            .map(|i| {
                let node = &self.nodes()[i];
                let id = self.id(i);
                let value = format_number(node.value);
                let tangent = format_number(tangents[i]);
                let dot = dotted(&id, '\u{307}');
                let lines = match node.op {
                    GraphOp::Input(j) => vec![
                        format!("{id} = {} = {value}", self.input_names()[j]),
                        format!("{dot} = {tangent} (the seed: ∂{}/∂{name})", self.input_names()[j]),
                    ],
                    GraphOp::Constant => vec![
                        format!("{id} = {value} (a constant)"),
                        format!("{dot} = 0 (a constant does not move)"),
                    ],
                    _ => {
                        let with_values = self.definition_with(i, |a| factor(self.nodes()[a].value));
                        let symbols: Vec<String> = node
                            .args
                            .iter()
                            .zip(&node.partials)
                            .map(|(&a, &p)| format!("{}·{}", factor(p), dotted(&self.id(a), '\u{307}')))
                            .collect();
                        let numbers: Vec<String> = node
                            .args
                            .iter()
                            .zip(&node.partials)
                            .map(|(&a, &p)| format!("{}·{}", factor(p), factor(tangents[a])))
                            .collect();
                        vec![
                            format!("{id} = {} = {with_values} = {value}", self.definition(i)),
                            format!("{dot} = {} = {} = {tangent}", symbols.join(" + "), numbers.join(" + ")),
                        ]
                    }
                };
                WalkStep {
                    node: i,
                    edge: None,
                    lines,
                    sets: vec![(i, VALUE, value), (i, TANGENT, tangent)],
                }
            })
            .collect();
        Ok(Sweep {
            name: format!("forward: tangents along {name}"),
            direction: SweepDirection::Forward,
            shows: vec![VALUE, TANGENT],
            fills: vec![VALUE, TANGENT],
            steps,
        })
    }

    /// Adjoints of output `k`: the seed, then one step per edge that carries
    /// a nonzero adjoint to an input or operation (constants need none).
    fn reverse_sweep(&self, k: usize) -> Result<Sweep> {
        let mut seeds = vec![0.0; self.outputs().len()];
        seeds[k] = 1.0;
        let output = self.outputs()[k];
        let bar = |i: usize| dotted(&self.id(i), '\u{304}');
        // Every adjoint starts at 0, the output's at its seed.
        let mut sets: Vec<(usize, usize, String)> = (0..self.len())
            .filter(|&i| !matches!(self.nodes()[i].op, GraphOp::Constant))
            .map(|i| (i, ADJOINT, "0".to_string()))
            .collect();
        sets.push((output, ADJOINT, "1".to_string()));
        let mut steps = vec![WalkStep {
            node: output,
            edge: None,
            lines: vec![
                format!("{} = 1 (the seed: ∂y{}/∂{} = 1)", bar(output), k + 1, self.id(output)),
                "every other adjoint starts at 0".to_string(),
            ],
            sets,
        }];
        self.adjoints_observed(&seeds, |edge| {
            let node = &self.nodes()[edge.node];
            let arg = node.args[edge.slot];
            if edge.adjoint == 0.0 || matches!(self.nodes()[arg].op, GraphOp::Constant) {
                return;
            }
            let id = self.id(edge.node);
            let arg_id = self.id(arg);
            let accumulated = format_number(edge.accumulated);
            steps.push(WalkStep {
                node: arg,
                edge: Some((edge.node, edge.slot)),
                lines: vec![
                    format!(
                        "{} += {} · ∂{id}/∂{arg_id} = {} · {} = {}",
                        bar(arg),
                        bar(edge.node),
                        factor(edge.adjoint),
                        factor(node.partials[edge.slot]),
                        format_number(edge.contribution)
                    ),
                    format!("now {} = {accumulated}", bar(arg)),
                ],
                sets: vec![(arg, ADJOINT, accumulated)],
            });
        })?;
        let name = if self.outputs().len() == 1 {
            "reverse: adjoints of the output".to_string()
        } else {
            format!("reverse: adjoints of output {} ({})", k + 1, self.id(output))
        };
        Ok(Sweep {
            name,
            direction: SweepDirection::Reverse,
            shows: vec![VALUE, ADJOINT],
            fills: vec![ADJOINT],
            steps,
        })
    }
}

/// `v3` with a combining mark after the `v`: `v̇3` (tangent), `v̄3` (adjoint).
fn dotted(id: &str, mark: char) -> String {
    let mut out = String::with_capacity(id.len() + 2);
    let mut chars = id.chars();
    if let Some(first) = chars.next() {
        out.push(first);
        out.push(mark);
    }
    out.extend(chars);
    out
}

/// A number as a factor in a product: negative ones in parentheses.
fn factor(x: f64) -> String {
    let text = format_number(x);
    if text.starts_with('-') || text.starts_with('−') {
        format!("({text})")
    } else {
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::capture;
    use num_traits::Float;

    fn baydin() -> Graph {
        capture(|x| vec![x[0].ln() + x[0] * x[1] - x[1].sin()], &[2.0, 5.0])
            .unwrap()
            .with_input_names(&["x1", "x2"])
            .unwrap()
    }

    /// The field texts after the last step of `sweep`, node by node.
    fn final_texts(walk: &Walkthrough, sweep: usize, field: usize) -> Vec<String> {
        let mut texts: Vec<String> = walk.nodes.iter().map(|n| n.known[field].clone()).collect();
        if walk.sweeps[sweep].fills.contains(&field) {
            texts.iter_mut().for_each(|t| t.clear());
        }
        for step in &walk.sweeps[sweep].steps {
            for (node, f, text) in &step.sets {
                if *f == field {
                    texts[*node] = text.clone();
                }
            }
        }
        texts
    }

    #[test]
    fn forward_steps_end_at_the_tangents_of_the_sweep() {
        let graph = baydin();
        let walk = graph.walkthrough().unwrap();
        // Baydin et al. (2018), table 2: tangents along x1.
        assert_eq!(
            final_texts(&walk, 0, TANGENT),
            ["1", "0", "0.5", "5", "0", "5.5", "5.5"]
        );
        let along_x2 = graph.tangents(&[0.0, 1.0]).unwrap();
        let texts: Vec<String> = along_x2.iter().map(|&t| format_number(t)).collect();
        assert_eq!(final_texts(&walk, 1, TANGENT), texts);
        assert_eq!(walk.sweeps[0].steps[4].lines[0], "v3 = sin(v0) = sin(5) = -0.95892427");
    }

    #[test]
    fn reverse_steps_accumulate_the_sweeps_adjoints() {
        let graph = baydin();
        let walk = graph.walkthrough().unwrap();
        // Baydin et al. (2018), table 3.
        assert_eq!(
            final_texts(&walk, 2, ADJOINT),
            ["5.5", "1.7163378", "1", "1", "-1", "1", "1"]
        );
        let sin_step = walk.sweeps[2]
            .steps
            .iter()
            .find(|s| s.edge == Some((4, 0)))
            .expect("the sin edge is pushed");
        assert_eq!(
            sin_step.lines[0],
            "v̄0 += v̄3 · ∂v3/∂v0 = (-1) · 0.28366219 = -0.28366219"
        );
    }

    #[test]
    fn every_output_has_its_sweep_and_unreached_nodes_stay_blank() {
        let graph = capture(|x| vec![x[0] * x[1], x[0].sin() + 2.0], &[1.0, 2.0]).unwrap();
        let walk = graph.walkthrough().unwrap();
        assert_eq!(walk.sweeps.len(), 4);
        assert_eq!(
            walk.sweeps[3].name,
            format!("reverse: adjoints of output 2 ({})", graph.id(graph.outputs()[1]))
        );
        let adjoints = graph.adjoints(&[0.0, 1.0]).unwrap();
        let texts = final_texts(&walk, 3, ADJOINT);
        for (i, text) in texts.iter().enumerate() {
            let constant = matches!(graph.nodes()[i].op, GraphOp::Constant);
            if adjoints[i] != 0.0 && !constant {
                assert_eq!(*text, format_number(adjoints[i]), "node {i}");
            }
        }
        // x2 does not reach sin(x1) + 2: its adjoint stays at its start.
        assert_eq!(texts[1], "0");
    }
}

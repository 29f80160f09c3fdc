//! The tensor tape as a [`Walkthrough`]: the forward sweep array operation by
//! array operation, and the backward sweep's gradients, for the interactive
//! page.

use super::array::{Array, Element, TensorError};
use super::node::{Node, TensorOp};
use super::tape::{Tensor, TensorTape, op_name};
use crate::graph::{Sweep, SweepDirection, WalkNode, WalkStep, Walkthrough, format_number};

const SHAPE: usize = 0;
const VALUE: usize = 1;
const GRADIENT: usize = 2;

impl<T: Element> TensorTape<T> {
    /// The walkthrough of everything recorded up to `output`: a forward
    /// sweep that computes each array operation in order (its shape and a
    /// summary of its values) and a backward sweep that gives each tensor its
    /// gradient, last operation first (from [`backward`](TensorTape::backward)).
    ///
    /// ```
    /// use chainrule::tensor::{Array, TensorTape};
    /// let tape = TensorTape::<f64>::new();
    /// let x = tape.constant(Array::new(vec![2, 3], vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0]).unwrap());
    /// let w = tape.input(Array::full(vec![3, 1], 0.5));
    /// let loss = x.matmul(&w)?.sum();
    /// let walk = tape.walkthrough(&loss)?;
    /// assert_eq!(walk.sweeps[0].steps[2].lines[0], "t2 = matmul(t0, t1): [2, 3] · [3, 1] → [2, 1]");
    /// assert_eq!(walk.sweeps[1].steps.last().unwrap().lines[0], "t̄1 = ∂t3/∂t1: [3, 1] = [5, 7, 9]");
    /// # Ok::<(), chainrule::tensor::TensorError>(())
    /// ```
    ///
    /// # Errors
    /// As [`backward`](TensorTape::backward).
    pub fn walkthrough(&self, output: &Tensor<'_, T>) -> Result<Walkthrough, TensorError> {
        // Every tensor's value and gradient are shown: nothing deferred,
        // no fused group keeping its members' gradients to itself.
        self.evaluate_all();
        let gradients = self.sweep(output, false)?;
        let nodes = self.nodes.borrow();
        let count = output.id + 1;
        let id = |i: usize| format!("t{i}");
        let definition = |i: usize| {
            let node = &nodes[i];
            match node.op {
                TensorOp::Input if node.requires_grad => "input".to_string(),
                TensorOp::Input => "constant".to_string(),
                _ => {
                    let args: Vec<String> = node.parents.iter().map(|&p| id(p)).collect();
                    format!("{}({})", op_name(&node.op), args.join(", "))
                }
            }
        };
        let shape = |i: usize| format!("{:?}", nodes[i].shape);
        let walk_nodes: Vec<WalkNode> = (0..count)
            .map(|i| {
                let node = &nodes[i];
                let stored = node.value.as_deref().expect("every value was evaluated above");
                let value = summary(stored);
                let gradient = gradients.by_index(i).map(summary).unwrap_or_default();
                WalkNode {
                    id: id(i),
                    definition: definition(i),
                    known: vec![shape(i), value.clone(), gradient.clone()],
                    details: format!(
                        "{} = {}\nshape {}\nvalue: {}\ngradient: {}",
                        id(i),
                        definition(i),
                        shape(i),
                        statistics(stored),
                        gradients
                            .by_index(i)
                            .map_or("none (no gradient flows here)".to_string(), statistics)
                    ),
                    edges: node
                        .parents
                        .iter()
                        .enumerate()
                        .map(|(k, &p)| format!("{} is argument {} of {}", id(p), k + 1, id(i)))
                        .collect(),
                }
            })
            .collect();

        let forward = (0..count)
            .map(|i| {
                let node = &nodes[i];
                let arrow = if node.parents.is_empty() {
                    format!("{} = {}: {}", id(i), definition(i), shape(i))
                } else {
                    let shapes: Vec<String> = node.parents.iter().map(|&p| shape(p)).collect();
                    let joiner = if matches!(node.op, TensorOp::MatMul) {
                        " · "
                    } else {
                        ", "
                    };
                    format!("{} = {}: {} → {}", id(i), definition(i), shapes.join(joiner), shape(i))
                };
                WalkStep {
                    node: i,
                    edge: None,
                    lines: vec![arrow, format!("value {}", walk_nodes[i].known[VALUE])],
                    sets: vec![(i, VALUE, walk_nodes[i].known[VALUE].clone())],
                }
            })
            .collect();

        let bar = |i: usize| format!("t\u{304}{i}");
        let backward = (0..count)
            .rev()
            .filter(|&i| gradients.by_index(i).is_some() && nodes[i].requires_grad)
            .map(|i| {
                let node = &nodes[i];
                let mut lines = vec![format!(
                    "{} = ∂{}/∂{}: {} = {}",
                    bar(i),
                    id(output.id),
                    id(i),
                    shape(i),
                    walk_nodes[i].known[GRADIENT]
                )];
                if i == output.id {
                    lines.push("the seed: the output's gradient with respect to itself".into());
                } else if !node.parents.is_empty() {
                    let rule = rule_text(&node.op, &bar(i), &node.parents, &nodes);
                    lines.push(format!("{} = {}: {rule}", id(i), definition(i)));
                }
                WalkStep {
                    node: i,
                    edge: None,
                    lines,
                    sets: vec![(i, GRADIENT, walk_nodes[i].known[GRADIENT].clone())],
                }
            })
            .collect();

        drop(nodes);
        let mut picture = self.picture(std::slice::from_ref(output));
        picture.nodes.truncate(count);
        let fields = vec!["shape".to_string(), "value".to_string(), "gradient".to_string()];
        for node in &mut picture.nodes {
            node.lines = fields
                .iter()
                .zip(crate::graph::FIELD_COLOURS)
                .map(|(f, c)| (f.clone(), c))
                .collect();
        }
        Ok(Walkthrough {
            picture,
            fields,
            nodes: walk_nodes,
            sweeps: vec![
                Sweep {
                    name: "forward: array operations in order".into(),
                    direction: SweepDirection::Forward,
                    shows: vec![SHAPE, VALUE],
                    fills: vec![VALUE],
                    steps: forward,
                },
                Sweep {
                    name: format!("reverse: gradients of t{}", output.id),
                    direction: SweepDirection::Reverse,
                    shows: vec![SHAPE, GRADIENT],
                    fills: vec![GRADIENT],
                    steps: backward,
                },
            ],
        })
    }

    /// The tape's interactive page (see [`walkthrough`](TensorTape::walkthrough)).
    ///
    /// # Errors
    /// As [`backward`](TensorTape::backward).
    #[cfg(feature = "html")]
    pub fn to_html(&self, output: &Tensor<'_, T>, title: &str) -> Result<String, TensorError> {
        let walk = self.walkthrough(output)?;
        Ok(crate::graph::Page::new(title, "").with_walkthrough(walk).to_html())
    }
}

/// What the backward rule of `op` pushes to its arguments, in words.
fn rule_text<T: super::Element>(op: &TensorOp, bar: &str, parents: &[usize], nodes: &[Node<T>]) -> String {
    let arg = |k: usize| format!("t{}", parents[k]);
    let to: Vec<String> = parents
        .iter()
        .filter(|&&p| nodes[p].requires_grad)
        .map(|&p| format!("t{p}"))
        .collect();
    if to.is_empty() {
        return "no argument needs a gradient".into();
    }
    match op {
        TensorOp::MatMul => format!(
            "pushes {bar}·{}ᵀ to {} and {}ᵀ·{bar} to {}",
            arg(1),
            arg(0),
            arg(0),
            arg(1)
        ),
        TensorOp::Sum => format!("pushes {bar} to every element of {}", arg(0)),
        TensorOp::Binary(_) => format!(
            "pushes {bar} times each elementwise partial (rule table) to {}, summed over broadcast axes",
            to.join(" and ")
        ),
        TensorOp::Unary(u) => format!("pushes {bar} · {}′ (rule table, elementwise) to {}", u.name(), arg(0)),
        _ => format!("pushes {bar} back through {} to {}", op_name(op), to.join(" and ")),
    }
}

/// An array in a few characters, to fit its box: the elements when there
/// are at most three, otherwise their root mean square.
fn summary<T: Element>(array: &Array<T>) -> String {
    let data = as_f64(array);
    if data.len() <= 3 {
        let texts: Vec<String> = data.iter().map(|&x| short(x)).collect();
        return format!("[{}]", texts.join(", "));
    }
    let mean_square = data.iter().map(|x| x * x).sum::<f64>() / data.len() as f64;
    format!("rms {}", short(mean_square.sqrt()))
}

/// Mean, smallest and largest element, for the details of a node.
fn statistics<T: Element>(array: &Array<T>) -> String {
    let data = as_f64(array);
    if data.is_empty() {
        return "no elements".into();
    }
    let mean = data.iter().sum::<f64>() / data.len() as f64;
    let min = data.iter().copied().fold(f64::INFINITY, f64::min);
    let max = data.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    format!(
        "mean {}, min {}, max {} over {} elements",
        format_number(mean),
        format_number(min),
        format_number(max),
        data.len()
    )
}

fn as_f64<T: Element>(array: &Array<T>) -> Vec<f64> {
    array.data().iter().map(|x| x.to_f64().unwrap_or(f64::NAN)).collect()
}

/// Four significant digits.
fn short(x: f64) -> String {
    if x == 0.0 || !x.is_finite() {
        return format_number(x);
    }
    format_number(format!("{x:.3e}").parse().unwrap_or(x))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_mlp_step_walks_forward_and_back() {
        let tape = TensorTape::<f64>::new();
        let x = tape.constant(Array::new(vec![2, 3], vec![0.1, 0.2, 0.3, -0.1, 0.5, 0.9]).unwrap());
        let w = tape.input(Array::full(vec![3, 4], 0.1));
        let b = tape.input(Array::full(vec![4], 0.0));
        let hidden = x.matmul(&w).unwrap().add(&b).unwrap().relu();
        let loss = hidden.cross_entropy(&[1, 3]).unwrap();
        let walk = tape.walkthrough(&loss).unwrap();
        assert_eq!(walk.sweeps[0].steps.len(), tape.len());
        // The backward sweep reaches w and b but not the data x.
        let reached: Vec<usize> = walk.sweeps[1].steps.iter().map(|s| s.node).collect();
        assert!(reached.contains(&w.id) && reached.contains(&b.id) && !reached.contains(&x.id));
        let grads = tape.backward(&loss).unwrap();
        assert_eq!(walk.nodes[b.id].known[GRADIENT], summary(&grads.of(&b)));
    }
}

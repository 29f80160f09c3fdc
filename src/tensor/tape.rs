//! Array-level reverse mode: one tape node per array operation.

use std::cell::RefCell;
use std::rc::Rc;

use super::array::{Array, Element, TensorError, broadcast_shapes};
use super::fusion;
use super::kernels::{self, with_binary, with_unary};
use super::node::{Node, TensorOp};
use crate::rules::{self, Binary, Unary};

/// A tape of array operations. Tensors made on it ([`Tensor`]) record each
/// operation; [`TensorTape::backward`] sweeps it once, last node first, and
/// returns the gradient of a scalar with respect to every tensor.
///
/// ```
/// use chainrule::tensor::{Array, TensorTape};
/// let tape = TensorTape::<f64>::new();
/// let x = tape.input(Array::new(vec![3], vec![1.0, 2.0, 3.0]).unwrap());
/// let y = x.mul(&x).unwrap().sum(); // Σ x²
/// let grads = tape.backward(&y).unwrap();
/// assert_eq!(grads.of(&x).data(), &[2.0, 4.0, 6.0]);
/// ```
pub struct TensorTape<T: Element> {
    pub(super) nodes: RefCell<Vec<Node<T>>>,
    /// Unique among all tapes and renewed by `clear`, so gradients can tell
    /// whether a tensor is one of theirs.
    identity: u64,
    /// Whether elementwise operations are deferred and fused.
    fuses: bool,
}

/// A fresh tape identity.
fn next_identity() -> u64 {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
    NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
}

impl<T: Element> Default for TensorTape<T> {
    fn default() -> Self {
        Self::new()
    }
}

/// A tensor recorded on a [`TensorTape`]: cheap to copy (an index).
#[derive(Clone, Copy)]
pub struct Tensor<'t, T: Element> {
    pub(super) tape: &'t TensorTape<T>,
    pub(super) id: usize,
}

/// Gradients from one backward sweep, by tensor.
pub struct Gradients<T: Element> {
    grads: Vec<Option<Array<T>>>,
    /// Which gradients [`take`](Gradients::take) moved out.
    taken: Vec<bool>,
    shapes: Vec<Vec<usize>>,
    /// The identity of the swept tape.
    tape: u64,
}

impl<T: Element> Gradients<T> {
    /// The gradient of tensor number `id`, if the sweep reached it.
    pub(super) fn by_index(&self, id: usize) -> Option<&Array<T>> {
        self.grads.get(id).and_then(Option::as_ref)
    }

    /// The gradient with respect to `tensor` (zeros if the output does not
    /// depend on it).
    ///
    /// # Panics
    /// If `tensor` is from another tape, or recorded on the swept tape after
    /// it was cleared (a programming error: take gradients from the sweep of
    /// the tape that recorded the tensor).
    pub fn of(&self, tensor: &Tensor<'_, T>) -> Array<T> {
        assert!(
            tensor.tape.identity == self.tape && tensor.id < self.shapes.len(),
            "Gradients::of: the tensor is not from the swept tape; take its gradient from its own tape's backward"
        );
        assert!(
            !self.taken[tensor.id],
            "Gradients::of: this tensor's gradient was moved out by take; read it with of before taking it"
        );
        self.grads[tensor.id]
            .clone()
            .unwrap_or_else(|| Array::zeros(self.shapes[tensor.id].clone()))
    }

    /// Moves the gradient with respect to `tensor` out, without copying it
    /// (zeros if the output does not depend on it): the form for a training
    /// loop, which hands each gradient to the optimizer once.
    ///
    /// ```
    /// use chainrule::tensor::{Array, TensorTape};
    ///
    /// let tape = TensorTape::<f64>::new();
    /// let x = tape.input(Array::new(vec![3], vec![1.0, 2.0, 3.0])?);
    /// let mut grads = tape.backward(&x.mul(&x)?.sum())?;
    /// assert_eq!(grads.take(&x).data(), &[2.0, 4.0, 6.0]);
    /// # Ok::<(), chainrule::tensor::TensorError>(())
    /// ```
    ///
    /// # Panics
    /// As [`of`](Gradients::of), and if this tensor's gradient was already
    /// taken (a programming error: take each gradient once, or read it with
    /// `of` first).
    pub fn take(&mut self, tensor: &Tensor<'_, T>) -> Array<T> {
        assert!(
            tensor.tape.identity == self.tape && tensor.id < self.shapes.len(),
            "Gradients::take: the tensor is not from the swept tape; take its gradient from its own tape's backward"
        );
        assert!(
            !std::mem::replace(&mut self.taken[tensor.id], true),
            "Gradients::take: this tensor's gradient was already taken; take each gradient once"
        );
        self.grads[tensor.id]
            .take()
            .unwrap_or_else(|| Array::zeros(self.shapes[tensor.id].clone()))
    }
}

impl<T: Element> TensorTape<T> {
    /// An empty tape. Chains of elementwise operations recorded on it run
    /// as fused kernels (see [`unfused`](TensorTape::unfused)).
    pub fn new() -> Self {
        TensorTape {
            nodes: RefCell::new(Vec::new()),
            identity: next_identity(),
            fuses: true,
        }
    }

    /// An empty tape that computes every operation when it is recorded and
    /// sweeps each one on its own: no fused kernels. Values are the same
    /// bits either way; gradients agree to the last bits (a fused group adds
    /// its contributions to a tensor outside it before the others). For
    /// checking fusion, and for timing what it saves.
    ///
    /// ```
    /// use chainrule::tensor::{Array, TensorTape};
    ///
    /// let loss = |tape: &TensorTape<f64>| -> Result<(f64, Vec<f64>), chainrule::tensor::TensorError> {
    ///     let x = tape.input(Array::new(vec![3], vec![0.5, -1.0, 2.0])?);
    ///     let y = x.unary(chainrule::rules::Unary::Sin).mul(&x)?.offset(1.0).sum();
    ///     Ok((y.value().data()[0], tape.backward(&y)?.of(&x).data().to_vec()))
    /// };
    /// let (fused, unfused) = (loss(&TensorTape::new())?, loss(&TensorTape::unfused())?);
    /// assert_eq!(fused.0.to_bits(), unfused.0.to_bits());
    /// assert_eq!(fused.1, unfused.1);
    /// # Ok::<(), chainrule::tensor::TensorError>(())
    /// ```
    pub fn unfused() -> Self {
        TensorTape {
            fuses: false,
            ..Self::new()
        }
    }

    /// Number of recorded tensors.
    pub fn len(&self) -> usize {
        self.nodes.borrow().len()
    }

    /// Whether nothing is recorded.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Forgets every recorded tensor, keeping the tape for reuse.
    pub fn clear(&mut self) {
        self.nodes.get_mut().clear();
        self.identity = next_identity();
    }

    fn push(&self, op: TensorOp, parents: Vec<usize>, value: Array<T>) -> Tensor<'_, T> {
        let shape = value.shape().to_vec();
        self.push_node(op, parents, shape, Some(Rc::new(value)))
    }

    fn push_node(
        &self,
        op: TensorOp,
        parents: Vec<usize>,
        shape: Vec<usize>,
        value: Option<Rc<Array<T>>>,
    ) -> Tensor<'_, T> {
        let mut nodes = self.nodes.borrow_mut();
        let requires_grad = parents.iter().any(|&p| nodes[p].requires_grad);
        let deferred_depth = if value.is_none() {
            1 + parents.iter().map(|&p| nodes[p].deferred_depth).sum::<usize>()
        } else {
            0
        };
        nodes.push(Node {
            op,
            parents,
            len: shape.iter().product(),
            shape,
            value,
            requires_grad,
            deferred_depth,
        });
        Tensor {
            tape: self,
            id: nodes.len() - 1,
        }
    }

    /// Records an elementwise operation with a result of `shape`: deferred
    /// (see [`fusion`]) when it fuses, else computed now by `compute`.
    fn record_elementwise(
        &self,
        op: TensorOp,
        parents: Vec<usize>,
        shape: Vec<usize>,
        compute: impl FnOnce() -> Result<Array<T>, TensorError>,
    ) -> Result<Tensor<'_, T>, TensorError> {
        let (defer, depth) = {
            let nodes = self.nodes.borrow();
            let defer = self.fuses && fusion::elementwise(&nodes, &op, &parents, shape.iter().product());
            (defer, parents.iter().map(|&p| nodes[p].deferred_depth).sum::<usize>())
        };
        if !defer {
            let value = compute()?;
            return Ok(self.push(op, parents, value));
        }
        if depth >= fusion::MOST_FUSED {
            // A long chain stores its arguments, so a fused group stays small.
            for &p in &parents {
                self.value_of(p);
            }
        }
        Ok(self.push_node(op, parents, shape, None))
    }

    /// Records `op` on tensor `id` as a deferred view of its value (stored
    /// now, if it was deferred), with the result's `shape`.
    fn record_view(&self, op: TensorOp, id: usize, shape: Vec<usize>) -> Tensor<'_, T> {
        self.value_of(id);
        self.push_node(op, vec![id], shape, None)
    }

    /// The value of tensor `id`, computed (and kept) if it was deferred.
    fn value_of(&self, id: usize) -> Rc<Array<T>> {
        if let Some(value) = &self.nodes.borrow()[id].value {
            return Rc::clone(value);
        }
        let value = fusion::evaluate(&self.nodes.borrow(), id);
        self.nodes.borrow_mut()[id].store(value)
    }

    /// Computes and keeps every deferred value (for pictures that show values).
    pub(super) fn evaluate_all(&self) {
        for id in 0..self.len() {
            self.value_of(id);
        }
    }

    /// A leaf tensor whose gradient is wanted (a parameter, or an input
    /// being differentiated). Takes an [`Array`], or an `Rc<Array>` to share
    /// one with the caller without copying it.
    pub fn input(&self, value: impl Into<Rc<Array<T>>>) -> Tensor<'_, T> {
        self.leaf(value.into(), true)
    }

    /// A leaf tensor that needs no gradient (a batch of data, a constant):
    /// the backward sweep does no work for it. Takes an [`Array`], or an
    /// `Rc<Array>` shared with the caller, which is how the same batch is
    /// fed to many steps without a copy per step:
    ///
    /// ```
    /// use std::rc::Rc;
    /// use chainrule::tensor::{Array, TensorTape};
    ///
    /// let batch = Rc::new(Array::new(vec![2], vec![1.0, 2.0])?);
    /// let mut tape = TensorTape::<f64>::new();
    /// for _ in 0..3 {
    ///     tape.clear();
    ///     let x = tape.constant(Rc::clone(&batch));
    ///     assert_eq!(x.sum().value().data(), &[3.0]);
    /// }
    /// # Ok::<(), chainrule::tensor::TensorError>(())
    /// ```
    pub fn constant(&self, value: impl Into<Rc<Array<T>>>) -> Tensor<'_, T> {
        self.leaf(value.into(), false)
    }

    fn leaf(&self, value: Rc<Array<T>>, requires_grad: bool) -> Tensor<'_, T> {
        let mut nodes = self.nodes.borrow_mut();
        nodes.push(Node {
            op: TensorOp::Input,
            parents: Vec::new(),
            shape: value.shape().to_vec(),
            len: value.len(),
            value: Some(value),
            requires_grad,
            deferred_depth: 0,
        });
        Tensor {
            tape: self,
            id: nodes.len() - 1,
        }
    }

    /// The recorded graph in Graphviz's DOT language: one box per array
    /// operation with its name and shape, edges from arguments to results.
    ///
    /// ```
    /// use chainrule::tensor::{Array, TensorTape};
    /// let tape = TensorTape::<f64>::new();
    /// let x = tape.input(Array::zeros(vec![2, 3]));
    /// let w = tape.input(Array::zeros(vec![3, 4]));
    /// let _ = x.matmul(&w).unwrap().sum();
    /// let dot = tape.to_dot();
    /// assert!(dot.contains(r#"n2 [label="t2 = matmul(t0, t1)\nshape [2, 4]"]"#));
    /// assert!(dot.contains("n0 -> n2;"));
    /// ```
    pub fn to_dot(&self) -> String {
        self.picture(&[]).to_dot()
    }

    /// The recorded graph as a [`Picture`](crate::graph::Picture): one box per
    /// array operation with its definition and shape; `outputs` are drawn as
    /// outputs.
    pub fn picture(&self, outputs: &[Tensor<'_, T>]) -> crate::graph::Picture {
        use crate::graph::{NodeStyle, Picture, PictureNode};
        let nodes = self.nodes.borrow();
        let groups = fused_groups(&nodes);
        let pictured = nodes
            .iter()
            .enumerate()
            .map(|(id, node)| {
                let args: Vec<String> = node.parents.iter().map(|p| format!("t{p}")).collect();
                let style = if outputs.iter().any(|o| o.id == id && std::ptr::eq(o.tape, self)) {
                    NodeStyle::Output
                } else if node.parents.is_empty() && node.requires_grad {
                    NodeStyle::Input
                } else if node.parents.is_empty() {
                    NodeStyle::Constant
                } else {
                    NodeStyle::Operation
                };
                let title = if node.parents.is_empty() {
                    format!("t{id} = {}", if node.requires_grad { "input" } else { "constant" })
                } else {
                    format!("t{id} = {}({})", op_name(&node.op), args.join(", "))
                };
                let mut lines = vec![(format!("shape {:?}", node.shape), "#374151")];
                if let Some(group) = groups[id] {
                    lines.push((format!("fused group {group}"), "#b45309"));
                }
                PictureNode {
                    title,
                    lines,
                    args: node.parents.clone(),
                    edge_labels: Vec::new(),
                    style,
                }
            })
            .collect();
        Picture {
            heading: "Tensor graph".into(),
            legend: "One box per array operation, with its shape; inputs (parameters) in blue, data in grey; \
                     elementwise operations not yet stored run together as one fused kernel per group."
                .into(),
            nodes: pictured,
        }
    }

    /// The recorded graph as an SVG picture (see [`picture`](TensorTape::picture)).
    ///
    /// ```
    /// use chainrule::tensor::{Array, TensorTape};
    /// let tape = TensorTape::<f64>::new();
    /// let x = tape.constant(Array::zeros(vec![4, 3]));
    /// let w = tape.input(Array::zeros(vec![3, 2]));
    /// let loss = x.matmul(&w).unwrap().sum();
    /// let svg = tape.to_svg(&[loss]);
    /// assert!(svg.contains("t2 = matmul(t0, t1)") && svg.contains("shape [4, 2]"));
    /// ```
    pub fn to_svg(&self, outputs: &[Tensor<'_, T>]) -> String {
        self.picture(outputs).to_svg()
    }

    /// The gradient of the scalar `output` with respect to every tensor on
    /// this tape: one backward sweep, a loop from the last node to the first.
    ///
    /// # Errors
    /// [`TensorError::NotScalar`] if `output` has more than one element,
    /// [`TensorError::ForeignTensor`] if it is from another tape.
    pub fn backward(&self, output: &Tensor<'_, T>) -> Result<Gradients<T>, TensorError> {
        self.sweep(output, self.fuses)
    }

    /// The backward sweep, with fused groups where `fuse` is set.
    pub(super) fn sweep(&self, output: &Tensor<'_, T>, fuse: bool) -> Result<Gradients<T>, TensorError> {
        if !std::ptr::eq(output.tape, self) {
            return Err(TensorError::ForeignTensor { op: "backward" });
        }
        let mut nodes = self.nodes.borrow_mut();
        if nodes[output.id].len != 1 {
            return Err(TensorError::NotScalar {
                op: "backward",
                shape: nodes[output.id].shape.clone(),
            });
        }
        let shapes: Vec<Vec<usize>> = nodes.iter().map(|n| n.shape.clone()).collect();
        let mut grads: Vec<Option<Array<T>>> = vec![None; nodes.len()];
        grads[output.id] = Some(Array::full(shapes[output.id].clone(), T::one()));
        // How many times each tensor is an argument, up to the output: a
        // fused group takes in a tensor only if all its uses are inside.
        let mut consumers = vec![0u32; output.id + 1];
        for node in &nodes[..=output.id] {
            for &p in &node.parents {
                consumers[p] += 1;
            }
        }
        for id in (0..=output.id).rev() {
            let Some(g) = grads[id].take() else { continue };
            if !nodes[id].requires_grad {
                grads[id] = Some(g);
                continue;
            }
            if fuse && let Some(fused) = fusion::backward(&nodes, id, &g, &consumers, &mut grads) {
                if let Some(value) = fused.root_value {
                    nodes[id].store(value);
                }
                grads[id] = Some(g);
                continue;
            }
            // The unfused step reads its arguments' values (a matrix product
            // reads a deferred transpose's parent through strides instead).
            for k in 0..nodes[id].parents.len() {
                let p = nodes[id].parents[k];
                let strided = matches!(nodes[id].op, TensorOp::MatMul) && is_transpose_view(&nodes[p]);
                if fusion::is_deferred(&nodes[p]) && !strided {
                    let value = fusion::evaluate(&nodes, p);
                    nodes[p].store(value);
                }
            }
            let node = &nodes[id];
            if let Some(done) = backward_in_place(node, &nodes, &g, &mut grads) {
                done?;
                grads[id] = Some(g);
                continue;
            }
            let parent_grads = if let TensorOp::MatMul = node.op {
                matmul_adjoints(&nodes, node, &g)?
            } else {
                let args: Vec<&Array<T>> = node.parents.iter().map(|&p| stored(&nodes[p])).collect();
                let needs: Vec<bool> = node.parents.iter().map(|&p| nodes[p].requires_grad).collect();
                local_backward(&node.op, &args, &needs, node.value.as_deref(), &g)?
            };
            for (&p, pg) in node.parents.iter().zip(parent_grads) {
                let Some(pg) = pg else { continue };
                match &mut grads[p] {
                    Some(acc) => acc.data_mut().iter_mut().zip(pg.data()).for_each(|(a, &b)| *a += b),
                    slot @ None => *slot = Some(pg),
                }
            }
            grads[id] = Some(g);
        }
        Ok(Gradients {
            taken: vec![false; grads.len()],
            grads,
            shapes,
            tape: self.identity,
        })
    }
}

/// The backward step of `node` (output gradient `g`) for the cases that
/// write straight into the parent's gradient instead of building a gradient
/// array to add to it; `None` for every other case.
///
/// - A slice adds `g` into its range of the parent's gradient (only a
///   parent with no gradient yet gets a zero array first).
/// - A two-argument operation of one tensor with itself (`x * x`) whose
///   parent has no gradient yet gets `∂f/∂a·g + ∂f/∂c·g` from one pass: the
///   sum the two-array path would form, bit for bit.
fn backward_in_place<T: Element>(
    node: &Node<T>,
    nodes: &[Node<T>],
    g: &Array<T>,
    grads: &mut [Option<Array<T>>],
) -> Option<Result<(), TensorError>> {
    match (&node.op, node.parents.as_slice()) {
        (&TensorOp::Slice { axis, start, end }, &[p]) if nodes[p].requires_grad => {
            let x = stored(&nodes[p]);
            // A fresh gradient takes `g` as it is (a −0 stays −0), one
            // already there adds it.
            let fresh = grads[p].is_none();
            let grad = grads[p].get_or_insert_with(|| Array::zeros(x.shape().to_vec()));
            Some(x.split_at_axis(axis).map(|(outer, size, inner)| {
                let kept = end - start;
                let target = grad.data_mut();
                for (o, block) in g.data().chunks_exact((kept * inner).max(1)).enumerate().take(outer) {
                    let at = (o * size + start) * inner;
                    let range = &mut target[at..at + kept * inner];
                    if fresh {
                        range.copy_from_slice(block);
                    } else {
                        range.iter_mut().zip(block).for_each(|(t, &v)| *t += v);
                    }
                }
            }))
        }
        (&TensorOp::Binary(op), &[p, q]) if p == q && nodes[p].requires_grad && grads[p].is_none() => {
            let x = stored(&nodes[p]);
            let data = with_binary!(op, |rule| kernels::adjoint_of_square(x.data(), g.data(), rule));
            Some(Array::new(x.shape().to_vec(), data).map(|sum| grads[p] = Some(sum)))
        }
        _ => None,
    }
}

/// Whether the node is a deferred transpose: a view of its stored parent
/// that matrix products read through strides.
fn is_transpose_view<T: Element>(node: &Node<T>) -> bool {
    fusion::is_deferred(node) && matches!(node.op, TensorOp::Transpose)
}

/// A matrix product's operand as the stored array and whether the product
/// reads it transposed: a deferred transpose is its parent, transposed.
fn matrix_operand<T: Element>(nodes: &[Node<T>], id: usize) -> (&Array<T>, bool) {
    if is_transpose_view(&nodes[id]) {
        (stored(&nodes[nodes[id].parents[0]]), true)
    } else {
        (stored(&nodes[id]), false)
    }
}

/// The adjoints of `C = op(A)·op(B)`: `Ā = C̄·op(B)ᵀ` and `B̄ = op(A)ᵀ·C̄`,
/// every transpose read through strides, never copied; `None` for an
/// argument that needs no gradient.
fn matmul_adjoints<T: Element>(
    nodes: &[Node<T>],
    node: &Node<T>,
    g: &Array<T>,
) -> Result<Vec<Option<Array<T>>>, TensorError> {
    let (p, q) = (node.parents[0], node.parents[1]);
    let ((a, ta), (b, tb)) = (matrix_operand(nodes, p), matrix_operand(nodes, q));
    let ga = nodes[p]
        .requires_grad
        .then(|| g.matmul_transposed(false, b, !tb))
        .transpose()?;
    let gb = nodes[q]
        .requires_grad
        .then(|| a.matmul_transposed(!ta, g, false))
        .transpose()?;
    Ok(vec![ga, gb])
}

/// A node's value where the sweep has made sure it is stored.
fn stored<T: Element>(node: &Node<T>) -> &Array<T> {
    node.value
        .as_deref()
        .expect("the backward sweep stores each argument it reads")
}

/// Fused groups for the graph picture: deferred nodes joined through
/// deferred arguments, numbered from 1 in recording order.
fn fused_groups<T: Element>(nodes: &[Node<T>]) -> Vec<Option<usize>> {
    let mut groups: Vec<Option<usize>> = vec![None; nodes.len()];
    let mut count = 0;
    // Union-find by the smallest member, then numbered.
    let mut leader: Vec<usize> = (0..nodes.len()).collect();
    fn find(leader: &mut [usize], mut i: usize) -> usize {
        while leader[i] != i {
            leader[i] = leader[leader[i]];
            i = leader[i];
        }
        i
    }
    // A deferred transpose is a view read by matrix products, not part of
    // a fused kernel.
    let fused = |node: &Node<T>| fusion::is_deferred(node) && !is_transpose_view(node);
    for (id, node) in nodes.iter().enumerate() {
        if fused(node) {
            for &p in &node.parents {
                if fused(&nodes[p]) {
                    let (a, b) = (find(&mut leader, id), find(&mut leader, p));
                    leader[a.max(b)] = a.min(b);
                }
            }
        }
    }
    let mut numbers = std::collections::HashMap::new();
    for (id, node) in nodes.iter().enumerate() {
        if fused(node) {
            let root = find(&mut leader, id);
            groups[id] = Some(*numbers.entry(root).or_insert_with(|| {
                count += 1;
                count
            }));
        }
    }
    groups
}

/// The adjoints of `op(a, c)` when one operand is a single number broadcast
/// against the other (`scale`, `offset`, a scalar constant): the array's in
/// one pass compiled for `op`, the number's as a sum. `None` for other shapes.
fn scalar_operand_adjoints<T: Element>(
    op: Binary,
    a: &Array<T>,
    c: &Array<T>,
    g: &Array<T>,
    wanted: (bool, bool),
) -> Option<Result<Vec<Option<Array<T>>>, TensorError>> {
    let number = |x: &Array<T>, other: &Array<T>| x.len() == 1 && x.shape().len() <= other.shape().len();
    let (array_side, single, right) = if number(c, a) {
        (a, c, true)
    } else if number(a, c) {
        (c, a, false)
    } else {
        return None;
    };
    let s = single.data()[0];
    let (want_array, want_single) = if right { wanted } else { (wanted.1, wanted.0) };
    let (array_adjoint, single_adjoint) = with_binary!(op, |rule| {
        // ∂/∂(array side) and ∂/∂(the number), at each element of the array.
        let partials = |x: T| {
            if right {
                let (_, pa, pc) = rule(x, s);
                (pa, pc)
            } else {
                let (_, pa, pc) = rule(s, x);
                (pc, pa)
            }
        };
        (
            want_array.then(|| kernels::scaled_by(array_side.data(), g.data(), |x| partials(x).0)),
            want_single.then(|| kernels::sum_scaled_by(array_side.data(), g.data(), |x| partials(x).1)),
        )
    });
    let shaped = |shape: &[usize], data: Vec<T>| Array::new(shape.to_vec(), data);
    let result = (|| {
        let array_adjoint = array_adjoint.map(|d| shaped(array_side.shape(), d)).transpose()?;
        let single_adjoint = single_adjoint.map(|d| shaped(single.shape(), vec![d])).transpose()?;
        Ok(if right {
            vec![array_adjoint, single_adjoint]
        } else {
            vec![single_adjoint, array_adjoint]
        })
    })();
    Some(result)
}

/// A tensor operation's short name, as the graph shows it.
pub(super) fn op_name(op: &TensorOp) -> &'static str {
    match op {
        TensorOp::Input => "input",
        TensorOp::Unary(u) => u.name(),
        TensorOp::Binary(b) => b.name(),
        TensorOp::MatMul => "matmul",
        TensorOp::Sum => "sum",
        TensorOp::SumAxis(_) => "sum_axis",
        TensorOp::MaxAxis(_) => "max_axis",
        TensorOp::Slice { .. } => "slice",
        TensorOp::Concat(_) => "concat",
        TensorOp::Reshape => "reshape",
        TensorOp::Transpose => "transpose",
        TensorOp::LogSoftmax => "log_softmax",
        TensorOp::NllLoss(_) => "nll_loss",
        TensorOp::Custom(name) => name,
    }
}

/// The gradients of one operation's arguments, given its output gradient `g`.
/// Arguments that need no gradient (`needs[k]` false) get `None`; the
/// expensive rules (matrix products, broadcasting) skip their work for them.
fn local_backward<T: Element>(
    op: &TensorOp,
    args: &[&Array<T>],
    needs: &[bool],
    value: Option<&Array<T>>,
    g: &Array<T>,
) -> Result<Vec<Option<Array<T>>>, TensorError> {
    let value = || value.expect("max_axis and log_softmax are stored when recorded");
    let wanted = |k: usize| needs.get(k).copied().unwrap_or(false);
    if let TensorOp::Binary(b) = op {
        let (a, c) = (args[0], args[1]);
        let mut out = vec![None, None];
        if a.shape() == c.shape() {
            // No broadcasting: one pass for both adjoints, partials times
            // incoming gradient, straight from the rule table, in a loop
            // compiled for this operation.
            let (da, dc) = with_binary!(*b, |rule| kernels::binary_adjoints(
                a.data(),
                c.data(),
                g.data(),
                (wanted(0), wanted(1)),
                rule
            ));
            let shaped = |data: Vec<T>| Array::new(a.shape().to_vec(), data);
            return Ok(vec![da.map(shaped).transpose()?, dc.map(shaped).transpose()?]);
        }
        if let Some(adjoints) = scalar_operand_adjoints(*b, a, c, g, (wanted(0), wanted(1))) {
            return adjoints;
        }
        if wanted(0) {
            let da = with_binary!(*b, |rule| a.zip_with(c, b.name(), |x, y| rule(x, y).1))?;
            out[0] = Some(da.zip_with(g, "*", |d, g| rules::chain(d, g))?.sum_to(a.shape()));
        }
        if wanted(1) {
            let dc = with_binary!(*b, |rule| a.zip_with(c, b.name(), |x, y| rule(x, y).2))?;
            out[1] = Some(dc.zip_with(g, "*", |d, g| rules::chain(d, g))?.sum_to(c.shape()));
        }
        return Ok(out);
    }
    let grads = match op {
        TensorOp::Input => Vec::new(),
        // The rule table's derivative, elementwise: no second copy of the rules.
        TensorOp::Unary(u) => {
            let x = args[0];
            let data = with_unary!(*u, |rule| kernels::scaled_by(x.data(), g.data(), |x| rule(x).1));
            vec![Array::new(x.shape().to_vec(), data)?]
        }
        TensorOp::Binary(_) => unreachable!("handled above"),
        TensorOp::MatMul => unreachable!("matrix products are swept by matmul_adjoints"),
        // The partials were computed with the value (the second argument).
        TensorOp::Custom(_) => vec![args[1].zip_with(g, "*", |d, g| rules::chain(d, g))?],
        TensorOp::Sum => vec![Array::full(args[0].shape().to_vec(), g.data()[0])],
        TensorOp::SumAxis(axis) => {
            let x = args[0];
            let (outer, size, inner) = x.split_at_axis(*axis)?;
            let mut data = super::pool::filled(x.len(), T::zero());
            for o in 0..outer {
                for s in 0..size {
                    for i in 0..inner {
                        data[(o * size + s) * inner + i] = g.data()[o * inner + i];
                    }
                }
            }
            vec![Array::new(x.shape().to_vec(), data)?]
        }
        TensorOp::MaxAxis(axis) => {
            let x = args[0];
            let (outer, size, inner) = x.split_at_axis(*axis)?;
            let mut data = super::pool::filled(x.len(), T::zero());
            for o in 0..outer {
                for i in 0..inner {
                    let at = |s: usize| (o * size + s) * inner + i;
                    let max = value().data()[o * inner + i];
                    let ties = (0..size).filter(|&s| x.data()[at(s)] == max).count();
                    let share = g.data()[o * inner + i] / T::from_usize(ties.max(1)).unwrap_or_else(T::one);
                    for s in (0..size).filter(|&s| x.data()[at(s)] == max) {
                        data[at(s)] = share;
                    }
                }
            }
            vec![Array::new(x.shape().to_vec(), data)?]
        }
        TensorOp::Slice { .. } => unreachable!("slices add into the parent's gradient in backward_in_place"),
        TensorOp::Concat(axis) => {
            let mut grads = Vec::with_capacity(args.len());
            let mut offset = 0;
            for x in args {
                let width = x.shape()[*axis];
                grads.push(g.slice(*axis, offset, offset + width)?);
                offset += width;
            }
            grads
        }
        TensorOp::Reshape => vec![g.reshape(args[0].shape().to_vec())?],
        TensorOp::Transpose => vec![g.transpose()?],
        TensorOp::LogSoftmax => {
            // y = x − lse(x): x̄ = ȳ − softmax(x)·Σȳ along the last axis
            let value = value();
            let n = *value.shape().last().unwrap_or(&1);
            let mut data = g.data().to_vec();
            for (row, y) in data.chunks_mut(n.max(1)).zip(value.data().chunks(n.max(1))) {
                let total: T = row.iter().copied().sum();
                for (r, &y) in row.iter_mut().zip(y) {
                    *r -= y.exp() * total;
                }
            }
            vec![Array::new(value.shape().to_vec(), data)?]
        }
        TensorOp::NllLoss(targets) => {
            let logp = args[0];
            let classes = logp.shape()[1];
            let scale = g.data()[0] / T::from_usize(targets.len()).unwrap_or_else(T::one);
            let mut grad = Array::zeros(logp.shape().to_vec());
            for (row, &t) in targets.iter().enumerate() {
                grad.data_mut()[row * classes + t] = -scale;
            }
            vec![grad]
        }
    };
    Ok(grads.into_iter().map(Some).collect())
}

impl<'t, T: Element> Tensor<'t, T> {
    /// The tensor's value.
    pub fn value(&self) -> Rc<Array<T>> {
        self.tape.value_of(self.id)
    }

    /// The same value as a tensor that gradients do not flow through
    /// (PyTorch's `detach`, JAX's `stop_gradient`): a constant leaf of the
    /// same tape sharing this tensor's array, not a copy.
    ///
    /// ```
    /// use chainrule::tensor::{Array, TensorTape};
    /// let tape = TensorTape::new();
    /// let x = tape.input(Array::new(vec![3], vec![1.0, 2.0, 3.0])?);
    /// // Σ x·detach(x): the gradient is x, not 2x.
    /// let loss = x.mul(&x.detach())?.sum();
    /// let gradients = tape.backward(&loss)?;
    /// assert_eq!(gradients.of(&x).data(), &[1.0, 2.0, 3.0]);
    /// # Ok::<(), chainrule::tensor::TensorError>(())
    /// ```
    pub fn detach(&self) -> Tensor<'t, T> {
        self.tape.leaf(self.value(), false)
    }

    /// The tensor's shape.
    pub fn shape(&self) -> Vec<usize> {
        self.tape.nodes.borrow()[self.id].shape.clone()
    }

    fn same_tape(&self, other: &Tensor<'t, T>) -> Result<(), TensorError> {
        if std::ptr::eq(self.tape, other.tape) {
            Ok(())
        } else {
            Err(TensorError::ForeignTensor {
                op: "combining tensors",
            })
        }
    }

    /// The elementary function `op` elementwise, e.g. `Unary::Tanh`.
    pub fn unary(&self, op: Unary) -> Tensor<'t, T> {
        self.tape
            .record_elementwise(TensorOp::Unary(op), vec![self.id], self.shape(), || {
                Ok(self.value().unary(op))
            })
            .expect("an elementary function of an array always has a value")
    }

    /// The custom elementary function `f` elementwise: its value, and its
    /// partial derivative (computed at the same time and kept for the
    /// backward sweep).
    ///
    /// ```
    /// use chainrule::tensor::{Array, TensorTape};
    /// use chainrule::{Elementary, Real};
    ///
    /// /// x³ with its derivative stated.
    /// #[derive(Clone)]
    /// struct Cube;
    /// impl Elementary<1> for Cube {
    ///     const NAME: &'static str = "cube";
    ///     fn value<T: Real>(&self, [x]: [T; 1]) -> T { x * x * x }
    ///     fn partials<T: Real>(&self, [x]: [T; 1]) -> [T; 1] { [T::from(3.0).unwrap() * x * x] }
    /// }
    /// let tape = TensorTape::new();
    /// let x = tape.input(Array::new(vec![2], vec![1.0, -2.0])?);
    /// let loss = x.map_elementary(&Cube).sum();
    /// assert_eq!(loss.value().data(), &[-7.0]);
    /// assert_eq!(tape.backward(&loss)?.of(&x).data(), &[3.0, 12.0]);
    /// # Ok::<(), chainrule::tensor::TensorError>(())
    /// ```
    pub fn map_elementary<E: crate::Elementary<1>>(&self, f: &E) -> Tensor<'t, T> {
        let x = self.value();
        let value = x.map(|v| f.value([v]));
        let partials = self.tape.constant(x.map(|v| f.partials([v])[0]));
        self.tape
            .push(TensorOp::Custom(E::NAME), vec![self.id, partials.id], value)
    }

    /// The two-argument elementary function `op` elementwise, with NumPy
    /// broadcasting.
    ///
    /// # Errors
    /// [`TensorError::ShapeMismatch`] naming both shapes if they do not
    /// broadcast.
    pub fn binary(&self, op: Binary, other: &Tensor<'t, T>) -> Result<Tensor<'t, T>, TensorError> {
        self.same_tape(other)?;
        let compute = || self.value().binary(&other.value(), op);
        match broadcast_shapes(&self.shape(), &other.shape()) {
            Some(shape) => self
                .tape
                .record_elementwise(TensorOp::Binary(op), vec![self.id, other.id], shape, compute),
            // Not broadcastable: the array operation says why.
            None => compute().map(|value| self.tape.push(TensorOp::Binary(op), vec![self.id, other.id], value)),
        }
    }

    /// `self + other`, broadcasting.
    ///
    /// # Errors
    /// As [`binary`](Tensor::binary).
    pub fn add(&self, other: &Tensor<'t, T>) -> Result<Tensor<'t, T>, TensorError> {
        self.binary(Binary::Add, other)
    }

    /// `self − other`, broadcasting.
    ///
    /// # Errors
    /// As [`binary`](Tensor::binary).
    pub fn sub(&self, other: &Tensor<'t, T>) -> Result<Tensor<'t, T>, TensorError> {
        self.binary(Binary::Sub, other)
    }

    /// `self · other` elementwise, broadcasting.
    ///
    /// # Errors
    /// As [`binary`](Tensor::binary).
    pub fn mul(&self, other: &Tensor<'t, T>) -> Result<Tensor<'t, T>, TensorError> {
        self.binary(Binary::Mul, other)
    }

    /// `self / other` elementwise, broadcasting.
    ///
    /// # Errors
    /// As [`binary`](Tensor::binary).
    pub fn div(&self, other: &Tensor<'t, T>) -> Result<Tensor<'t, T>, TensorError> {
        self.binary(Binary::Div, other)
    }

    /// Matrix product over the last two axes (batched over equal leading axes).
    ///
    /// # Errors
    /// [`TensorError::ShapeMismatch`] naming both shapes.
    pub fn matmul(&self, other: &Tensor<'t, T>) -> Result<Tensor<'t, T>, TensorError> {
        self.same_tape(other)?;
        // Deferred arguments are stored first, but a deferred transpose is
        // read through strides from its parent.
        for t in [self, other] {
            if !is_transpose_view(&self.tape.nodes.borrow()[t.id]) {
                t.value();
            }
        }
        let product = {
            let nodes = self.tape.nodes.borrow();
            let ((a, ta), (b, tb)) = (matrix_operand(&nodes, self.id), matrix_operand(&nodes, other.id));
            a.matmul_transposed(ta, b, tb)
        };
        // A mismatch is reported with the arguments' own shapes.
        let value = product.or_else(|_| self.value().matmul(&other.value()))?;
        Ok(self.tape.push(TensorOp::MatMul, vec![self.id, other.id], value))
    }

    /// Sum of all elements, as a 0-dimensional tensor.
    pub fn sum(&self) -> Tensor<'t, T> {
        let deferred = {
            let node = &self.tape.nodes.borrow()[self.id];
            fusion::is_deferred(node) && fusion::readable_in_blocks(node)
        };
        if self.tape.fuses && deferred {
            // Summed as a fused kernel makes each block, when the value is
            // asked for or by the backward sweep that runs through it.
            return self.tape.push_node(TensorOp::Sum, vec![self.id], Vec::new(), None);
        }
        let total = self.value().sum();
        self.tape.push(TensorOp::Sum, vec![self.id], Array::scalar(total))
    }

    /// Mean of all elements.
    pub fn mean(&self) -> Tensor<'t, T> {
        let count = T::from_usize(self.value().len().max(1)).unwrap_or_else(T::one);
        let total = self.sum();
        let scale = self.tape.constant(Array::scalar(count.recip()));
        total.mul(&scale).expect("a scalar times a scalar always fits")
    }

    /// Sum along `axis`, which disappears from the shape.
    ///
    /// # Errors
    /// [`TensorError::BadAxis`].
    pub fn sum_axis(&self, axis: usize) -> Result<Tensor<'t, T>, TensorError> {
        let value = self.value().sum_axis(axis)?;
        Ok(self.tape.push(TensorOp::SumAxis(axis), vec![self.id], value))
    }

    /// Mean along `axis`, which disappears from the shape.
    ///
    /// # Errors
    /// [`TensorError::BadAxis`].
    pub fn mean_axis(&self, axis: usize) -> Result<Tensor<'t, T>, TensorError> {
        let size = self.value().split_at_axis(axis)?.1;
        let count = T::from_usize(size.max(1)).unwrap_or_else(T::one);
        Ok(self.sum_axis(axis)?.scale(count.recip()))
    }

    /// The same elements in another shape.
    ///
    /// # Errors
    /// [`TensorError::SizeMismatch`].
    pub fn reshape(&self, shape: Vec<usize>) -> Result<Tensor<'t, T>, TensorError> {
        let len = shape.iter().try_fold(1usize, |len, &s| len.checked_mul(s));
        if self.tape.fuses && len == Some(self.tape.nodes.borrow()[self.id].len) {
            // The same buffer in another shape: read in place by fused kernels.
            return Ok(self.tape.record_view(TensorOp::Reshape, self.id, shape));
        }
        let value = self.value().reshape(shape)?;
        Ok(self.tape.push(TensorOp::Reshape, vec![self.id], value))
    }

    /// The last two axes swapped.
    ///
    /// # Errors
    /// [`TensorError::BadAxis`] for fewer than two axes.
    pub fn transpose(&self) -> Result<Tensor<'t, T>, TensorError> {
        let mut shape = self.shape();
        if self.tape.fuses && shape.len() >= 2 {
            // A view: a matrix product reads it through strides, anything
            // else stores it when it asks for its value.
            let rank = shape.len();
            shape.swap(rank - 2, rank - 1);
            return Ok(self.tape.record_view(TensorOp::Transpose, self.id, shape));
        }
        let value = self.value().transpose()?;
        Ok(self.tape.push(TensorOp::Transpose, vec![self.id], value))
    }

    /// Largest element along `axis`, which disappears from the shape. Tied
    /// maxima share the gradient evenly (as `max` of two ties gives ½ each).
    ///
    /// # Errors
    /// [`TensorError::BadAxis`].
    pub fn max_axis(&self, axis: usize) -> Result<Tensor<'t, T>, TensorError> {
        let x = self.value();
        let (outer, size, inner) = x.split_at_axis(axis)?;
        if size == 0 {
            return Err(TensorError::EmptyAxis {
                op: "max",
                axis,
                shape: x.shape().to_vec(),
            });
        }
        let mut shape = x.shape().to_vec();
        shape.remove(axis);
        let mut data = vec![T::neg_infinity(); outer * inner];
        for o in 0..outer {
            for s in 0..size {
                for i in 0..inner {
                    let v = x.data()[(o * size + s) * inner + i];
                    let slot = &mut data[o * inner + i];
                    *slot = rules::binary(Binary::Max, *slot, v).0;
                }
            }
        }
        Ok(self
            .tape
            .push(TensorOp::MaxAxis(axis), vec![self.id], Array::new(shape, data)?))
    }

    /// Largest element overall, as a 0-dimensional tensor.
    ///
    /// # Errors
    /// [`TensorError::EmptyAxis`] for an empty tensor.
    pub fn max(&self) -> Result<Tensor<'t, T>, TensorError> {
        let len = self.value().len();
        self.reshape(vec![len])?.max_axis(0)?.reshape(Vec::new())
    }

    /// Elements `start..end` along `axis`.
    ///
    /// # Errors
    /// [`TensorError::BadAxis`], or [`TensorError::RangeOutOfBounds`] if the
    /// range does not fit.
    pub fn slice(&self, axis: usize, start: usize, end: usize) -> Result<Tensor<'t, T>, TensorError> {
        let shape = self.shape();
        let contiguous =
            axis < shape.len() && start <= end && end <= shape[axis] && shape[..axis].iter().all(|&s| s == 1);
        if self.tape.fuses && contiguous {
            // One run of the parent's buffer: read in place by fused kernels.
            let mut sliced = shape;
            sliced[axis] = end - start;
            return Ok(self
                .tape
                .record_view(TensorOp::Slice { axis, start, end }, self.id, sliced));
        }
        let value = self.value().slice(axis, start, end)?;
        Ok(self
            .tape
            .push(TensorOp::Slice { axis, start, end }, vec![self.id], value))
    }

    /// `parts` joined along `axis` (all other axes equal).
    ///
    /// # Errors
    /// [`TensorError::ShapeMismatch`] naming the first two shapes that differ
    /// off the axis, [`TensorError::NoParts`] for no parts.
    pub fn concat(parts: &[Tensor<'t, T>], axis: usize) -> Result<Tensor<'t, T>, TensorError> {
        let first = parts.first().ok_or(TensorError::NoParts { op: "concat" })?;
        for part in parts {
            first.same_tape(part)?;
        }
        let values: Vec<Rc<Array<T>>> = parts.iter().map(Tensor::value).collect();
        let refs: Vec<&Array<T>> = values.iter().map(|v| v.as_ref()).collect();
        let value = Array::concat(&refs, axis)?;
        Ok(first
            .tape
            .push(TensorOp::Concat(axis), parts.iter().map(|p| p.id).collect(), value))
    }

    /// Multiplies every element by the constant `factor`.
    pub fn scale(&self, factor: T) -> Tensor<'t, T> {
        let constant = self.tape.constant(Array::scalar(factor));
        self.mul(&constant).expect("a scalar broadcasts to every shape")
    }

    /// Adds the constant `offset` to every element.
    pub fn offset(&self, offset: T) -> Tensor<'t, T> {
        let constant = self.tape.constant(Array::scalar(offset));
        self.add(&constant).expect("a scalar broadcasts to every shape")
    }

    /// GELU, tanh form: `x/2 · (1 + tanh(√(2/π)·(x + 0.044715·x³)))`,
    /// composed from elementwise operations (its derivative follows from them).
    pub fn gelu(&self) -> Tensor<'t, T> {
        let c = T::from_f64((2.0 / std::f64::consts::PI).sqrt()).unwrap_or_else(T::one);
        let k = T::from_f64(0.044715).unwrap_or_else(T::zero);
        let half = T::from_f64(0.5).unwrap_or_else(T::one);
        let cubic = self.unary(Unary::Powi(3)).scale(k);
        let inner = self
            .add(&cubic)
            .expect("same shape")
            .scale(c)
            .unary(Unary::Tanh)
            .offset(T::one());
        self.mul(&inner).expect("same shape").scale(half)
    }

    /// `max(x, 0)` elementwise (derivative 0 at 0, as PyTorch and JAX).
    pub fn relu(&self) -> Tensor<'t, T> {
        self.unary(Unary::Relu)
    }

    /// `x − log Σ exp(x)` along the last axis, computed stably.
    pub fn log_softmax(&self) -> Tensor<'t, T> {
        let x = self.value();
        let n = (*x.shape().last().unwrap_or(&1)).max(1);
        let mut data = x.data().to_vec();
        for row in data.chunks_mut(n) {
            let max = row.iter().copied().fold(T::neg_infinity(), T::max);
            let lse = max + row.iter().map(|&v| (v - max).exp()).sum::<T>().ln();
            row.iter_mut().for_each(|v| *v -= lse);
        }
        let value = Array::new(x.shape().to_vec(), data).expect("same shape");
        self.tape.push(TensorOp::LogSoftmax, vec![self.id], value)
    }

    /// `exp(log_softmax(x))` along the last axis.
    pub fn softmax(&self) -> Tensor<'t, T> {
        self.log_softmax().unary(Unary::Exp)
    }

    /// Mean negative log-likelihood of the `targets` (one class index per
    /// row) under the log-probabilities `self` (shape `[rows, classes]`).
    ///
    /// # Errors
    /// [`TensorError::ShapeMismatch`] if `self` is not 2-D with one row per
    /// target (`right` is then `[targets]`), [`TensorError::ClassOutOfRange`]
    /// if a target is not below the number of columns.
    pub fn nll_loss(&self, targets: &[usize]) -> Result<Tensor<'t, T>, TensorError> {
        let logp = self.value();
        let shape = logp.shape();
        if shape.len() != 2 || shape[0] != targets.len() {
            return Err(TensorError::ShapeMismatch {
                op: "nll_loss (log-probabilities [rows, classes], one target per row)",
                left: shape.to_vec(),
                right: vec![targets.len()],
            });
        }
        let classes = shape[1];
        if let Some(&bad) = targets.iter().find(|&&t| t >= classes) {
            return Err(TensorError::ClassOutOfRange { class: bad, classes });
        }
        let total: T = targets
            .iter()
            .enumerate()
            .map(|(row, &t)| -logp.data()[row * classes + t])
            .sum();
        let count = T::from_usize(targets.len().max(1)).unwrap_or_else(T::one);
        let value = Array::scalar(total / count);
        Ok(self
            .tape
            .push(TensorOp::NllLoss(targets.to_vec()), vec![self.id], value))
    }

    /// Cross-entropy of `targets` under the logits `self`: `nll_loss(log_softmax(self))`.
    ///
    /// # Errors
    /// As [`nll_loss`](Tensor::nll_loss).
    pub fn cross_entropy(&self, targets: &[usize]) -> Result<Tensor<'t, T>, TensorError> {
        self.log_softmax().nll_loss(targets)
    }

    /// Mean squared error between `self` and `target`.
    ///
    /// # Errors
    /// As [`binary`](Tensor::binary).
    pub fn mse(&self, target: &Tensor<'t, T>) -> Result<Tensor<'t, T>, TensorError> {
        let diff = self.sub(target)?;
        Ok(diff.mul(&diff)?.mean())
    }
}

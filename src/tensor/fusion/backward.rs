//! The fused backward step: a group of deferred tensors whose gradient
//! comes only from inside it, swept block by block (see the parent
//! module's documentation).

use std::collections::{BinaryHeap, HashMap};

use super::{
    BLOCK, BlockValues, MOST_FUSED, Operand, block_len, elementwise, is_deferred, readable_in_blocks, view_offset,
};
use crate::rules;
use crate::tensor::array::{Array, Element};
use crate::tensor::kernels::{LaneSum, product, products, with_binary, with_unary};
use crate::tensor::node::{Node, TensorOp};

/// Whether node `id` can take part in a fused backward group as its first
/// (last recorded) member: a deferred tensor, or a stored elementwise one.
fn fusable<T: Element>(nodes: &[Node<T>], id: usize) -> bool {
    let node = &nodes[id];
    if is_deferred(node) {
        return readable_in_blocks(node) && !matches!(node.op, TensorOp::Sum);
    }
    elementwise(nodes, &node.op, &node.parents, node.len)
}

/// The backward step of node `root` (whose gradient `g` is complete) as a
/// fused group, when one applies: see the module documentation. Adds the
/// group's contributions to `grads` and returns what else it found, or does
/// nothing and returns `None` (the unfused step is then the sweep's).
///
/// `consumers[p]` counts the recorded uses of tensor `p` as an argument
/// (up to the swept output), which tells whether all of `p`'s gradient comes
/// from inside a group.
pub(in crate::tensor) fn backward<T: Element>(
    nodes: &[Node<T>],
    root: usize,
    g: &Array<T>,
    consumers: &[u32],
    grads: &mut [Option<Array<T>>],
) -> Option<Fused<T>> {
    let node = &nodes[root];
    // The first member and the gradient entering it.
    let (first, seed) = match node.op {
        TensorOp::Sum => {
            let p = node.parents[0];
            let deferred = is_deferred(&nodes[p]) && readable_in_blocks(&nodes[p]);
            if !(deferred && nodes[p].requires_grad && consumers[p] == 1) {
                return None;
            }
            (p, Operand::Number(g.data()[0]))
        }
        _ if fusable(nodes, root) => (root, Operand::Block(g.data())),
        _ => return None,
    };
    let members = gather(nodes, first, consumers);
    if members.len() == 1 && matches!(seed, Operand::Block(_)) {
        // Nothing to fuse: the unfused step is as fast.
        return None;
    }
    let len = nodes[first].len;
    // A deferred sum gets its value from the same blocks.
    let mut total = (matches!(node.op, TensorOp::Sum) && is_deferred(node)).then(LaneSum::new);
    let arguments = members.iter().flat_map(|&m| nodes[m].parents.iter().copied());
    let wanted = arguments.chain(total.is_some().then_some(first));
    let mut values = BlockValues::new(nodes, wanted, len);
    let mut group = Adjoints {
        nodes,
        members: &members,
        adjoints: (0..members.len()).map(|_| vec![T::zero(); block_len(len)]).collect(),
        received: vec![false; members.len()],
        numbers: Vec::new(),
        len,
        lo: 0,
        hi: 0,
    };
    let mut contributions = [vec![T::zero(); block_len(len)], vec![T::zero(); block_len(len)]];
    for lo in (0..len).step_by(BLOCK) {
        let hi = (lo + BLOCK).min(len);
        values.compute(lo, hi);
        if let Some(total) = &mut total {
            match values.read(first, len) {
                Operand::Block(block) => total.add(block),
                Operand::Number(x) => total.add(&[x]),
            }
        }
        group.start_block(lo, hi, seed);
        for k in 0..members.len() {
            group.step(k, &values, &mut contributions, grads);
        }
    }
    for (target, total) in group.numbers {
        let grad = grads[target].get_or_insert_with(|| Array::zeros(nodes[target].shape.clone()));
        grad.data_mut()[0] += total;
    }
    Some(Fused {
        root_value: total.map(|total| Array::scalar(total.total())),
    })
}

/// What a fused backward step found out besides the gradients.
pub(in crate::tensor) struct Fused<T: Element> {
    /// The value of a deferred sum at the root, computed from the blocks.
    pub(in crate::tensor) root_value: Option<Array<T>>,
}

/// The members of the fused backward group starting at `first`: `first`,
/// then (last recorded first) each deferred tensor that needs a gradient
/// and whose every use is by a member, up to [`MOST_FUSED`].
fn gather<T: Element>(nodes: &[Node<T>], first: usize, consumers: &[u32]) -> Vec<usize> {
    let mut members = vec![first];
    let mut uses_by_members: HashMap<usize, u32> = HashMap::new();
    let mut candidates = BinaryHeap::new();
    let admit = |m: usize, candidates: &mut BinaryHeap<usize>, uses: &mut HashMap<usize, u32>| {
        for &p in &nodes[m].parents {
            *uses.entry(p).or_insert(0) += 1;
            candidates.push(p);
        }
    };
    admit(first, &mut candidates, &mut uses_by_members);
    // Largest id first: every use of a candidate comes later on the tape,
    // so by the time it is popped each of its users has been decided.
    while let Some(p) = candidates.pop() {
        if members.last() == Some(&p) || members.contains(&p) || members.len() == MOST_FUSED {
            continue;
        }
        let node = &nodes[p];
        let all_uses_inside = uses_by_members.get(&p).copied() == Some(consumers[p]);
        let elementwise = matches!(
            node.op,
            TensorOp::Unary(_) | TensorOp::Binary(_) | TensorOp::Slice { .. } | TensorOp::Reshape
        );
        if elementwise && is_deferred(node) && node.requires_grad && node.len == nodes[first].len && all_uses_inside {
            members.push(p);
            admit(p, &mut candidates, &mut uses_by_members);
        }
    }
    members
}

/// The adjoints of a fused group's members over one block, and what the
/// group adds to single numbers outside it.
struct Adjoints<'n, T: Element> {
    nodes: &'n [Node<T>],
    /// The members, last recorded first (the order of the backward sweep).
    members: &'n [usize],
    /// A block of adjoint elements per member, in `members`' order: a
    /// buffer each, so a member's first contribution is handed over by
    /// swapping buffers, not copied.
    adjoints: Vec<Vec<T>>,
    /// Whether each member's adjoint has had a contribution in this block.
    received: Vec<bool>,
    /// Contributions to single numbers outside the group, summed in order.
    numbers: Vec<(usize, T)>,
    /// Elements per member.
    len: usize,
    lo: usize,
    hi: usize,
}

impl<T: Element> Adjoints<'_, T> {
    /// Starts block `lo..hi` with the gradient entering the first member.
    fn start_block(&mut self, lo: usize, hi: usize, seed: Operand<'_, T>) {
        (self.lo, self.hi) = (lo, hi);
        self.received.iter_mut().for_each(|r| *r = false);
        let first = &mut self.adjoints[0][..hi - lo];
        match seed {
            Operand::Block(g) => first.copy_from_slice(&g[lo..hi]),
            Operand::Number(g) => first.fill(g),
        }
        self.received[0] = true;
    }

    /// Member `k`'s backward step over the current block: its adjoint
    /// times each argument's partial derivative, handed to the argument.
    /// `contributions` are two block buffers to compute them in.
    fn step(
        &mut self,
        k: usize,
        values: &BlockValues<'_, T>,
        contributions: &mut [Vec<T>; 2],
        grads: &mut [Option<Array<T>>],
    ) {
        let n = self.hi - self.lo;
        let nodes = self.nodes;
        let node = &nodes[self.members[k]];
        let mut adjoint = std::mem::take(&mut self.adjoints[k]);
        let [first, second] = contributions;
        match node.op {
            TensorOp::Slice { .. } | TensorOp::Reshape => {
                let offset = view_offset(nodes, node);
                self.deliver(node.parents[0], &mut adjoint, offset, grads);
            }
            TensorOp::Unary(op) => {
                let p = node.parents[0];
                if nodes[p].requires_grad {
                    let g = &adjoint[..n];
                    match values.read(p, self.len) {
                        Operand::Block(x) => with_unary!(op, |rule| {
                            let x = &x[..n];
                            product(first, g, |i| rule(x[i]).1);
                        }),
                        Operand::Number(x) => {
                            let d = rules::unary(op, x).1;
                            product(first, g, |_| d);
                        }
                    }
                    self.deliver(p, first, 0, grads);
                }
            }
            TensorOp::Binary(op) => {
                let (p, q) = (node.parents[0], node.parents[1]);
                let wanted = (nodes[p].requires_grad, nodes[q].requires_grad);
                let (a, c) = (values.read(p, self.len), values.read(q, self.len));
                let g = &adjoint[..n];
                with_binary!(op, |rule| {
                    // Only the wanted partials are formed (the rest is
                    // dead code the compiler drops).
                    let partials = |a: T, c: T| {
                        let (_, pa, pc) = rule(a, c);
                        (pa, pc)
                    };
                    let at = |i: usize| match (a, c) {
                        (Operand::Block(a), Operand::Block(c)) => partials(a[i], c[i]),
                        (Operand::Block(a), Operand::Number(c)) => partials(a[i], c),
                        (Operand::Number(a), Operand::Block(c)) => partials(a, c[i]),
                        (Operand::Number(a), Operand::Number(c)) => partials(a, c),
                    };
                    match (a, c, wanted) {
                        (Operand::Block(a), Operand::Block(c), (true, true)) => {
                            let (a, c) = (&a[..n], &c[..n]);
                            products(first, second, g, |i| partials(a[i], c[i]));
                        }
                        (Operand::Block(a), Operand::Number(c), (true, false)) => {
                            let a = &a[..n];
                            product(first, g, |i| partials(a[i], c).0);
                        }
                        (Operand::Number(a), Operand::Block(c), (false, true)) => {
                            let c = &c[..n];
                            product(second, g, |i| partials(a, c[i]).1);
                        }
                        (Operand::Block(a), Operand::Block(c), (true, false)) => {
                            let (a, c) = (&a[..n], &c[..n]);
                            product(first, g, |i| partials(a[i], c[i]).0);
                        }
                        (Operand::Block(a), Operand::Block(c), (false, true)) => {
                            let (a, c) = (&a[..n], &c[..n]);
                            product(second, g, |i| partials(a[i], c[i]).1);
                        }
                        // Single numbers that need a gradient: rare, general.
                        _ => products(first, second, g, at),
                    }
                });
                // Left argument first, as the unfused sweep adds them.
                if wanted.0 {
                    self.deliver(p, first, 0, grads);
                }
                if wanted.1 {
                    self.deliver(q, second, 0, grads);
                }
            }
            _ => unreachable!("a fused group holds elementwise operations and views"),
        }
        self.adjoints[k] = adjoint;
    }

    /// Adds `contribution` (over the current block) to tensor `target`'s
    /// gradient, at `offset` elements into it: a later member's adjoint
    /// (the first contribution is swapped in, the buffer handed back being
    /// free), a single number's running sum, or a gradient array outside
    /// the group.
    fn deliver(&mut self, target: usize, contribution: &mut Vec<T>, offset: usize, grads: &mut [Option<Array<T>>]) {
        let (lo, hi) = (self.lo, self.hi);
        let n = hi - lo;
        if let Some(j) = self.members.iter().position(|&m| m == target) {
            if std::mem::replace(&mut self.received[j], true) {
                let adjoint = &mut self.adjoints[j][..n];
                adjoint.iter_mut().zip(&contribution[..n]).for_each(|(a, &c)| *a += c);
            } else {
                std::mem::swap(&mut self.adjoints[j], contribution);
            }
            return;
        }
        let node = &self.nodes[target];
        if node.len != self.len && node.len == 1 {
            let total = contribution[..n].iter().fold(T::zero(), |sum, &c| sum + c);
            match self.numbers.iter_mut().find(|(id, _)| *id == target) {
                Some((_, sum)) => *sum += total,
                None => self.numbers.push((target, total)),
            }
            return;
        }
        let grad = grads[target].get_or_insert_with(|| Array::zeros(node.shape.clone()));
        grad.data_mut()[offset + lo..offset + hi]
            .iter_mut()
            .zip(&contribution[..n])
            .for_each(|(a, &c)| *a += c);
    }
}

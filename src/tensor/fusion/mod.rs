//! Fused elementwise kernels: chains of elementwise operations run block by
//! block, so their intermediate arrays never go through memory.
//!
//! The tape does not compute an elementwise result when it is recorded; it
//! *defers* it (the node has no value yet). A deferred tensor is one of:
//!
//! - an elementary function of the rule table ([`Unary`](crate::rules::Unary))
//!   of any tensor;
//! - a two-argument one ([`Binary`](crate::rules::Binary)) of tensors with the
//!   same number of elements, or of one such tensor and a stored single
//!   number (a scale, an offset, a learnable scalar);
//! - a view of a stored tensor that is one contiguous run of its buffer,
//!   read in place: a slice along the first axis (`x[1:]` of a vector, a
//!   range of rows) or along a later one when the axes before it have
//!   length one, or a reshape.
//!
//! A transpose is deferred too, as a view that only a matrix product reads
//! (through strides, with no copy); anything else that reads it stores it.
//! Everything else (matrix products, reductions along an axis, broadcasting
//! of rows or columns, concatenation) is computed when recorded, as before,
//! and asks for its arguments' values, which computes them. A deferred value
//! is computed when it is asked for ([`Tensor::value`](super::Tensor::value),
//! or an argument of a stored operation), by [`evaluate`]: the deferred
//! tensors it depends on are computed [`BLOCK`] elements at a time, each
//! block streaming through the whole chain while it stays in the cache,
//! and only the wanted result is written out. A [`sum`] of a deferred tensor
//! folds the blocks as they come and writes nothing.
//!
//! The backward sweep fuses in the same way ([`backward`]): from a node whose
//! gradient is complete (an elementwise tensor, or a sum of a deferred one),
//! it gathers the deferred tensors whose gradient comes only from within the
//! group, and runs, block by block, the forward chain again (the values the
//! rules need) and then the adjoints from the last operation to the first,
//! writing only the gradients of the group's arguments. Every value and every
//! partial derivative comes from the one rule table through the per-operation
//! arms of [`with_unary!`] and [`with_binary!`], so a fused value is the
//! unfused one bit for bit. Gradients inside a group are added in the order
//! of the unfused sweep, so they match it bit for bit too; a group's
//! contributions to a tensor outside it are added together, before the
//! contributions from outside, which can change the last bits of that sum.
//!
//! A group holds at most [`MOST_FUSED`] tensors, which bounds its scratch
//! memory (one block per tensor); a longer chain stores an intermediate
//! result. [`TensorTape::unfused`](super::TensorTape::unfused) records with
//! no deferral at all, and the tensor graph picture marks each fused group.

mod backward;

use std::collections::HashSet;

use super::array::{Array, Element};
use super::kernels::{LaneSum, with_binary, with_unary};
use super::node::{Node, TensorOp};
use super::pool;
use crate::rules;

pub(super) use backward::backward;

/// Elements per block: a block of each tensor of a group (values and
/// adjoints) stays in the L1 or L2 cache while it streams through the
/// chain. Measured on W7's backward sweep (10⁶ elements): 1,024 beat 256
/// (whose per-block overheads showed) and 4,096 (which left the cache).
pub(super) const BLOCK: usize = 1024;

/// Most tensors in one fused group.
pub(super) const MOST_FUSED: usize = 32;

/// Whether the node is deferred: recorded without computing its value.
pub(super) fn is_deferred<T: Element>(node: &Node<T>) -> bool {
    node.value.is_none()
}

/// Whether a tensor with these parents and `len` elements is elementwise in
/// the sense of this module: each argument has `len` elements, or is a
/// single number (deferred arguments must have `len` elements: a deferred
/// single number against an array is stored first).
pub(super) fn elementwise<T: Element>(nodes: &[Node<T>], op: &TensorOp, parents: &[usize], len: usize) -> bool {
    let readable = |p: usize| readable_in_blocks(&nodes[p]);
    let fits = |p: usize| nodes[p].len == len || (nodes[p].len == 1 && !is_deferred(&nodes[p]));
    match op {
        TensorOp::Unary(_) | TensorOp::Binary(_) => parents.iter().all(|&p| readable(p) && fits(p)),
        _ => false,
    }
}

/// Whether a fused kernel can read the node block by block: stored, or a
/// deferred elementwise operation or contiguous view. A deferred sum (read
/// as a stored number) and a deferred transpose (read through strides by
/// matrix products only) are stored before a fused kernel reads them.
pub(super) fn readable_in_blocks<T: Element>(node: &Node<T>) -> bool {
    !is_deferred(node) || matches!(node.op, TensorOp::Unary(_) | TensorOp::Binary(_)) || is_view(&node.op)
}

/// Whether the operation is a view: a deferred one reads its stored
/// parent's buffer in place.
pub(super) fn is_view(op: &TensorOp) -> bool {
    matches!(op, TensorOp::Slice { .. } | TensorOp::Reshape)
}

/// The offset of a deferred view's first element in its parent's buffer.
fn view_offset<T: Element>(nodes: &[Node<T>], node: &Node<T>) -> usize {
    match node.op {
        TensorOp::Slice { axis, start, .. } => {
            start * nodes[node.parents[0]].shape[axis + 1..].iter().product::<usize>()
        }
        _ => 0,
    }
}

/// One argument of an elementwise operation over one block.
#[derive(Clone, Copy)]
enum Operand<'a, T> {
    /// The argument's elements in the block.
    Block(&'a [T]),
    /// A single number, broadcast against the block.
    Number(T),
}

/// The elements of one block of a computation over `len` elements: a
/// short computation (a few numbers) gets scratch of its own size, not a
/// whole block's.
fn block_len(len: usize) -> usize {
    BLOCK.min(len).max(1)
}

/// A scratch buffer of whole blocks, from the array buffer pool and back.
struct Scratch<T: Element>(Vec<T>);

impl<T: Element> Scratch<T> {
    fn new(blocks: usize, block_len: usize) -> Self {
        Scratch(pool::filled(blocks * block_len, T::zero()))
    }
}

impl<T: Element> Drop for Scratch<T> {
    fn drop(&mut self) {
        pool::give(std::mem::take(&mut self.0));
    }
}

/// The deferred tensors a computation needs, computed one block at a time.
struct BlockValues<'n, T: Element> {
    nodes: &'n [Node<T>],
    /// The deferred tensors computed per block, in recording order (so
    /// arguments before results). Deferred views are read in place.
    computed: Vec<usize>,
    /// Their elements in the current block: `stride` per tensor, in the
    /// order of `computed`.
    values: Scratch<T>,
    /// Elements per block (see [`block_len`]).
    stride: usize,
    /// The current block: elements `lo..hi`.
    lo: usize,
    hi: usize,
}

impl<'n, T: Element> BlockValues<'n, T> {
    /// Ready to read `wanted` (any tensors) block by block: every deferred
    /// tensor they depend on through deferred tensors is computed per block.
    fn new(nodes: &'n [Node<T>], wanted: impl IntoIterator<Item = usize>, len: usize) -> Self {
        let mut stack: Vec<usize> = wanted.into_iter().filter(|&id| is_deferred(&nodes[id])).collect();
        let mut seen = HashSet::new();
        let mut computed = Vec::new();
        while let Some(id) = stack.pop() {
            if !seen.insert(id) {
                continue;
            }
            if !is_view(&nodes[id].op) {
                computed.push(id);
            }
            stack.extend(nodes[id].parents.iter().copied().filter(|&p| is_deferred(&nodes[p])));
        }
        computed.sort_unstable();
        let stride = block_len(len);
        let values = Scratch::new(computed.len(), stride);
        BlockValues {
            nodes,
            computed,
            values,
            stride,
            lo: 0,
            hi: 0,
        }
    }

    /// Computes every deferred tensor over elements `lo..hi` (at most
    /// `BLOCK` of them), arguments first.
    fn compute(&mut self, lo: usize, hi: usize) {
        debug_assert!(hi - lo <= self.stride);
        (self.lo, self.hi) = (lo, hi);
        let n = hi - lo;
        for (k, &id) in self.computed.iter().enumerate() {
            let node = &self.nodes[id];
            let (done, rest) = self.values.0.split_at_mut(k * self.stride);
            let out = &mut rest[..n];
            let blocks = Blocks {
                computed: &self.computed[..k],
                values: done,
                stride: self.stride,
            };
            let read = |p: usize| read(self.nodes, &blocks, p, lo, hi, node.len);
            match node.op {
                TensorOp::Unary(op) => match read(node.parents[0]) {
                    Operand::Block(x) => with_unary!(op, |rule| {
                        for (o, &x) in out.iter_mut().zip(x) {
                            *o = rule(x).0;
                        }
                    }),
                    Operand::Number(x) => out.fill(rules::unary(op, x).0),
                },
                TensorOp::Binary(op) => {
                    let (a, c) = (read(node.parents[0]), read(node.parents[1]));
                    with_binary!(op, |rule| match (a, c) {
                        (Operand::Block(a), Operand::Block(c)) => {
                            for ((o, &a), &c) in out.iter_mut().zip(a).zip(c) {
                                *o = rule(a, c).0;
                            }
                        }
                        (Operand::Block(a), Operand::Number(c)) => {
                            for (o, &a) in out.iter_mut().zip(a) {
                                *o = rule(a, c).0;
                            }
                        }
                        (Operand::Number(a), Operand::Block(c)) => {
                            for (o, &c) in out.iter_mut().zip(c) {
                                *o = rule(a, c).0;
                            }
                        }
                        (Operand::Number(a), Operand::Number(c)) => out.fill(rule(a, c).0),
                    })
                }
                _ => unreachable!("only elementwise operations, views and sums are deferred"),
            }
        }
    }

    /// Tensor `id` over the current block, as an argument of a tensor with
    /// `len` elements.
    fn read(&self, id: usize, len: usize) -> Operand<'_, T> {
        let blocks = Blocks {
            computed: &self.computed,
            values: &self.values.0,
            stride: self.stride,
        };
        read(self.nodes, &blocks, id, self.lo, self.hi, len)
    }
}

/// Tensor `id` over elements `lo..hi`, as an argument of a tensor with `len`
/// elements: stored (a single number broadcast, or the block of a stored
/// array), a deferred view (its parent's elements, in place), or computed
/// (its block in `values`, laid out as `computed`).
fn read<'a, T: Element>(
    nodes: &'a [Node<T>],
    blocks: &Blocks<'a, T>,
    id: usize,
    lo: usize,
    hi: usize,
    len: usize,
) -> Operand<'a, T> {
    let node = &nodes[id];
    if let Some(value) = &node.value {
        return if node.len == len {
            Operand::Block(&value.data()[lo..hi])
        } else {
            Operand::Number(value.data()[0])
        };
    }
    if is_view(&node.op) {
        let parent = nodes[node.parents[0]]
            .value
            .as_ref()
            .expect("a deferred view's parent is stored");
        let offset = view_offset(nodes, node);
        return Operand::Block(&parent.data()[offset + lo..offset + hi]);
    }
    let k = blocks
        .computed
        .binary_search(&id)
        .expect("every deferred argument is computed before its result");
    let at = k * blocks.stride;
    Operand::Block(&blocks.values[at..at + (hi - lo)])
}

/// Computed blocks: tensor `computed[k]`'s elements at `k · stride` of
/// `values`.
struct Blocks<'a, T> {
    computed: &'a [usize],
    values: &'a [T],
    stride: usize,
}

/// The value of deferred tensor `id`, computed block by block.
pub(super) fn evaluate<T: Element>(nodes: &[Node<T>], id: usize) -> Array<T> {
    let node = &nodes[id];
    match node.op {
        TensorOp::Sum => return Array::scalar(sum(nodes, node.parents[0])),
        TensorOp::Transpose => {
            let parent = nodes[node.parents[0]]
                .value
                .as_ref()
                .expect("a deferred transpose's parent is stored");
            return parent.transpose().expect("a deferred transpose has at least two axes");
        }
        _ => {}
    }
    let mut data = pool::take(node.len);
    let mut blocks = BlockValues::new(nodes, [id], node.len);
    for lo in (0..node.len).step_by(BLOCK) {
        let hi = (lo + BLOCK).min(node.len);
        blocks.compute(lo, hi);
        match blocks.read(id, node.len) {
            Operand::Block(block) => data.extend_from_slice(block),
            Operand::Number(x) => data.push(x),
        }
    }
    Array::new(node.shape.clone(), data).expect("a deferred tensor's shape was checked when it was recorded")
}

/// The sum of tensor `id`'s elements, added block by block as they are
/// made ([`BLOCK`] is a multiple of the sum's 16 lanes): [`Array::sum`] of
/// its value, bit for bit, without storing it.
fn sum<T: Element>(nodes: &[Node<T>], id: usize) -> T {
    let len = nodes[id].len;
    let mut blocks = BlockValues::new(nodes, [id], len);
    let mut total = LaneSum::new();
    for lo in (0..len).step_by(BLOCK) {
        let hi = (lo + BLOCK).min(len);
        blocks.compute(lo, hi);
        match blocks.read(id, len) {
            Operand::Block(block) => total.add(block),
            Operand::Number(x) => total.add(&[x]),
        }
    }
    total.total()
}

//! The tape's record of one tensor: the operation that made it, its
//! arguments, its shape, and its value once computed.

use std::rc::Rc;

use super::array::{Array, Element};
use crate::rules::{Binary, Unary};

/// What produced a tensor; kept on the tape for the backward sweep.
#[derive(Clone, Debug, PartialEq)]
pub enum TensorOp {
    /// A leaf: data or a parameter.
    Input,
    /// An elementary function of the rule table, elementwise.
    Unary(Unary),
    /// A two-argument elementary function, elementwise with broadcasting.
    Binary(Binary),
    /// Matrix product over the last two axes.
    MatMul,
    /// Sum of all elements (a 0-dimensional result).
    Sum,
    /// Sum along an axis.
    SumAxis(usize),
    /// The same elements in another shape.
    Reshape,
    /// The last two axes swapped.
    Transpose,
    /// Largest element along an axis (ties share the gradient evenly).
    MaxAxis(usize),
    /// Elements `start..end` along an axis.
    Slice {
        /// The axis.
        axis: usize,
        /// First index kept.
        start: usize,
        /// One past the last index kept.
        end: usize,
    },
    /// Arguments joined along an axis.
    Concat(usize),
    /// `x − log Σ exp x` along the last axis.
    LogSoftmax,
    /// Mean over rows of `−logp[row, target[row]]`.
    NllLoss(Vec<usize>),
    /// A custom elementary function ([`Elementary`](crate::Elementary)),
    /// elementwise, by name. Its second parent is a constant leaf holding the
    /// partial derivative at each element, computed with the value.
    Custom(&'static str),
}

/// One recorded tensor.
pub(super) struct Node<T: Element> {
    pub(super) op: TensorOp,
    pub(super) parents: Vec<usize>,
    pub(super) shape: Vec<usize>,
    /// Elements in `shape`.
    pub(super) len: usize,
    /// The value, or `None` while it is deferred (see [`fusion`]): computed
    /// in a fused kernel when it is asked for.
    pub(super) value: Option<Rc<Array<T>>>,
    /// Whether a gradient flows to this node: inputs made with `input`,
    /// and every result of one. Data made with `constant` needs none.
    pub(super) requires_grad: bool,
    /// For a deferred node, a bound on the deferred nodes its value
    /// depends on (itself included), which keeps fused groups small.
    pub(super) deferred_depth: usize,
}

impl<T: Element> Node<T> {
    /// Keeps the node's computed value: it is no longer deferred.
    pub(super) fn store(&mut self, value: Array<T>) -> Rc<Array<T>> {
        let value = Rc::new(value);
        self.value = Some(Rc::clone(&value));
        self.deferred_depth = 0;
        value
    }
}

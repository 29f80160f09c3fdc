//! How the sweeps dispatch on a node: one flat code per node, so that the
//! loops branch once per node and the common arithmetic runs as
//! straight-line code.
//!
//! The operations whose partial derivatives are their arguments' values or
//! constants (`+`, `−`, `×`, negation, fused multiply-add) keep no partials
//! between the forward and the backward sweep: the backward loop asks the
//! rule table for them again, from the argument values it reads anyway,
//! and the compiler reduces that call to the few multiplications it needs.
//! Every other operation stores its partials in the forward sweep, one per
//! argument, in node order, so the backward loop reads them back from the
//! end without an index per node. On a typical program this halves the
//! memory a gradient sweep touches.

use super::Op;
use crate::rules::{Binary, Unary};

/// A node's operation as the sweeps see it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) enum Step {
    /// An input (inputs are the first nodes, filled before the loop).
    Input,
    /// Constant `k` of the program.
    Constant(u32),
    /// `a + b`, partials recomputed.
    Add,
    /// `a − b`, partials recomputed.
    Sub,
    /// `a · b`, partials recomputed.
    Mul,
    /// `−a`, partial recomputed.
    Neg,
    /// `a·b + c`, partials recomputed.
    MulAdd,
    /// Any other function of one argument: one stored partial.
    Unary(Unary),
    /// Any other function of two arguments: two stored partials.
    Binary(Binary),
    /// Custom function `k`: one stored partial per argument.
    Custom(u32),
    /// Output `output` of custom vector function `call`: computed with the
    /// call's other outputs at its first, swept back by its `vjp` at its
    /// last; no stored partials.
    CustomOutput(u32, u32),
}

impl Step {
    /// The step of each operation.
    pub(super) fn of(op: Op) -> Step {
        match op {
            Op::Input(_) => Step::Input,
            Op::Constant(k) => Step::Constant(k),
            Op::Unary(Unary::Neg) => Step::Neg,
            Op::Unary(u) => Step::Unary(u),
            Op::Binary(Binary::Add) => Step::Add,
            Op::Binary(Binary::Sub) => Step::Sub,
            Op::Binary(Binary::Mul) => Step::Mul,
            Op::Binary(b) => Step::Binary(b),
            Op::MulAdd => Step::MulAdd,
            Op::Custom(k) => Step::Custom(k),
            Op::CustomOutput { call, output } => Step::CustomOutput(call, output),
        }
    }
}

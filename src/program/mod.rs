//! Recorded programs: run a function once, then evaluate it and its
//! derivatives at any point without calling it again.
//!
//! [`record`] runs a generic function once on tape variables and keeps what
//! it computed as a [`Program`]: a flat list of nodes, each an operation of
//! the [rule table](crate::rules) with the indices of its arguments
//! (inputs, constants and earlier nodes), plus the comparisons the function's
//! code made. A program then answers at new points by sweeping its node list
//! with the same rules every mode uses: values ([`Program::eval`]), gradients
//! and vector-Jacobian products (a forward pass for values and partials, then
//! a backward loop), Jacobian-vector products and Jacobians (forward on dual
//! numbers, or backward, chosen by shape), Hessians and Hessian-vector
//! products (forward over reverse: the same two loops on dual numbers).
//!
//! ```
//! use chainrule::program::record;
//! use num_traits::Float;
//!
//! fn rosenbrock<T: Float>(x: &[T]) -> T {
//!     let hundred = T::from(100.0).unwrap();
//!     x.windows(2).map(|w| (T::one() - w[0]).powi(2) + hundred * (w[1] - w[0] * w[0]).powi(2))
//!         .fold(T::zero(), |a, b| a + b)
//! }
//!
//! let program = record(rosenbrock, &[0.0; 4])?; // runs rosenbrock once
//! let (value, gradient) = program.value_and_gradient(&[1.0, 1.0, 1.0, 1.0])?;
//! assert_eq!((value, gradient), (0.0, vec![0.0; 4]));
//! let h = program.hessian(&[1.0; 4])?;
//! assert_eq!(h.to_rows()[1], vec![-400.0, 1002.0, -400.0, 0.0]);
//! # Ok::<(), chainrule::Error>(())
//! ```
//!
//! # Branches
//!
//! A program is the function along the branches it took where it was
//! recorded. Elementary functions with kinks (`abs`, `max`, `min`, `relu`,
//! `floor`...) are operations of the program and are evaluated afresh at each
//! point, so they need no guard. The comparisons of the function's own code
//! (`if x > y`, `x == 0.0`, sorting) are recorded with their outcomes; at a
//! point where one comes out differently, every method returns
//! [`Error::BranchChanged`](crate::Error::BranchChanged) naming it, instead
//! of a number from the wrong branch:
//!
//! ```
//! use chainrule::{program::record, Error, Var};
//!
//! // A hand-written absolute value: the branch is the function's own.
//! let f = |x: &[Var<f64>]| if x[0] < Var::constant(0.0) { -x[0] } else { x[0] };
//! let program = record(f, &[2.0])?;
//! assert_eq!(program.gradient(&[3.0])?, vec![1.0]);
//! assert!(matches!(program.gradient(&[-3.0]), Err(Error::BranchChanged { comparison: 0, .. })));
//! # Ok::<(), chainrule::Error>(())
//! ```
//!
//! What a program cannot see: values the function takes out of its numbers
//! (`to_f64`, `is_nan`, `is_sign_negative`, printing) and uses in later
//! arithmetic or control flow are frozen at their recorded values. Record
//! again where that matters.
//!
//! # Sparse derivatives
//!
//! [`Program::jacobian_sparsity`] and [`Program::hessian_sparsity`] find
//! which derivatives can be nonzero by propagating index sets through the
//! node list. The columns are then coloured once per program (columns that
//! share no row, [`colour_columns`], or rows that share no column when that
//! takes fewer colours; a star colouring for the symmetric Hessian,
//! [`star_colouring`]), and [`Program::sparse_jacobian`] and
//! [`Program::sparse_hessian`] read every nonzero from one compressed pass
//! per 8 colours: a banded Hessian costs 3 directions at any size. The
//! results are [`SparseMatrix`]es in compressed sparse rows;
//! [`SparseMatrix::to_dense`] gives a [`Matrix`](crate::Matrix), and with the
//! feature `nalgebra-sparse` they convert into `nalgebra_sparse::CsrMatrix`
//! (`CsrMatrix::from(h)`), arrays moved as they are.
//!
//! # Custom functions
//!
//! A custom elementary function ([`Elementary`](crate::Elementary)) applied
//! by the recorded function is a node of the program that keeps a copy of
//! its rule: every sweep runs the rule's value and partials (and its second
//! partials, for Hessians) at the new point, exactly as the tape does.
//! Sparsity patterns count such a node as depending on all its arguments,
//! nonlinearly. A custom vector function applied through a
//! [`VectorRule`](crate::custom::VectorRule) is one node per output, which
//! the sweeps compute together: its value forward, its `vjp` backward (on
//! dual numbers for Hessians). The closure form
//! [`custom_vjp`](crate::custom::custom_vjp) keeps no rule to run again:
//! recording it returns [`Error::NotRecordable`](crate::Error::NotRecordable).
//!
//! Sweeps reuse buffers kept per thread and number type, at the size of the
//! largest sweep so far; [`release_buffers`] frees them.
//!
//! # Passes
//!
//! At record time (each can be turned off with [`Passes`]): constant
//! folding (operations on constants only become constants), common
//! subexpression elimination (an operation on the same arguments as an
//! earlier one reuses it) and dead-code elimination (nodes that reach no
//! output and no guarded comparison are dropped). `Display` prints the
//! program as a numbered list, the textual counterpart of the graph pictures.

mod colouring;
mod passes;
mod record;
#[cfg(feature = "serde")]
mod saved;
mod scratch;
mod sparse;
mod sparsity;
mod step;
mod sweep;
#[cfg(feature = "nalgebra-sparse")]
mod to_nalgebra_sparse;

use std::fmt;
use std::sync::Arc;

use crate::custom::erased::Shared;
use crate::rules::{Binary, Unary};

pub use colouring::{Colouring, colour_columns, star_colouring};
pub use passes::Passes;
pub use record::{Outputs, record, record_with};
pub use scratch::release_buffers;
pub use sparse::SparseMatrix;
pub use sparsity::Sparsity;

/// What one node of a [`Program`] computes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum Op {
    /// Input number `k` of the function.
    Input(u32),
    /// Constant number `k` of [`Program::constants`].
    Constant(u32),
    /// An elementary function of one argument.
    Unary(Unary),
    /// An elementary function of two arguments.
    Binary(Binary),
    /// `a·b + c` rounded once.
    MulAdd,
    /// Custom elementary function number `k` of the program
    /// ([`Elementary`](crate::Elementary), see
    /// [`Program::custom_name`]); its arguments are [`Program::args`].
    Custom(u32),
    /// Output `output` of custom vector function `call` of the program
    /// ([`VectorRule`](crate::VectorRule), see
    /// [`Program::vector_name`]); its arguments are [`Program::args`]. The
    /// outputs of one call are consecutive nodes.
    CustomOutput {
        /// Which call of the program.
        call: u32,
        /// Which of its outputs.
        output: u32,
    },
}

impl Op {
    /// How many arguments the operation reads (for [`Op::Custom`], as many
    /// as [`Program::args`] lists: its rule's arity).
    pub(crate) fn fixed_arity(self) -> usize {
        match self {
            Op::Input(_) | Op::Constant(_) | Op::Custom(_) | Op::CustomOutput { .. } => 0,
            Op::Unary(_) => 1,
            Op::Binary(_) => 2,
            Op::MulAdd => 3,
        }
    }
}

/// A custom elementary function applied in a program: its rule, kept to
/// run at every point, and its argument nodes (any number of them).
#[derive(Clone)]
pub(crate) struct CustomNode<S> {
    pub(crate) rule: Shared<S>,
    pub(crate) args: Vec<u32>,
}

impl<S> PartialEq for CustomNode<S> {
    /// The same rule object on the same arguments.
    fn eq(&self, other: &Self) -> bool {
        std::ptr::addr_eq(Arc::as_ptr(&self.rule), Arc::as_ptr(&other.rule)) && self.args == other.args
    }
}

/// A custom vector function applied in a program: its rule, its argument
/// nodes and its outputs, which are the consecutive nodes from `first`.
#[derive(Clone)]
pub(crate) struct VectorNode<S> {
    pub(crate) rule: Shared<S>,
    pub(crate) args: Vec<u32>,
    pub(crate) first: u32,
    pub(crate) outputs: u32,
}

impl<S> VectorNode<S> {
    /// The nodes of its outputs.
    pub(crate) fn output_nodes(&self) -> std::ops::Range<usize> {
        self.first as usize..(self.first + self.outputs) as usize
    }
}

impl<S> PartialEq for VectorNode<S> {
    /// The same rule object on the same arguments, at the same nodes.
    fn eq(&self, other: &Self) -> bool {
        std::ptr::addr_eq(Arc::as_ptr(&self.rule), Arc::as_ptr(&other.rule))
            && (&self.args, self.first, self.outputs) == (&other.args, other.first, other.outputs)
    }
}

impl<S> fmt::Debug for VectorNode<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}{:?} → {:?}", self.rule.name(), self.args, self.output_nodes())
    }
}

impl<S> fmt::Debug for CustomNode<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}{:?}", self.rule.name(), self.args)
    }
}

/// A comparison the recorded function made, and what it answered then.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Guard {
    /// The node on the left of the comparison.
    pub left: u32,
    /// The node on the right.
    pub right: u32,
    /// What the comparison answered where the program was recorded.
    pub outcome: crate::reverse::Outcome,
}

/// A function recorded once, as a flat list of elementary operations, that
/// can be evaluated and differentiated at any point. See the [module
/// docs](self).
///
/// With the `serde` feature a program serializes as its node list
/// (operations, arguments, constants, outputs, guards) and reading one back
/// checks everything the sweeps rely on, so a program from any data either
/// is refused with the reason or evaluates without panicking. A program
/// that applies a custom rule cannot be written: a rule is code.
/// With serde_json, turn on its `float_roundtrip` feature: without it
/// serde_json may read a constant back one unit in the last place off.
#[derive(Clone, Debug, PartialEq)]
pub struct Program<S> {
    /// One operation per node, in evaluation order.
    ops: Vec<Op>,
    /// The argument nodes of each node (the first `arity` entries count;
    /// custom functions keep theirs in `customs`).
    args: Vec<[u32; 3]>,
    /// The custom elementary functions, indexed by [`Op::Custom`].
    customs: Vec<CustomNode<S>>,
    /// The custom vector functions, indexed by [`Op::CustomOutput`]'s `call`.
    vector_calls: Vec<VectorNode<S>>,
    /// The constants the program uses.
    constants: Vec<S>,
    /// How many inputs the function takes.
    inputs: usize,
    /// The node of each output.
    outputs: Vec<u32>,
    /// The comparisons to check at every point.
    guards: Vec<Guard>,
    /// Sparsity patterns and colourings, computed on first use.
    sparse: sparse::SparseCache,
    /// What the sweeps dispatch on: `ops` flattened ([`step::Step`]),
    /// set by [`Program::prepare_sweeps`] once the passes are done.
    steps: Vec<step::Step>,
}

impl<S> Program<S> {
    /// Derives the sweeps' per-node codes from the final node list.
    fn prepare_sweeps(mut self) -> Self {
        self.steps = self.ops.iter().map(|&op| step::Step::of(op)).collect();
        self
    }

    /// Number of nodes (inputs, constants and operations).
    pub fn len(&self) -> usize {
        self.ops.len()
    }

    /// Whether there are no nodes.
    pub fn is_empty(&self) -> bool {
        self.ops.is_empty()
    }

    /// Number of inputs the function takes.
    pub fn input_count(&self) -> usize {
        self.inputs
    }

    /// Number of outputs.
    pub fn output_count(&self) -> usize {
        self.outputs.len()
    }

    /// The operation of each node, in evaluation order.
    pub fn ops(&self) -> &[Op] {
        &self.ops
    }

    /// The argument nodes of node `i`.
    pub fn args(&self, i: usize) -> &[u32] {
        match self.ops[i] {
            Op::Custom(k) => &self.customs[k as usize].args,
            Op::CustomOutput { call, .. } => &self.vector_calls[call as usize].args,
            op => &self.args[i][..op.fixed_arity()],
        }
    }

    /// The name of custom vector function `call` ([`Op::CustomOutput`]):
    /// its rule's [`NAME`](crate::VectorRule::NAME).
    pub fn vector_name(&self, call: u32) -> &'static str {
        self.vector_calls[call as usize].rule.name()
    }

    /// The name of custom function `k` ([`Op::Custom`]): its rule's
    /// [`NAME`](crate::Elementary::NAME).
    pub fn custom_name(&self, k: u32) -> &'static str {
        self.customs[k as usize].rule.name()
    }

    /// The constants, indexed by [`Op::Constant`].
    pub fn constants(&self) -> &[S] {
        &self.constants
    }

    /// The node of each output.
    pub fn outputs(&self) -> &[u32] {
        &self.outputs
    }

    /// The guarded comparisons, in the order the function made them.
    pub fn guards(&self) -> &[Guard] {
        &self.guards
    }
}

impl<S> Program<S> {
    /// Node `i`'s arguments as `v1, v2, ...`.
    fn arg_list(&self, i: usize) -> String {
        let names: Vec<String> = self.args(i).iter().map(|a| format!("v{a}")).collect();
        names.join(", ")
    }
}

impl<S: fmt::Display> fmt::Display for Program<S> {
    /// One node per line, `v7 = sin(v3)`, then the outputs and the guarded
    /// comparisons:
    ///
    /// ```
    /// use num_traits::Float;
    /// let program = chainrule::program::record(|x| x[0].sin() * 2.0 + x[1], &[1.0, 2.0])?;
    /// assert_eq!(
    ///     program.to_string(),
    ///     "v0 = input 0\nv1 = input 1\nv2 = sin(v0)\nv3 = 2\nv4 = v2 * v3\nv5 = v4 + v1\noutput 0 = v5\n"
    /// );
    /// # Ok::<(), chainrule::Error>(())
    /// ```
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, op) in self.ops.iter().enumerate() {
            let a = |k: usize| self.args[i][k];
            match *op {
                Op::Input(k) => writeln!(f, "v{i} = input {k}")?,
                Op::Constant(k) => writeln!(f, "v{i} = {}", self.constants[k as usize])?,
                Op::Unary(Unary::Neg) => writeln!(f, "v{i} = -v{}", a(0))?,
                Op::Unary(Unary::Powi(n)) => writeln!(f, "v{i} = v{}^{n}", a(0))?,
                Op::Unary(u) => writeln!(f, "v{i} = {}(v{})", u.name(), a(0))?,
                Op::Binary(b @ (Binary::Add | Binary::Sub | Binary::Mul | Binary::Div | Binary::Rem)) => {
                    writeln!(f, "v{i} = v{} {} v{}", a(0), b.name(), a(1))?
                }
                Op::Binary(b) => writeln!(f, "v{i} = {}(v{}, v{})", b.name(), a(0), a(1))?,
                Op::MulAdd => writeln!(f, "v{i} = v{} * v{} + v{}", a(0), a(1), a(2))?,
                Op::Custom(k) => writeln!(f, "v{i} = {}({})", self.custom_name(k), self.arg_list(i))?,
                Op::CustomOutput { call, output } => {
                    writeln!(f, "v{i} = {}({})[{output}]", self.vector_name(call), self.arg_list(i))?
                }
            }
        }
        for (k, output) in self.outputs.iter().enumerate() {
            writeln!(f, "output {k} = v{output}")?;
        }
        for (k, guard) in self.guards.iter().enumerate() {
            let (left, right) = (guard.left, guard.right);
            match guard.outcome {
                crate::reverse::Outcome::Order(Some(order)) => {
                    let symbol = match order {
                        std::cmp::Ordering::Less => "<",
                        std::cmp::Ordering::Equal => "==",
                        std::cmp::Ordering::Greater => ">",
                    };
                    writeln!(f, "guard {k}: v{left} {symbol} v{right}")?
                }
                crate::reverse::Outcome::Order(None) => writeln!(f, "guard {k}: v{left}, v{right} unordered")?,
                crate::reverse::Outcome::Equal(true) => writeln!(f, "guard {k}: v{left} == v{right}")?,
                crate::reverse::Outcome::Equal(false) => writeln!(f, "guard {k}: v{left} != v{right}")?,
            }
        }
        Ok(())
    }
}

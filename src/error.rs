//! The library's error type.

use std::fmt;

/// What went wrong in a differentiation call.
///
/// ```
/// use chainrule::{grad, Error};
/// # use chainrule::Var;
/// let result = chainrule::jvp(|x: &[chainrule::Dual<f64>]| vec![x[0]], &[1.0, 2.0], &[1.0]);
/// assert!(matches!(result, Err(Error::LengthMismatch { .. })));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// Two sequences that must be equally long are not, e.g. the point and
    /// the direction of a `jvp`.
    LengthMismatch {
        /// What was being matched, e.g. "tangent vector".
        what: &'static str,
        /// The length required.
        expected: usize,
        /// The length given.
        found: usize,
    },
    /// A [`Var`](crate::Var) recorded on an earlier (finished) recording, or
    /// on an outer recording while a nested one was active, was used in this
    /// recording. Its derivative would be meaningless, so none is returned.
    ForeignVariable,
    /// The recording reached a limit of the tape: nothing more was recorded
    /// and no derivative is returned.
    TapeFull {
        /// Nodes recorded when the tape filled up.
        nodes: usize,
        /// Which limit was reached.
        limit: TapeLimit,
    },
    /// A method was called on a [`Recording`](crate::Recording) that is not
    /// the innermost active one on this thread.
    RecordingNotActive,
    /// A recorded [`Program`](crate::program::Program) was asked for a point
    /// where one of the recorded function's comparisons comes out
    /// differently: the function would take another branch there, so the
    /// program does not describe it. Record again at this point.
    BranchChanged {
        /// Which comparison, counted in the order the function made them
        /// (see [`Program::guards`](crate::program::Program::guards)).
        comparison: usize,
        /// The node on the comparison's left.
        left: usize,
        /// The node on its right.
        right: usize,
    },
    /// A custom function was applied where it cannot be kept: any custom
    /// function while capturing a graph (pictures draw only the rule table's
    /// operations), or a [`custom_vjp`](crate::custom_vjp) closure while
    /// recording a [`Program`](crate::program::Program) (it keeps no rule to
    /// run at a new point; implement [`VectorRule`](crate::VectorRule)).
    NotRecordable {
        /// The custom function's name.
        operation: &'static str,
    },
    /// A custom vector function's callback, run during a sweep, recorded on
    /// the tape being swept or left a recording of its scalar type open, so
    /// the nodes being swept changed under the sweep.
    TapeChanged {
        /// The custom function's name.
        operation: &'static str,
    },
    /// A forward sweep (a `jvp` on a [`Recording`](crate::Recording)) met a
    /// custom vector function recorded with
    /// [`custom_vjp`](crate::custom::custom_vjp), which has no forward rule.
    NoForwardRule {
        /// The custom function's name.
        operation: &'static str,
    },
    /// A graph was asked of a [`Recording`](crate::Recording) made without
    /// tracing: only [`Recording::traced`](crate::Recording::traced) keeps
    /// what a graph needs.
    NotTraced,
    /// A result would have more entries than memory can address.
    TooLarge {
        /// What was being made, e.g. "matrix".
        what: &'static str,
        /// Its rows.
        rows: usize,
        /// Its columns.
        cols: usize,
    },
    /// The allocator refused the memory for a result.
    OutOfMemory {
        /// What was being made, e.g. "matrix".
        what: &'static str,
        /// How many bytes it needed.
        bytes: usize,
        /// The allocator's refusal ([`source`](std::error::Error::source)).
        source: std::collections::TryReserveError,
    },
    /// A custom vector function's product returned the wrong number of
    /// values.
    CallbackLength {
        /// The custom function's name.
        operation: &'static str,
        /// Which product: "vector-Jacobian product" or "Jacobian-vector product".
        product: &'static str,
        /// One per argument (vector-Jacobian) or per output (Jacobian-vector).
        expected: usize,
        /// What the callback returned.
        found: usize,
    },
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::LengthMismatch { what, expected, found } => {
                write!(f, "{what} has length {found}, expected {expected}")
            }
            Error::ForeignVariable => f.write_str(
                "a variable from another (finished or outer) recording was used; \
                 create variables with the recording that differentiates them",
            ),
            Error::TapeFull { nodes, limit } => {
                write!(f, "the tape filled up after {nodes} recorded nodes: ")?;
                match limit {
                    TapeLimit::Nodes(most) => write!(f, "a tape holds at most {most} nodes; record less per recording"),
                    TapeLimit::Bytes(most) => write!(
                        f,
                        "the tape limit of {most} bytes was reached; raise it with \
                         `Recording::with_tape_limit` or `reverse::set_tape_limit`"
                    ),
                    TapeLimit::OutOfMemory { bytes } => write!(
                        f,
                        "the allocator refused {bytes} bytes of tape; record less, or free memory"
                    ),
                }
            }
            Error::BranchChanged {
                comparison,
                left,
                right,
            } => write!(
                f,
                "the recorded function's comparison {comparison} (v{left} against v{right}) comes out \
                 differently at this point, so the function takes another branch here; record it again here"
            ),
            Error::NotRecordable { operation } => write!(
                f,
                "the custom function `{operation}` cannot be kept in this recording (graphs draw only \
                 the built-in operations; a program cannot run a custom_vjp closure again: implement \
                 VectorRule); differentiate the function directly (grad, jacfwd, hessian...) instead"
            ),
            Error::TapeChanged { operation } => write!(
                f,
                "the callback of the custom function `{operation}` recorded on the tape being swept \
                 (or left a recording open); a callback must compute with plain values, not the \
                 recording's variables"
            ),
            Error::NoForwardRule { operation } => write!(
                f,
                "the custom function `{operation}` has only a vector-Jacobian product (custom_vjp), \
                 so a forward sweep cannot pass it; sweep backward, or give it a Jacobian-vector \
                 product with a `VectorRule`"
            ),
            Error::CallbackLength {
                operation,
                product,
                expected,
                found,
            } => write!(
                f,
                "the {product} of the custom function `{operation}` returned {found} values, expected {expected}"
            ),
            Error::NotTraced => f.write_str(
                "the recording was made without tracing, so it kept no graph; \
                 record with `Recording::traced()` (or use `graph::capture`)",
            ),
            Error::TooLarge { what, rows, cols } => write!(
                f,
                "a {rows}×{cols} {what} has more entries than memory can address; \
                 ask for fewer rows or columns (a sparse result, or products with vectors)"
            ),
            Error::OutOfMemory { what, bytes, .. } => write!(
                f,
                "the allocator refused the {bytes} bytes of a {what}; ask for a smaller result, \
                 or free memory"
            ),
            Error::RecordingNotActive => f.write_str(
                "this recording is not the innermost active recording on this thread; \
                 finish (drop) the nested recording first",
            ),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::OutOfMemory { source, .. } => Some(source),
            _ => None,
        }
    }
}

/// Which limit a recording reached, in [`Error::TapeFull`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum TapeLimit {
    /// The node count: node indices have 29 bits, so one tape holds at most
    /// [`MAX_NODES`](crate::reverse::MAX_NODES) nodes.
    Nodes(usize),
    /// The byte limit set with
    /// [`Recording::with_tape_limit`](crate::Recording::with_tape_limit) or
    /// [`set_tape_limit`](crate::reverse::set_tape_limit).
    Bytes(usize),
    /// The allocator could not provide the next block of tape.
    OutOfMemory {
        /// The tape size that could not be allocated.
        bytes: usize,
    },
}

/// `Result` with chainrule's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Checks that `found` equals `expected`, naming `what` otherwise.
pub(crate) fn check_len(what: &'static str, expected: usize, found: usize) -> Result<()> {
    if expected == found {
        Ok(())
    } else {
        Err(Error::LengthMismatch { what, expected, found })
    }
}

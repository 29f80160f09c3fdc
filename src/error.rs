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
    /// The recording grew past the tape's capacity.
    TapeFull {
        /// The largest number of recorded nodes a tape holds.
        limit: usize,
    },
    /// A method was called on a [`Recording`](crate::Recording) that is not
    /// the innermost active one on this thread.
    RecordingNotActive,
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
            Error::TapeFull { limit } => {
                write!(f, "the recording exceeded the tape's capacity of {limit} nodes")
            }
            Error::RecordingNotActive => f.write_str(
                "this recording is not the innermost active recording on this thread; \
                 finish (drop) the nested recording first",
            ),
        }
    }
}

impl std::error::Error for Error {}

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

//! Reverse mode: a tape of local partials, swept backward for adjoints
//! (and forward for tangents).
//!
//! [`Recording`] is one use of this thread's tape; [`Var`] is a scalar
//! recorded on it. The tape is a flat list of `(partial, parent)` edges with
//! no per-operation allocation and no pointers, swept by loops.

pub(crate) mod call;
pub(crate) mod call_sweeps;
mod recording;
pub(crate) mod tape;
pub(crate) mod thread_tape;
mod var;

pub use recording::{Recording, set_tape_limit, tape_limit};
pub use tape::{MAX_NODES, NodeOp, Outcome};
pub use thread_tape::TapeScalar;
pub use var::Var;

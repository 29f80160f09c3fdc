//! Forward mode: dual numbers that carry tangents beside values.
//!
//! [`Dual`] carries one tangent (one Jacobian-vector product per evaluation)
//! and nests for higher derivatives; [`DualN`] carries `N` tangents at once,
//! for chunked Jacobians. [`JvpBuffers`] runs Jacobian-vector products in
//! a loop without allocating.

mod dual;
mod dual_n;
mod jvp_buffers;

pub use dual::Dual;
pub use dual_n::DualN;
pub use jvp_buffers::JvpBuffers;

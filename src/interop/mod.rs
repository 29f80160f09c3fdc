//! Adapters to the Rust numeric ecosystem, each behind its feature:
//!
//! - [`nalgebra`] (feature `nalgebra`): every chainrule
//!   number is a nalgebra scalar, so matrices of `Var` or `Dual` go through
//!   LU, Cholesky, inverses and eigen-decompositions, and `Matrix` converts to
//!   and from `DMatrix`;
//! - [`argmin`] (feature `argmin`): a recorded objective or
//!   residual function as an argmin problem, with gradients, Hessians and
//!   Jacobians from chainrule;
//! - [`ndarray`] (feature `ndarray`): `tensor::Array` to and
//!   from ndarray arrays, moving the buffer where the layout allows.

#[cfg(feature = "argmin")]
#[cfg_attr(docsrs, doc(cfg(feature = "argmin")))]
pub mod argmin;
#[cfg(feature = "nalgebra")]
#[cfg_attr(docsrs, doc(cfg(feature = "nalgebra")))]
pub mod nalgebra;
#[cfg(feature = "ndarray")]
#[cfg_attr(docsrs, doc(cfg(feature = "ndarray")))]
pub mod ndarray;

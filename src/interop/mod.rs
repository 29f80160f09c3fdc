//! Adapters to the Rust numeric ecosystem, each behind its feature:
//!
//! - [`nalgebra`](self::nalgebra) (feature `nalgebra`): every chainrule
//!   number is a nalgebra scalar, so matrices of `Var` or `Dual` go through
//!   LU, Cholesky, inverses and eigen-decompositions, and `Matrix` converts to
//!   and from `DMatrix`;
//! - [`argmin`](self::argmin) (feature `argmin`): a recorded objective or
//!   residual function as an argmin problem, with gradients, Hessians and
//!   Jacobians from chainrule.

#[cfg(feature = "argmin")]
#[cfg_attr(docsrs, doc(cfg(feature = "argmin")))]
pub mod argmin;
#[cfg(feature = "nalgebra")]
#[cfg_attr(docsrs, doc(cfg(feature = "nalgebra")))]
pub mod nalgebra;

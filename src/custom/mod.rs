//! Functions with derivatives the user supplies: elementary functions of a
//! few scalars ([`Elementary`], [`apply`]) and vector functions with their
//! Jacobian products ([`VectorRule`], [`apply_vector`], [`custom_vjp`],
//! [`custom_jvp`]).
//!
//! Both are written once and used by every mode: on plain floats they give
//! the value, on dual numbers the tangents follow from the rule, on tape
//! variables the rule is what the sweeps use. Second and higher derivatives
//! come from running the rule itself on the nested number types, so a rule
//! written generically (with the number type's operations) is
//! differentiable again.

pub mod elementary;
pub(crate) mod erased;
pub mod vector;

pub(crate) use elementary::lifted_partials;
pub use elementary::{Elementary, apply};
pub(crate) use vector::check_tangents;
pub use vector::{VectorRule, apply_vector, custom_jvp, custom_vjp};

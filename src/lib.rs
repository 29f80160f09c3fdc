//! # chainrule: automatic differentiation for Rust
//!
//! Exact derivatives of your code, by the chain rule applied one elementary
//! operation at a time. Write a function once, generic over
//! [`num_traits::Float`], and get its derivative, gradient, Jacobian (forward
//! or reverse mode) and Hessian from it.
//!
//! ## A tour
//!
//! **A derivative.** The seed example `f(x) = exp(−x²)`, whose derivative is
//! `f′(x) = −2x·exp(−x²)`. [`derivative`] runs `f` once on a [`Dual`] number,
//! which carries the tangent beside the value (forward mode):
//!
//! ```
//! use num_traits::Float;
//!
//! fn f<T: Float>(x: T) -> T {
//!     (-x * x).exp()
//! }
//!
//! let x = 1.5_f64;
//! let slope = chainrule::derivative(f, x);
//! let exact = -2.0 * x * (-x * x).exp();
//! assert!((slope - exact).abs() <= 1e-15 * exact.abs());
//! ```
//!
//! **A gradient.** [`grad`] records `f` on a tape as it runs on [`Var`]s, then
//! sweeps the tape backward once: the whole gradient for the cost of a few
//! evaluations, however many inputs (reverse mode). Here Baydin et al.'s
//! example `f(x1, x2) = ln(x1) + x1·x2 − sin(x2)` at `(2, 5)`:
//!
//! ```
//! use num_traits::Float;
//!
//! fn f<T: Float>(x: &[T]) -> T {
//!     x[0].ln() + x[0] * x[1] - x[1].sin()
//! }
//!
//! let (value, gradient) = chainrule::value_and_grad(f, &[2.0, 5.0])?;
//! assert!((value - 11.652071).abs() < 1e-6);
//! assert_eq!(gradient[0], 5.5); // 1/x1 + x2
//! assert!((gradient[1] - 1.716338).abs() < 1e-6); // x1 − cos(x2)
//! # Ok::<(), chainrule::Error>(())
//! ```
//!
//! **A Jacobian, both modes.** For `f: R³ → R²`, [`jacfwd`] pushes tangents
//! forward (one pass per chunk of 8 inputs) and [`jacrev`] pulls adjoints
//! back (one sweep per 8 outputs). [`jacobian`] picks the cheaper by shape.
//!
//! ```
//! use num_traits::Float;
//!
//! fn f<T: Float>(x: &[T]) -> Vec<T> {
//!     vec![x[0] * x[1].sin(), x[1] * x[2] + x[0].exp()]
//! }
//!
//! let x = [1.0, 2.0, 3.0];
//! let forward = chainrule::jacfwd(f, &x)?;
//! let reverse = chainrule::jacrev(f, &x)?;
//! let exact = [
//!     [2f64.sin(), 2f64.cos(), 0.0],
//!     [1f64.exp(), 3.0, 2.0],
//! ];
//! for i in 0..2 {
//!     for j in 0..3 {
//!         assert!((forward[(i, j)] - exact[i][j]).abs() < 1e-15);
//!         assert!((reverse[(i, j)] - exact[i][j]).abs() < 1e-15);
//!     }
//! }
//! # Ok::<(), chainrule::Error>(())
//! ```
//!
//! **A Hessian.** [`hessian`] differentiates the reverse sweep itself in
//! forward mode (`Var<DualN<f64, 8>>`: forward-over-reverse, 8 directions per
//! recording). Rosenbrock's
//! `f(x, y) = (1 − x)² + 100(y − x²)²` has Hessian
//! `[[2 − 400(y − 3x²), −400x], [−400x, 200]]`:
//!
//! ```
//! use num_traits::Float;
//!
//! fn rosenbrock<T: Float>(v: &[T]) -> T {
//!     let (x, y) = (v[0], v[1]);
//!     let hundred = T::from(100.0).unwrap();
//!     (T::one() - x).powi(2) + hundred * (y - x * x).powi(2)
//! }
//!
//! let h = chainrule::hessian(rosenbrock, &[1.0, 2.0])?;
//! assert_eq!(h.to_rows(), vec![vec![402.0, -400.0], vec![-400.0, 200.0]]);
//! # Ok::<(), chainrule::Error>(())
//! ```
//!
//! ## The pieces
//!
//! - [`rules`]: the one table of elementary derivatives every mode uses, and
//!   the conventions at non-differentiable points (`|x|` at 0, ties of `max`,
//!   `sqrt` at 0, `powf` at 0, NaN and ∞).
//! - [`forward`]: [`Dual`] and [`DualN`] numbers; they nest (`Dual<Dual<f64>>`).
//!   [`JvpBuffers`] runs Jacobian-vector products in a loop without allocating.
//! - [`reverse`]: the tape, [`Recording`] and [`Var`]. Each thread records on
//!   its own tape; one recording can be swept backward (adjoints) and forward
//!   (tangents).
//! - [`api`]: `derivative`, `grad`, `value_and_grad`, `jvp`, `vjp`, `jacfwd`,
//!   `jacrev`, `jacobian`, `hessian`, `hvp`; and [`jacobian_of`] for a
//!   [`VectorFunction`] written once for every number type, which picks the
//!   mode by shape.
//! - [`custom`]: your own elementary functions ([`Elementary`], [`apply`]).
//! - [`program`]: record a function once as a flat program of rule-table
//!   operations, then evaluate it, differentiate it at any point without
//!   calling it again (branches guarded), print it, and get sparse Jacobians
//!   and Hessians from its sparsity pattern and a graph colouring.
//! - [`graph`]: the computational graph made visible: evaluation traces,
//!   SVG and DOT pictures, and (feature `html`) an interactive page that plays
//!   the forward and reverse sweeps step by step, each step with the
//!   arithmetic it did ([`graph::Graph::walkthrough`], [`graph::Page`]); the
//!   chain rule for vector functions as a product of Jacobians with the cost
//!   of each order ([`graph::ChainView`]).
//! - [`tensor`]: array-level reverse mode for neural networks.
//!
//! ## Cargo features
//!
//! With `default-features = false` the crate is the AD core alone (rules,
//! forward and reverse mode, the API, custom rules, checkpointing), with
//! `num-traits` its only dependency. Each feature adds one part:
//!
//! | feature | unlocks | adds |
//! |---|---|---|
//! | `program` | [`program`]: record once, passes, sparse Jacobians and Hessians | foldhash |
//! | `expr` | [`expr`]: the expression language | strsim |
//! | `graph` | [`graph`]: traces, SVG/DOT pictures, walkthroughs, the chain view | |
//! | `tensor` | [`tensor`]: array-level reverse mode, neural networks (needs `graph`) | matrixmultiply, rand_core |
//! | `html` | `graph::Page`, `TensorTape::to_html`: interactive pages | serde_json |
//! | `cli` | the `chainrule` command line (turns on `serde` for its `--json`) | clap, clap_complete, serde_json |
//! | `serve` | `chainrule serve` | tiny_http, ctrlc |
//! | `nalgebra-sparse` | sparse results as `nalgebra_sparse::CsrMatrix` | nalgebra-sparse |
//! | `nalgebra` | `interop::nalgebra`: every chainrule number a nalgebra scalar (LU, Cholesky, ... on `DMatrix<Var>`), `Matrix` ↔ `DMatrix` | nalgebra, simba, approx |
//! | `ndarray` | `interop::ndarray`: `tensor::Array` ↔ ndarray arrays, moving the buffer (needs `tensor`) | ndarray |
//! | `argmin` | `interop::argmin`: recorded objectives and residuals as argmin problems (needs `program`) | argmin, argmin-math |
//! | `serde` | `Serialize`/`Deserialize` for `Matrix`, `tensor::Array`, sparse results and recorded programs | serde |
//!
//! `nalgebra-sparse`, `nalgebra`, `ndarray` and `argmin` are off by default, and
//! `serde` is on only through `cli`; the others are on.
//!
//! ## Extending chainrule
//!
//! - **Your own elementary functions**: implement [`Elementary`] (a value and
//!   its partial derivatives, generic over the number type) and call it with
//!   [`apply`]. Every mode uses your partials: dual numbers for tangents, the
//!   tape for adjoints, and your partials run on dual numbers for second
//!   derivatives (or your [`second_partials`](Elementary::second_partials),
//!   if you state them); recorded [`program`]s keep the rule and run it at
//!   every point. For a stable form (log-sum-exp), an implicit function (a
//!   Newton iteration differentiated by the implicit function theorem), a
//!   library call with a known derivative. See `examples/06_custom_rules.rs`.
//! - **Your own vector functions**: implement [`VectorRule`] (the value and
//!   the Jacobian products `J·ẋ` and `ȳᵀ·J`) and call it with
//!   [`apply_vector`]: dual numbers take tangents from your `jvp`, the tape
//!   records one call whose sweeps run your products, nested types
//!   differentiate your products again, and recorded programs keep the rule.
//!   For a linear solve (whose adjoint is
//!   one solve with `Aᵀ`), an implicit function, a library with its own
//!   adjoint. [`custom_vjp`] and [`custom_jvp`] are the closure forms for
//!   first derivatives in one mode.
//! - **Any scalar on the tape**: [`Var<T>`](Var) records for every [`Real`]
//!   `T` ([`TapeScalar`]): `Var<Var<f64>>` for reverse over reverse,
//!   `Var<DualN<f64, 4>>` for forward over reverse at any width, deeper
//!   nestings, scalar types of your own. The scalars the API uses keep a
//!   one-load thread-local tape; the others' tapes come from a per-thread
//!   table.
//! - **[`checkpoint`]**: gradients of long loops (ODE integrators, recurrent
//!   networks) from a few kept states instead of a tape of every step, every
//!   `k` steps or by the binomial (Revolve) schedule. See
//!   `examples/07_checkpoint.rs`.
//! - **[`stop_gradient`]**: a value that derivatives do not flow through, in
//!   every mode and at every order (and [`Tensor::detach`](tensor::Tensor::detach)
//!   on the tensor tape).
//!
//! ```
//! use chainrule::{apply, grad, stop_gradient, Elementary, Real};
//!
//! /// x², with its derivative stated.
//! #[derive(Clone)]
//! struct Square;
//! impl Elementary<1> for Square {
//!     const NAME: &'static str = "square";
//!     fn value<T: Real>(&self, [x]: [T; 1]) -> T { x * x }
//!     fn partials<T: Real>(&self, [x]: [T; 1]) -> [T; 1] { [x + x] }
//! }
//! // d/dx [x² + stop(x)·y] = 2x, d/dy = x.
//! let g = grad(|v| apply(&Square, [v[0]]) + stop_gradient(v[0]) * v[1], &[3.0, 4.0])?;
//! assert_eq!(g, vec![6.0, 3.0]);
//! # Ok::<(), chainrule::Error>(())
//! ```
//!
//! ## Errors
//!
//! Functions that take your data return [`Result`]: mismatched lengths, a
//! variable from another recording, or a full tape are reported as an
//! [`Error`], never as silently wrong numbers. Numerical trouble is not an
//! error: `ln(-1)` is NaN, and so is its derivative, as IEEE says.

#![warn(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]

#[macro_use]
mod scalar_impl;

pub mod api;
pub mod checkpoint;
pub mod custom;
mod error;
#[cfg(feature = "expr")]
#[cfg_attr(docsrs, doc(cfg(feature = "expr")))]
pub mod expr;
pub mod forward;
mod function;
#[cfg(feature = "graph")]
#[cfg_attr(docsrs, doc(cfg(feature = "graph")))]
pub mod graph;
#[cfg(any(feature = "nalgebra", feature = "argmin", feature = "ndarray"))]
#[cfg_attr(docsrs, doc(cfg(any(feature = "nalgebra", feature = "argmin", feature = "ndarray"))))]
pub mod interop;
mod matrix;
#[cfg(feature = "program")]
#[cfg_attr(docsrs, doc(cfg(feature = "program")))]
pub mod program;
mod real;
pub mod reverse;
pub mod rules;
mod stop_gradient;
#[cfg(feature = "tensor")]
#[cfg_attr(docsrs, doc(cfg(feature = "tensor")))]
pub mod tensor;

pub use api::{
    HESSIAN_CHUNK, JACFWD_CHUNK, derivative, grad, hessian, hvp, jacfwd, jacfwd_chunked, jacobian, jacrev, jvp,
    value_and_derivative, value_and_grad, value_and_jacfwd, value_and_jacobian, value_grad_hessian, vjp,
};
pub use custom::{Elementary, VectorRule, apply, apply_vector, custom_jvp, custom_vjp};
pub use error::{Error, Result, TapeLimit};
pub use forward::{Dual, DualN, JvpBuffers};
pub use function::{VectorFunction, jacobian_of, value_and_jacobian_of};
pub use matrix::Matrix;
pub use real::{AdNumber, Innermost, Real};
pub use reverse::{Recording, TapeScalar, Var};
pub use stop_gradient::stop_gradient;

/// The README's example, compiled and run as a doctest.
#[cfg(all(doctest, feature = "program", feature = "graph"))]
#[doc = include_str!("../README.md")]
struct ReadmeExample;

//! The computational graph made visible: evaluation traces as tables, and
//! pictures of the graph with values, tangents and adjoints on it.
//!
//! [`capture`] records a function with tracing on and returns its [`Graph`]:
//! inputs, constants and elementary operations, each with the nodes it reads
//! and the local partial derivatives (from the same rule table every mode
//! uses). From a graph:
//!
//! - [`Graph::trace`]: the evaluation trace (Baydin et al., JMLR 2018, tables
//!   2 and 3): primal values, tangents along an input direction, adjoints for
//!   output seeds; [`Trace::table`] prints it aligned.
//! - [`Graph::to_dot`]: Graphviz DOT text.
//! - [`Graph::to_svg`]: an SVG picture drawn by chainrule, no external program
//!   needed.
//! - [`Graph::walkthrough`]: the sweeps as steps, each with the arithmetic it
//!   did (forward: a node's value and tangent; reverse: one edge's adjoint
//!   product), and, with feature `html`, `Page`: one self-contained HTML
//!   file that plays them (`chainrule graph --output page.html`, and the
//!   playground of `chainrule serve`). `TensorTape::to_html` writes the same
//!   page for a tensor graph.
//! - [`ChainView`]: the chain rule for a composition of vector functions as a
//!   product of Jacobians, with the multiply-adds of each order.
//!
//! ```
//! use chainrule::graph::capture;
//! use num_traits::Float;
//!
//! let graph = capture(|x| vec![x[0].ln() + x[0] * x[1] - x[1].sin()], &[2.0, 5.0])?
//!     .with_input_names(&["x1", "x2"])?;
//! let trace = graph.trace(Some(&[1.0, 0.0]), Some(&[1.0]))?;
//! println!("{}", trace.table("∂/∂x1"));
//! let svg = graph.to_svg(&trace);
//! assert!(svg.contains("adjoint 1.7163378"));
//! # Ok::<(), chainrule::Error>(())
//! ```

mod capture;
mod chain;
mod dot;
#[cfg(feature = "html")]
mod page;
mod svg;
mod trace;
mod walkthrough;

pub use capture::{Graph, GraphNode, GraphOp, capture, format_number};
pub use chain::{ChainStage, ChainView};
#[cfg(feature = "html")]
pub use page::Page;
#[cfg(feature = "tensor")]
pub(crate) use svg::FIELD_COLOURS;
pub use svg::{NodeStyle, Picture, PictureNode};
pub use trace::{Trace, TraceStep};
pub use walkthrough::{Sweep, SweepDirection, WalkNode, WalkStep, Walkthrough};

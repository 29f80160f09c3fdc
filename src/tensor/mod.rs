//! Tensors: array-level reverse mode, one tape node per array operation.
//!
//! [`Array`] holds `f32` or `f64` data with a shape (row-major, NumPy
//! broadcasting, matrix products on the `matrixmultiply` kernels).
//! [`TensorTape`] records operations on [`Tensor`]s and sweeps them backward
//! once for the gradient of a scalar with respect to every tensor.
//! Elementwise operations take their value and derivative from the same
//! [rule table](crate::rules) as the scalar modes.
//!
//! ```
//! use chainrule::tensor::{Array, TensorTape};
//!
//! // One step of logistic regression: loss = cross-entropy(x·w + b, labels)
//! let tape = TensorTape::<f64>::new();
//! let x = tape.input(Array::new(vec![2, 3], vec![1.0, 0.5, -1.0, 0.2, -0.3, 0.8]).unwrap());
//! let w = tape.input(Array::new(vec![3, 2], vec![0.1, -0.2, 0.3, 0.4, -0.5, 0.6]).unwrap());
//! let b = tape.input(Array::new(vec![2], vec![0.0, 0.1]).unwrap());
//! let logits = x.matmul(&w)?.add(&b)?;
//! let loss = logits.cross_entropy(&[0, 1])?;
//! let grads = tape.backward(&loss)?;
//! assert_eq!(grads.of(&w).shape(), &[3, 2]);
//! assert_eq!(grads.of(&b).shape(), &[2]); // broadcast over the batch, summed back
//! # Ok::<(), chainrule::tensor::TensorError>(())
//! ```
//!
//! Shape errors name both shapes; nothing here panics on data.

mod array;
mod gradcheck;
mod kernels;
pub mod nn;
mod pool;
mod tape;
mod walkthrough;

pub use array::{Array, Element, TensorError, broadcast_shapes};
pub use gradcheck::{GradcheckReport, gradcheck};
pub use pool::release_pooled_memory;
pub use tape::{Gradients, Tensor, TensorOp, TensorTape};

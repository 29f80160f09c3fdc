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
//!
//! How it runs: chains of elementwise operations are deferred when recorded
//! and run as fused kernels, a block of 1024 elements at a time through the
//! whole chain, forward and backward, so their intermediate arrays never go
//! through memory. What fuses: the rule table's functions; two-argument
//! ones of arrays with the same number of elements, or of an array and a
//! stored single number; slices that are one contiguous run of their
//! parent (read in place), and reshapes; and the sum of any of these. A
//! transpose is a view too: matrix products read it through strides, in
//! the forward product and in its adjoints, without copying the operand.
//! Matrix products, reductions along an axis, row and column broadcasting
//! and concatenation are computed when recorded and store the values they
//! read, as does [`Tensor::value`]. A group holds at most 32 tensors. The
//! graph picture marks each fused group, and [`TensorTape::unfused`]
//! records without fusing. Values are the same bits either way. A deferred
//! sum read after [`TensorTape::backward`] gets its value from the sweep's
//! own pass. Each elementwise kernel is a loop compiled for its
//! operation (the rule is chosen once, outside the loop), with the chain
//! rule's strong zero tested once per block of elements; a bias row or a
//! per-row column broadcasts without index arithmetic; matrix products read
//! transposed operands through strides. Large array buffers (64 KiB and up)
//! freed on a thread are kept for the next array of about their size on that
//! thread, so a training loop in its steady state maps no new memory;
//! [`release_pooled_memory`] frees them. [`Gradients::take`] hands a gradient
//! to the optimizer without a copy, and [`TensorTape::constant`] shares an
//! `Rc<Array>` batch across steps.

mod array;
mod fusion;
mod gradcheck;
mod kernels;
pub mod nn;
mod node;
mod pool;
mod tape;
mod walkthrough;

pub use array::{Array, Element, TensorError, broadcast_shapes};
pub use gradcheck::{GradcheckReport, gradcheck};
pub use node::TensorOp;
pub use pool::release_pooled_memory;
pub use tape::{Gradients, Tensor, TensorTape};

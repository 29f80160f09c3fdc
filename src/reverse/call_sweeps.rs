//! Custom vector functions on the tape: a side table of user callbacks, and
//! the sweeps that stop at them.
//!
//! A custom vector function `y = f(x)` ([`VectorRule`](crate::custom::VectorRule),
//! [`custom_vjp`](crate::custom::custom_vjp)) records its `m` outputs as
//! consecutive nodes whose one edge goes to the sink, like inputs, and one
//! [`Call`] in the tape's side table with the argument nodes and the
//! callbacks. A tape without calls is swept by the plain loops. With calls,
//! a sweep runs the plain loop over each stretch of edges between two calls
//! and, at each call, hands the outputs' adjoints to the vector-Jacobian
//! callback (backward) or the arguments' tangents to the Jacobian-vector
//! callback (forward) and writes back what it returns.
//!
//! The callbacks are user code, so they run while no reference to the tape
//! is held: each stretch borrows the tape on its own, and the sweep's
//! buffer is local. A callback that records on the tape being swept (or
//! leaves a recording of its type open) would change the nodes the sweep
//! is walking; the sweep checks for that after every callback and returns
//! [`Error::TapeChanged`] instead of a meaningless derivative.

use crate::error::{Error, Result};
use crate::reverse::call::Call;
use crate::reverse::tape::{Position, Tape};
use crate::reverse::thread_tape::{TapeScalar, with_tape};

/// What a sweep over a tape with calls needs to know of the tape, read once.
struct Layout<T> {
    generation: u32,
    nodes: u32,
    end: Position,
    calls: Vec<Call<T>>,
}

/// Reads the layout of this thread's tape for `T`, which must be the active
/// recording `generation`'s.
fn layout<T: TapeScalar>(generation: u32) -> Layout<T> {
    with_tape(|tape: &mut Tape<T>| Layout {
        generation,
        nodes: tape.node_count(),
        end: tape.end(),
        calls: tape.calls.clone(),
    })
}

/// Checks, after a callback ran, that the tape is still the one being swept.
fn unchanged<T: TapeScalar>(layout: &Layout<T>, call: &Call<T>) -> Result<()> {
    let same =
        with_tape(|tape: &mut Tape<T>| tape.generation == layout.generation && tape.node_count() == layout.nodes);
    if same {
        Ok(())
    } else {
        Err(Error::TapeChanged { operation: call.name })
    }
}

/// `K` backward sweeps at once over the active recording `generation`,
/// which holds custom calls: the adjoint block of every node.
pub(crate) fn backward<T: TapeScalar, const K: usize>(generation: u32, seeds: &[(u32, [T; K])]) -> Result<Vec<[T; K]>> {
    let layout = layout::<T>(generation);
    let mut blocks = vec![[T::zero(); K]; layout.nodes as usize];
    for &(node, seed) in seeds {
        for k in 0..K {
            blocks[node as usize][k] += seed[k];
        }
    }
    let (mut end, mut last_node) = (layout.end, layout.nodes as usize - 1);
    for call in layout.calls.iter().rev() {
        // Every node after the call's outputs is swept, so their adjoints are final.
        let after_outputs = call.after_outputs();
        with_tape(|tape: &mut Tape<T>| tape.backward_block_span(&mut blocks, after_outputs, end, last_node));
        for k in 0..K {
            let adjoints: Vec<T> = blocks[call.output_nodes()].iter().map(|block| block[k]).collect();
            if T::all_zero(&adjoints) {
                continue;
            }
            let pulled = (call.vjp)(&adjoints);
            unchanged(&layout, call)?;
            check_length(call, "vector-Jacobian product", call.arguments.len(), pulled.len())?;
            for (&argument, adjoint) in call.arguments.iter().zip(pulled) {
                blocks[argument as usize][k] += adjoint;
            }
        }
        end = call.first_edge;
        last_node = call.first_output as usize - 1;
    }
    with_tape(|tape: &mut Tape<T>| tape.backward_block_span(&mut blocks, Position::default(), end, last_node));
    blocks[0] = [T::zero(); K];
    Ok(blocks)
}

/// `K` forward sweeps at once over the active recording `generation`,
/// which holds custom calls: the tangent block of every node.
///
/// # Errors
/// [`Error::NoForwardRule`] if a call has no Jacobian-vector product.
pub(crate) fn forward<T: TapeScalar, const K: usize>(generation: u32, seeds: &[(u32, [T; K])]) -> Result<Vec<[T; K]>> {
    let layout = layout::<T>(generation);
    if let Some(call) = layout.calls.iter().find(|call| call.jvp.is_none()) {
        return Err(Error::NoForwardRule { operation: call.name });
    }
    let mut blocks = vec![[T::zero(); K]; layout.nodes as usize];
    for &(node, seed) in seeds {
        blocks[node as usize] = seed;
    }
    let (mut start, mut node_before) = (Position::default(), 0);
    // `k` picks one lane of every node's block: no single slice to iterate.
    #[allow(clippy::needless_range_loop)]
    for call in &layout.calls {
        with_tape(|tape: &mut Tape<T>| tape.forward_block_span(&mut blocks, start, call.first_edge, node_before));
        for k in 0..K {
            // A constant argument is the sink, whose tangent is 0.
            let tangents: Vec<T> = call.arguments.iter().map(|&a| blocks[a as usize][k]).collect();
            if T::all_zero(&tangents) {
                continue;
            }
            let jvp = call
                .jvp
                .as_ref()
                .expect("calls without a forward rule were refused above");
            let pushed = jvp(&tangents);
            unchanged(&layout, call)?;
            check_length(call, "Jacobian-vector product", call.outputs as usize, pushed.len())?;
            for (node, tangent) in call.output_nodes().zip(pushed) {
                blocks[node][k] = tangent;
            }
        }
        start = call.after_outputs();
        node_before = call.output_nodes().end - 1;
    }
    with_tape(|tape: &mut Tape<T>| tape.forward_block_span(&mut blocks, start, layout.end, node_before));
    Ok(blocks)
}

fn check_length<T>(call: &Call<T>, product: &'static str, expected: usize, found: usize) -> Result<()> {
    if expected == found {
        Ok(())
    } else {
        Err(Error::CallbackLength {
            operation: call.name,
            product,
            expected,
            found,
        })
    }
}

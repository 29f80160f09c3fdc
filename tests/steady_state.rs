//! A training loop in its steady state maps no new memory: after a warm-up
//! step, every large array buffer (the weight gradient here is 400 KB) comes
//! back from the per-thread pool, and the bytes held do not grow. Counted by
//! a global allocator.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::rc::Rc;

use chainrule::tensor::nn::{Activation, Adam, Mlp, Optimizer, Sgd, SplitMix64};
use chainrule::tensor::{Array, TensorTape};

struct Counting;

/// Allocations of at least this many bytes count as large (the pool's
/// threshold: smaller buffers are left to the allocator, which recycles
/// them without mapping memory).
const LARGE: usize = 64 * 1024;

thread_local! {
    static LARGE_ALLOCATIONS: Cell<usize> = const { Cell::new(0) };
    static LIVE_BYTES: Cell<isize> = const { Cell::new(0) };
}

// SAFETY: every call is forwarded unchanged to the system allocator; the
// counters are const-initialized thread-locals, which never allocate.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if layout.size() >= LARGE {
            LARGE_ALLOCATIONS.with(|count| count.set(count.get() + 1));
        }
        LIVE_BYTES.with(|live| live.set(live.get() + layout.size() as isize));
        // SAFETY: the caller's contract for `alloc` is passed on unchanged.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE_BYTES.with(|live| live.set(live.get() - layout.size() as isize));
        // SAFETY: `ptr` came from `System.alloc` with this `layout`.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn large_allocations() -> usize {
    LARGE_ALLOCATIONS.with(Cell::get)
}

fn live_bytes() -> isize {
    LIVE_BYTES.with(Cell::get)
}

/// One batch of 64 inputs for a 784-128-10 MLP, with its labels.
struct Batch {
    inputs: Rc<Array<f32>>,
    labels: Vec<usize>,
}

fn batch() -> Batch {
    let mut rng = SplitMix64::new(11);
    Batch {
        inputs: Rc::new(Array::new(vec![64, 784], (0..64 * 784).map(|_| rng.uniform() as f32).collect()).unwrap()),
        labels: (0..64).map(|i| i % 10).collect(),
    }
}

/// `steps` training steps of the MLP on `batch` with the given optimizer;
/// returns the last loss.
fn train(
    mlp: &mut Mlp<f32>,
    optimizer: &mut dyn Optimizer<f32>,
    tape: &mut TensorTape<f32>,
    batch: &Batch,
    steps: usize,
) -> f32 {
    let mut loss = f32::NAN;
    for _ in 0..steps {
        tape.clear();
        let (logits, params) = mlp.forward(tape, tape.constant(Rc::clone(&batch.inputs))).unwrap();
        let step_loss = logits.cross_entropy(&batch.labels).unwrap();
        loss = step_loss.value().data()[0];
        let mut grads = tape.backward(&step_loss).unwrap();
        let grads: Vec<Array<f32>> = params.iter().map(|p| grads.take(p)).collect();
        tape.clear();
        optimizer.step(&mut mlp.parameters_mut(), &grads).unwrap();
    }
    loss
}

/// Large allocations made inside one `[64, 784] · [784, 128]` product: the
/// matrix kernel's own packing buffer, taken and freed within the call (the
/// product itself, 32 KB, is small).
fn packing_allocations() -> usize {
    let (x, w) = (Array::<f32>::zeros(vec![64, 784]), Array::<f32>::zeros(vec![784, 128]));
    drop(x.matmul(&w));
    let before = large_allocations();
    drop(x.matmul(&w));
    large_allocations() - before
}

fn steady_state(optimizer: &mut dyn Optimizer<f32>) {
    let packing = packing_allocations();
    let mut mlp = Mlp::<f32>::new(&[784, 128, 10], Activation::Relu, 5);
    let mut tape = TensorTape::new();
    let batch = batch();
    let first = train(&mut mlp, optimizer, &mut tape, &batch, 2);
    let (large, live) = (large_allocations(), live_bytes());
    let steps = 1000;
    let last = train(&mut mlp, optimizer, &mut tape, &batch, steps);
    // The loop does learn (so its arrays are the real ones), ...
    assert!(last < 0.5 * first, "loss {first} -> {last}");
    // ... takes every large array buffer from the pool (the only large
    // allocation left is the matrix kernel's packing buffer in the first
    // layer's forward product, one per step), ...
    assert_eq!(
        large_allocations() - large,
        steps * packing,
        "large allocations after the warm-up"
    );
    // ... and holds no more memory than before (the pool included).
    let growth = live_bytes() - live;
    assert!(growth <= 4096, "{growth} more bytes held after {steps} steps");
}

#[test]
fn sgd_training_maps_no_new_memory_after_warm_up() {
    steady_state(&mut Sgd::new(0.05, 0.9));
}

#[test]
fn adam_training_maps_no_new_memory_after_warm_up() {
    steady_state(&mut Adam::new(1e-3));
}

#[test]
fn the_counter_sees_large_allocations() {
    // Without the pool the same sizes are fresh allocations: the counter is live.
    chainrule::tensor::release_pooled_memory();
    let before = large_allocations();
    drop(Array::<f32>::zeros(vec![784, 128]));
    chainrule::tensor::release_pooled_memory();
    drop(Array::<f32>::zeros(vec![784, 128]));
    assert_eq!(large_allocations() - before, 2);
}

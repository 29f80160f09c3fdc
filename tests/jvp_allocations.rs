//! A loop of Jacobian-vector products through `JvpBuffers` allocates
//! nothing after its first pass: counted by a global allocator.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use chainrule::{Dual, JvpBuffers};
use num_traits::Float;

struct Counting;

thread_local! {
    static ALLOCATIONS: Cell<usize> = const { Cell::new(0) };
}

// SAFETY: every call is forwarded unchanged to the system allocator; the
// counter is a const-initialized thread-local, which itself never allocates.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.with(|count| count.set(count.get() + 1));
        // SAFETY: the caller's contract for `alloc` is passed on unchanged.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from `System.alloc` with this `layout`.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn allocations() -> usize {
    ALLOCATIONS.with(Cell::get)
}

fn rosenbrock(x: &[Dual<f64>], out: &mut [Dual<f64>]) {
    let mut sum = Dual::constant(0.0);
    for w in x.windows(2) {
        let a = w[1] - w[0] * w[0];
        let b = 1.0 - w[0];
        sum += 100.0 * a * a + b * b;
    }
    out[0] = sum;
    out[1] = x[0].sin();
}

#[test]
fn a_loop_of_products_allocates_only_on_its_first_pass() {
    let x: Vec<f64> = (0..200).map(|i| (i as f64 * 0.37).cos()).collect();
    let directions: Vec<Vec<f64>> = (0..20)
        .map(|k| (0..200).map(|i| ((i * k) as f64).sin()).collect())
        .collect();
    let mut buffers = JvpBuffers::new();
    let (mut values, mut tangents) = ([0.0; 2], [0.0; 2]);
    buffers
        .jvp_into(rosenbrock, &x, &directions[0], &mut values, &mut tangents)
        .unwrap();
    let before = allocations();
    let mut checksum = 0.0;
    for v in &directions {
        buffers.jvp_into(rosenbrock, &x, v, &mut values, &mut tangents).unwrap();
        checksum += tangents[0];
        buffers.tangents_into(rosenbrock, &x, v, &mut tangents).unwrap();
        checksum += tangents[1];
    }
    assert_eq!(allocations() - before, 0, "the loop allocated");
    assert!(checksum.is_finite());
    // The same products by the allocating form do allocate: the count is live.
    let _ = chainrule::jvp(|d| vec![d[0] * d[1]], &x[..2], &directions[1][..2]).unwrap();
    assert!(allocations() > before);
}

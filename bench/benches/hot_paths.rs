//! Micro-benchmarks of the library's hot paths, to catch regressions while
//! developing: recording operations, a backward sweep, dual arithmetic.
//! Run: `cd bench && cargo bench --bench hot_paths`. The side-by-side
//! comparison with other libraries is `bench/run`.

use std::hint::black_box;

use chainrule::{Dual, DualN, Recording, Var};
use criterion::{Criterion, criterion_group, criterion_main};
use num_traits::Float;

const OPS: usize = 10_000;

/// OPS operations alternating binary and unary, on one recording.
fn chain<T: Float>(x: T, y: T) -> T {
    let mut acc = x;
    for _ in 0..OPS / 2 {
        acc = (acc * y).sin();
    }
    acc
}

fn record(c: &mut Criterion) {
    c.bench_function("record 10k ops (5k mul + 5k sin)", |b| {
        b.iter(|| {
            let rec = Recording::<f64>::new();
            let x = rec.input(0.3);
            let y = rec.input(0.9);
            black_box(chain(x, y).value())
        })
    });
}

fn sweep(c: &mut Criterion) {
    let rec = Recording::<f64>::new();
    let x = rec.input(0.3);
    let y = rec.input(0.9);
    let out: Var<f64> = chain(x, y);
    c.bench_function("backward sweep over 10k ops", |b| {
        b.iter(|| black_box(rec.gradient(out).unwrap()))
    });
    c.bench_function("forward sweep over 10k ops", |b| {
        b.iter(|| black_box(rec.jvp(&[1.0, 0.0], &[out]).unwrap()))
    });
}

fn duals(c: &mut Criterion) {
    c.bench_function("Dual<f64>: 10k ops", |b| {
        b.iter(|| black_box(chain(Dual::variable(black_box(0.3)), Dual::constant(0.9)).tangent))
    });
    c.bench_function("DualN<f64, 8>: 10k ops", |b| {
        b.iter(|| black_box(chain(DualN::<f64, 8>::variable(black_box(0.3), 0), DualN::variable(0.9, 1)).tangents()[7]))
    });
}

criterion_group!(benches, record, sweep, duals);
criterion_main!(benches);

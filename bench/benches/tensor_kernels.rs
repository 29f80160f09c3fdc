//! Micro-benchmarks of the tensor tape, one group per kernel family, each
//! timing an operation's value and its backward sweep together (what a
//! training step pays): elementwise unary operations, two-argument
//! operations in each broadcast form, reductions, and matrix products with
//! and without transposed operands. For catching regressions while
//! developing: `cd bench && cargo bench --bench tensor_kernels`.

use std::hint::black_box;

use chainrule::rules::{Binary, Unary};
use chainrule::tensor::{Array, Tensor, TensorTape};
use criterion::{Criterion, criterion_group, criterion_main};

const ROWS: usize = 1000;
const COLS: usize = 100;

fn filled(shape: Vec<usize>, seed: f64) -> Array<f64> {
    let len = shape.iter().product::<usize>();
    Array::new(shape, (0..len).map(|i| 0.5 + 0.4 * (i as f64 * seed).sin()).collect()).unwrap()
}

/// The value of `op` on fresh inputs and the gradient of its sum.
fn value_and_backward(inputs: &[&Array<f64>], op: impl for<'t> Fn(&[Tensor<'t, f64>]) -> Tensor<'t, f64>) -> f64 {
    let tape = TensorTape::new();
    let tensors: Vec<Tensor<'_, f64>> = inputs.iter().map(|&a| tape.input(a.clone())).collect();
    let loss = op(&tensors).sum();
    let mut grads = tape.backward(&loss).unwrap();
    grads.take(&tensors[0]).data()[0] + loss.value().data()[0]
}

fn unary(c: &mut Criterion) {
    let x = filled(vec![ROWS, COLS], 0.37);
    let mut group = c.benchmark_group("unary 1000x100");
    for op in [Unary::Exp, Unary::Tanh, Unary::Relu, Unary::Sigmoid] {
        group.bench_function(format!("{op:?}"), |b| {
            b.iter(|| black_box(value_and_backward(&[&x], |t| t[0].unary(op))))
        });
    }
    group.finish();
}

fn binary(c: &mut Criterion) {
    let a = filled(vec![ROWS, COLS], 0.37);
    let same = filled(vec![ROWS, COLS], 0.11);
    let row = filled(vec![COLS], 0.23);
    let column = filled(vec![ROWS, 1], 0.19);
    let number = filled(vec![], 0.5);
    let mut group = c.benchmark_group("binary 1000x100");
    for (form, other) in [
        ("equal shapes", &same),
        ("row [100]", &row),
        ("column [1000, 1]", &column),
        ("number", &number),
    ] {
        for op in [Binary::Add, Binary::Mul, Binary::Div] {
            group.bench_function(format!("{op:?} {form}"), |b| {
                b.iter(|| black_box(value_and_backward(&[&a, other], |t| t[0].binary(op, &t[1]).unwrap())))
            });
        }
    }
    group.finish();
}

fn reductions(c: &mut Criterion) {
    let x = filled(vec![ROWS, COLS], 0.37);
    let mut group = c.benchmark_group("reduction 1000x100");
    group.bench_function("sum", |b| b.iter(|| black_box(value_and_backward(&[&x], |t| t[0]))));
    for axis in [0, 1] {
        group.bench_function(format!("sum_axis {axis}"), |b| {
            b.iter(|| black_box(value_and_backward(&[&x], |t| t[0].sum_axis(axis).unwrap())))
        });
        group.bench_function(format!("max_axis {axis}"), |b| {
            b.iter(|| black_box(value_and_backward(&[&x], |t| t[0].max_axis(axis).unwrap())))
        });
    }
    group.finish();
}

fn matmul(c: &mut Criterion) {
    let a = filled(vec![256, 256], 0.37);
    let b_matrix = filled(vec![256, 256], 0.11);
    let mut group = c.benchmark_group("matmul 256x256");
    group.bench_function("value and both adjoints", |b| {
        b.iter(|| black_box(value_and_backward(&[&a, &b_matrix], |t| t[0].matmul(&t[1]).unwrap())))
    });
    for (transpose_a, transpose_b) in [(false, false), (true, false), (false, true)] {
        group.bench_function(format!("array product, transposed {transpose_a} {transpose_b}"), |b| {
            b.iter(|| black_box(a.matmul_transposed(transpose_a, &b_matrix, transpose_b).unwrap().data()[0]))
        });
    }
    group.finish();
}

criterion_group!(benches, unary, binary, reductions, matmul);
criterion_main!(benches);

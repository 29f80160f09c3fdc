//! The peers, each called through its own recommended API.

use nalgebra::{Const, DVector, SVector, U1};
use num_dual::{Derivative, Dual2DVec64, DualVec};

use crate::functions::*;

// --- echidna ---------------------------------------------------------------

/// The values and row-major Jacobian of `dense_map` by echidna's `jacobian`.
pub fn echidna_jacobian(x: &[f64], outputs: usize) -> (Vec<f64>, Vec<f64>) {
    let (values, rows) = echidna::jacobian(|d: &[echidna::Dual<f64>]| dense_map(d, outputs), x);
    (values, rows.concat())
}

/// Value, gradient and row-major Hessian by echidna's batched
/// forward-over-reverse (8 directions).
pub fn echidna_hessian(x: &[f64], dense: bool) -> (f64, Vec<f64>, Vec<f64>) {
    let (value, gradient, rows) = if dense {
        echidna::hessian_vec::<f64, 8>(dense_hessian_fn, x)
    } else {
        echidna::hessian_vec::<f64, 8>(rosenbrock, x)
    };
    (value, gradient, rows.concat())
}

/// echidna's bytecode tape, recorded once.
pub fn echidna_record(x: &[f64], stencil: bool) -> echidna::BytecodeTape<f64> {
    if stencil {
        echidna::record(stencil_energy, x).0
    } else {
        echidna::record(rosenbrock, x).0
    }
}

/// The value and gradient at `x` from echidna's bytecode tape: one forward
/// and one reverse sweep, the value read from the forward sweep's output.
pub fn echidna_value_and_gradient(tape: &mut echidna::BytecodeTape<f64>, x: &[f64]) -> (f64, Vec<f64>) {
    let gradient = tape.gradient(x);
    (tape.output_value(), gradient)
}

/// Value, gradient and sparse Hessian (as (row, column, value) triples, as
/// echidna reports them) from echidna's bytecode tape, 8 colours per sweep.
pub fn echidna_sparse_hessian(
    tape: &echidna::BytecodeTape<f64>,
    x: &[f64],
) -> (f64, Vec<f64>, Vec<(usize, usize, f64)>) {
    let (value, gradient, pattern, values) = tape.sparse_hessian_vec::<8>(x);
    let entries = pattern
        .rows
        .iter()
        .zip(&pattern.cols)
        .zip(values)
        .map(|((&r, &c), v)| (r as usize, c as usize, v))
        .collect();
    (value, gradient, entries)
}

// --- num-dual ----------------------------------------------------------------

/// The values and row-major Jacobian of `dense_map` by `N`-direction
/// forward passes (the values from the first pass).
pub fn num_dual_jacobian_chunked<const N: usize>(x: &[f64], outputs: usize) -> (Vec<f64>, Vec<f64>) {
    let n = x.len();
    let mut jacobian = vec![0.0; outputs * n];
    let mut values = vec![0.0; outputs];
    let mut inputs: Vec<DualVec<f64, Const<N>>> = x.iter().map(|&v| DualVec::from_re(v)).collect();
    for start in (0..n).step_by(N) {
        let end = (start + N).min(n);
        for j in start..end {
            inputs[j] = DualVec::new(x[j], Derivative::derivative_generic(Const::<N>, U1, j - start));
        }
        for (i, y) in dense_map_num_dual(&inputs, outputs).into_iter().enumerate() {
            if start == 0 {
                values[i] = y.re;
            }
            let eps: SVector<f64, N> = y.eps.unwrap_generic(Const::<N>, U1);
            jacobian[i * n + start..i * n + end].copy_from_slice(&eps.as_slice()[..end - start]);
        }
        for j in start..end {
            inputs[j] = DualVec::from_re(x[j]);
        }
    }
    (values, jacobian)
}

/// Row-major Hessian by num-dual's `hessian` with dynamically sized
/// second-order duals (a static size of 100 would not fit on the stack).
pub fn num_dual_hessian(x: &[f64], dense: bool) -> (f64, Vec<f64>, Vec<f64>) {
    let point = DVector::from_column_slice(x);
    let (value, gradient, h) = if dense {
        num_dual::hessian(
            |v: DVector<Dual2DVec64>| dense_hessian_fn_num_dual(v.as_slice()),
            &point,
        )
    } else {
        num_dual::hessian(|v: DVector<Dual2DVec64>| rosenbrock_num_dual(v.as_slice()), &point)
    };
    // nalgebra stores column-major; the Hessian is symmetric up to rounding,
    // so transpose to compare entry by entry.
    (value, gradient.as_slice().to_vec(), h.transpose().as_slice().to_vec())
}

// --- ad_trait ----------------------------------------------------------------

#[derive(Clone)]
struct AdTraitRosenbrock {
    n: usize,
}

impl<T: ad_trait::AD> ad_trait::differentiable_function::DifferentiableFunctionTrait<T> for AdTraitRosenbrock {
    const NAME: &'static str = "Rosenbrock";

    fn call(&self, inputs: &[T], _freeze: bool) -> Vec<T> {
        let hundred = T::constant(100.0);
        let one = T::constant(1.0);
        let mut acc = T::constant(0.0);
        for w in inputs.windows(2) {
            let a = w[1] - w[0] * w[0];
            let b = one - w[0];
            acc = acc + hundred * a * a + b * b;
        }
        vec![acc]
    }

    fn num_inputs(&self) -> usize {
        self.n
    }

    fn num_outputs(&self) -> usize {
        1
    }
}

pub fn ad_trait_value_and_grad(x: &[f64]) -> (f64, Vec<f64>) {
    use ad_trait::differentiable_function::ReverseAD;
    use ad_trait::function_engine::FunctionEngine;
    let f = AdTraitRosenbrock { n: x.len() };
    let engine = FunctionEngine::new(f.clone(), f, ReverseAD::new());
    let (value, derivative) = engine.derivative(x);
    (value[0], derivative.row(0).iter().copied().collect())
}

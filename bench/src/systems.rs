//! Every system of the scalar workloads (W1, W3) behind one signature, so
//! that all are measured alike: each entry point is `#[inline(never)]`,
//! takes its input through `black_box` (done by the caller) and returns the
//! value **and** the derivative in an [`Output`], which the caller checks
//! against the references and hands to `black_box`. A system that skipped
//! the value would fail the check, so no compiler can delete the value
//! chain of one system and not of another (see `tests` below).

use nalgebra::{Const, SVector, U1};
use num_dual::{Derivative, Dual64, DualVec};
use num_traits::ToPrimitive;

use crate::functions::*;

/// What a system returns: the function's value and its derivative (the
/// gradient, or the directional derivative as one entry).
#[derive(Debug)]
pub struct Output {
    pub value: f64,
    pub derivative: Vec<f64>,
}

/// A gradient system: `x` to the value and gradient.
pub type GradientSystem = (&'static str, fn(&[f64]) -> Output);
/// A directional-derivative system: `x` and `v` to the value and `∇f·v`.
pub type JvpSystem = (&'static str, fn(&[f64], &[f64]) -> Output);

/// W1: reverse-mode gradients and the hand-written floors.
pub const W1: &[GradientSystem] = &[
    ("chainrule-reverse", chainrule_reverse),
    ("echidna-reverse", echidna_reverse),
    ("ad_trait-reverse", ad_trait_reverse),
    ("floor-adjoint-accumulating", floor_adjoint_accumulating),
    ("floor-adjoint-gathering", floor_adjoint_gathering),
];

/// Forward-mode gradients, 8 directions per pass (W1 up to n = 10⁴).
pub const W1_FORWARD: &[GradientSystem] = &[
    ("num-dual-chunk8", num_dual_chunked::<8>),
    ("chainrule-jacfwd8", chainrule_chunked::<8>),
];

/// W3 forward gradients by chunk size.
pub const W3_CHUNKED: &[GradientSystem] = &[
    ("chainrule-chunk4", chainrule_chunked::<4>),
    ("num-dual-chunk4", num_dual_chunked::<4>),
    ("chainrule-chunk8", chainrule_chunked::<8>),
    ("num-dual-chunk8", num_dual_chunked::<8>),
    ("chainrule-chunk16", chainrule_chunked::<16>),
    ("num-dual-chunk16", num_dual_chunked::<16>),
];

/// W3 directional derivatives.
pub const W3_JVP: &[JvpSystem] = &[
    ("chainrule-jvp", chainrule_jvp),
    ("chainrule-jvp-buffers", chainrule_jvp_buffers),
    ("num-dual-jvp", num_dual_jvp),
    ("echidna-jvp", echidna_jvp),
];

/// The plain function, the floor every gradient is compared with.
#[inline(never)]
pub fn floor_f64(x: &[f64]) -> f64 {
    rosenbrock(x)
}

#[inline(never)]
fn chainrule_reverse(x: &[f64]) -> Output {
    let (value, derivative) = chainrule::value_and_grad(rosenbrock, x).unwrap();
    Output { value, derivative }
}

#[inline(never)]
fn echidna_reverse(x: &[f64]) -> Output {
    // echidna's `grad` returns the gradient; the value is read off the
    // output variable it records.
    let mut value = f64::NAN;
    let derivative = echidna::grad(
        |v: &[echidna::Reverse<f64>]| {
            let y = rosenbrock(v);
            value = y.to_f64().unwrap_or(f64::NAN);
            y
        },
        x,
    );
    Output { value, derivative }
}

#[inline(never)]
fn ad_trait_reverse(x: &[f64]) -> Output {
    let (value, derivative) = crate::peers::ad_trait_value_and_grad(x);
    Output { value, derivative }
}

/// The hand-written adjoint, accumulating into `g[i]` and `g[i + 1]` per term.
#[inline(never)]
fn floor_adjoint_accumulating(x: &[f64]) -> Output {
    let mut derivative = vec![0.0; x.len()];
    let value = rosenbrock_adjoint(x, &mut derivative);
    Output { value, derivative }
}

/// The hand-written adjoint with each `g[i]` written once from the two
/// terms that contain `x[i]`: no store-to-load dependence between
/// iterations, so the compiler vectorizes it.
#[inline(never)]
fn floor_adjoint_gathering(x: &[f64]) -> Output {
    let mut derivative = vec![0.0; x.len()];
    let value = rosenbrock_adjoint_gathering(x, &mut derivative);
    Output { value, derivative }
}

#[inline(never)]
fn chainrule_chunked<const N: usize>(x: &[f64]) -> Output {
    let (values, jacobian) = chainrule::api::value_and_jacfwd::<f64, N>(|v| vec![rosenbrock(v)], x).unwrap();
    Output {
        value: values[0],
        derivative: jacobian.row(0).to_vec(),
    }
}

/// Gradient by forward mode, `N` directions per pass (num-dual's `DualVec`);
/// the value is the first pass's.
#[inline(never)]
fn num_dual_chunked<const N: usize>(x: &[f64]) -> Output {
    let n = x.len();
    let mut derivative = vec![0.0; n];
    let mut value = f64::NAN;
    let mut inputs: Vec<DualVec<f64, Const<N>>> = x.iter().map(|&v| DualVec::from_re(v)).collect();
    for start in (0..n).step_by(N) {
        let end = (start + N).min(n);
        for j in start..end {
            inputs[j] = DualVec::new(x[j], Derivative::derivative_generic(Const::<N>, U1, j - start));
        }
        let y = rosenbrock_num_dual(&inputs);
        if start == 0 {
            value = y.re;
        }
        let eps: SVector<f64, N> = y.eps.unwrap_generic(Const::<N>, U1);
        derivative[start..end].copy_from_slice(&eps.as_slice()[..end - start]);
        for j in start..end {
            inputs[j] = DualVec::from_re(x[j]);
        }
    }
    Output { value, derivative }
}

#[inline(never)]
fn chainrule_jvp(x: &[f64], v: &[f64]) -> Output {
    let (values, tangents) = chainrule::jvp(|d| vec![rosenbrock(d)], x, v).unwrap();
    Output {
        value: values[0],
        derivative: tangents,
    }
}

/// The same product through reused buffers: no allocation but the result's.
#[inline(never)]
fn chainrule_jvp_buffers(x: &[f64], v: &[f64]) -> Output {
    thread_local! {
        static BUFFERS: std::cell::RefCell<chainrule::JvpBuffers<f64>> =
            std::cell::RefCell::new(chainrule::JvpBuffers::new());
    }
    let (mut value, mut tangent) = ([0.0], [0.0]);
    BUFFERS.with_borrow_mut(|buffers| {
        buffers
            .jvp_into(|d, out| out[0] = rosenbrock(d), x, v, &mut value, &mut tangent)
            .unwrap()
    });
    Output {
        value: value[0],
        derivative: tangent.to_vec(),
    }
}

#[inline(never)]
fn num_dual_jvp(x: &[f64], v: &[f64]) -> Output {
    let inputs: Vec<Dual64> = x.iter().zip(v).map(|(&x, &v)| Dual64::new(x, v)).collect();
    let y = rosenbrock_num_dual(&inputs);
    Output {
        value: y.re,
        derivative: vec![y.eps],
    }
}

#[inline(never)]
fn echidna_jvp(x: &[f64], v: &[f64]) -> Output {
    let (values, tangents) = echidna::jvp(|d: &[echidna::Dual<f64>]| vec![rosenbrock(d)], x, v);
    Output {
        value: values[0],
        derivative: tangents,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every system returns the value as well as the derivative, both
    /// right: a system whose value were dropped (and so its value chain
    /// left for the compiler to delete) fails here.
    #[test]
    fn every_system_returns_its_value_and_derivative() {
        let x = point(37);
        let v: Vec<f64> = (0..x.len()).map(|i| (i % 5) as f64 - 2.0).collect();
        let value = rosenbrock(&x);
        let mut gradient = vec![0.0; x.len()];
        rosenbrock_adjoint(&x, &mut gradient);
        let directional: f64 = gradient.iter().zip(&v).map(|(g, v)| g * v).sum();
        let close = |a: f64, b: f64| (a - b).abs() <= 1e-12 * b.abs().max(1.0);
        for (name, system) in W1.iter().chain(W1_FORWARD).chain(W3_CHUNKED) {
            let out = system(&x);
            assert!(close(out.value, value), "{name}: value {} against {value}", out.value);
            assert_eq!(out.derivative.len(), x.len(), "{name}");
            for (a, b) in out.derivative.iter().zip(&gradient) {
                assert!(close(*a, *b), "{name}: gradient {a} against {b}");
            }
        }
        for (name, system) in W3_JVP {
            let out = system(&x, &v);
            assert!(close(out.value, value), "{name}: value {} against {value}", out.value);
            assert!(close(out.derivative[0], directional), "{name}: jvp");
        }
    }
}

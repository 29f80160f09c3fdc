//! `stop_gradient` and `Tensor::detach`: values pass unchanged, derivatives
//! are zero through them in every mode and at every order.

use chainrule::program::record;
use chainrule::rules::Unary;
use chainrule::tensor::{Array, TensorTape};
use chainrule::{
    Dual, DualN, Real, derivative, grad, hessian, hvp, jacfwd, jacrev, jvp, stop_gradient, value_and_grad, vjp,
};
use num_traits::Float;

/// f(x, y) = x·sin(stop(y)) + stop(x·y)²: the stopped parts are constants,
/// so ∂f/∂x = sin y, ∂f/∂y = 0, and the Hessian is zero.
fn f<T: Real>(v: &[T]) -> T {
    let (x, y) = (v[0], v[1]);
    x * stop_gradient(y).sin() + stop_gradient(x * y).powi(2)
}

fn f_value(x: f64, y: f64) -> f64 {
    x * y.sin() + (x * y).powi(2)
}

const POINT: [f64; 2] = [0.7, -1.3];

#[test]
fn values_are_unchanged_bit_for_bit() {
    for x in [
        0.0,
        -0.0,
        1.5,
        -2.25e-300,
        f64::INFINITY,
        f64::NAN,
        f64::MIN_POSITIVE / 4.0,
    ] {
        assert_eq!(stop_gradient(x).to_bits(), x.to_bits());
        assert_eq!(stop_gradient(x as f32).to_bits(), (x as f32).to_bits());
        assert_eq!(stop_gradient(Dual::variable(x)).value.to_bits(), x.to_bits());
    }
    let (value, _) = value_and_grad(f, &POINT).unwrap();
    assert_eq!(value.to_bits(), f_value(POINT[0], POINT[1]).to_bits());
}

#[test]
fn first_derivatives_are_zero_through_it_in_every_mode() {
    let expected = [POINT[1].sin(), 0.0];
    assert_eq!(grad(f, &POINT).unwrap(), expected);
    assert_eq!(
        jacrev(|v| vec![f(v)], &POINT).unwrap().to_rows(),
        vec![expected.to_vec()]
    );
    assert_eq!(
        jacfwd(|v| vec![f(v)], &POINT).unwrap().to_rows(),
        vec![expected.to_vec()]
    );
    assert_eq!(vjp(|v| vec![f(v)], &POINT, &[1.0]).unwrap().1, expected);
    for (k, e) in expected.iter().enumerate() {
        let mut direction = [0.0; 2];
        direction[k] = 1.0;
        assert_eq!(jvp(|v| vec![f(v)], &POINT, &direction).unwrap().1, vec![*e]);
    }
    // The scalar forward mode.
    assert_eq!(derivative(|x: Dual<f64>| x * stop_gradient(x), 3.0), 3.0);
}

#[test]
fn second_and_third_derivatives_are_zero_through_it() {
    // f's Hessian: x·sin(stop y) is linear in x, stop(..)² is constant.
    assert_eq!(
        hessian(f, &POINT).unwrap().to_rows(),
        vec![vec![0.0, 0.0], vec![0.0, 0.0]]
    );
    assert_eq!(hvp(f, &POINT, &[1.0, 1.0]).unwrap(), vec![0.0, 0.0]);
    // g(x) = sin(x)·stop(x): g''' = −cos(x)·x, with stop(x) a constant.
    let x: f64 = 0.7;
    let third = Dual::variable(Dual::variable(Dual::variable(x)));
    let g = third.sin() * stop_gradient(third);
    assert_eq!(g.tangent.tangent.tangent, -x.cos() * x);
    assert_eq!(g.tangent.tangent.value, -x.sin() * x);
    // Nested forward over forward in lanes: DualN inside Dual.
    let lanes = Dual::new(DualN::<f64, 2>::variable(x, 0), DualN::constant(1.0));
    let h = lanes.sin() * stop_gradient(lanes);
    assert_eq!(h.tangent.tangents(), &[-x.sin() * x, 0.0]);
}

#[test]
fn programs_recompute_the_value_and_keep_the_derivative_zero() {
    let program = record(f, &POINT).unwrap();
    assert!(program.to_string().contains("stop_gradient("), "{program}");
    let elsewhere = [1.9, 0.4];
    // The stopped values follow the new point; they are not frozen.
    assert_eq!(
        program.eval(&elsewhere).unwrap()[0].to_bits(),
        f_value(elsewhere[0], elsewhere[1]).to_bits()
    );
    assert_eq!(program.gradient(&elsewhere).unwrap(), vec![elsewhere[1].sin(), 0.0]);
    assert_eq!(
        program.hessian(&elsewhere).unwrap().to_rows(),
        vec![vec![0.0, 0.0], vec![0.0, 0.0]]
    );
    // No derivative flows through it, so the patterns leave it out: only
    // ∂f/∂x can be nonzero, and the Hessian has no entries at all.
    let jacobian = program.jacobian_sparsity();
    assert_eq!(jacobian.row(0), &[0]);
    assert_eq!(program.hessian_sparsity().len(), 0);
    assert_eq!(
        program
            .sparse_hessian(&elsewhere)
            .unwrap()
            .to_dense()
            .unwrap()
            .to_rows(),
        vec![vec![0.0; 2]; 2]
    );
}

#[test]
fn detached_tensors_pass_their_value_and_no_gradient() {
    let tape = TensorTape::new();
    let x = tape.input(Array::new(vec![2, 2], vec![1.0, -2.0, 3.0, 0.5]).unwrap());
    let w = tape.input(Array::new(vec![2, 2], vec![0.5, 0.25, -1.0, 2.0]).unwrap());
    // Σ tanh(x)·detach(w·x): ∂/∂x = (1 − tanh²x)·w·x, ∂/∂w = 0.
    let product = w.mul(&x).unwrap();
    let detached = product.detach();
    assert_eq!(detached.value().data(), product.value().data());
    let loss = x.unary(Unary::Tanh).mul(&detached).unwrap().sum();
    let gradients = tape.backward(&loss).unwrap();
    let xs = x.value();
    let ws = w.value();
    for i in 0..4 {
        let (xi, wi): (f64, f64) = (xs.data()[i], ws.data()[i]);
        let expected = (1.0 - xi.tanh().powi(2)) * wi * xi;
        assert!((gradients.of(&x).data()[i] - expected).abs() < 1e-15_f64);
    }
    assert_eq!(gradients.of(&w).data(), &[0.0; 4]);
}

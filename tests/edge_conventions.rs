//! The documented conventions at non-differentiable and edge points, each
//! checked in forward and in reverse mode (they must agree).

use chainrule::{Dual, Real, Recording, derivative, grad, jacfwd};
use num_traits::Float;

/// Gradient of `f: R² → R` in both modes.
fn gradients<F1, F2>(forward: F1, reverse: F2, x: [f64; 2]) -> ([f64; 2], [f64; 2])
where
    F1: Fn(&[chainrule::DualN<f64, 8>]) -> chainrule::DualN<f64, 8>,
    F2: Fn(&[chainrule::Var<f64>]) -> chainrule::Var<f64>,
{
    let j = jacfwd(|v| vec![forward(v)], &x).unwrap();
    let g = grad(reverse, &x).unwrap();
    ([j[(0, 0)], j[(0, 1)]], [g[0], g[1]])
}

macro_rules! slope_both_modes {
    ($x:expr, |$v:ident| $body:expr) => {{
        let forward = derivative(|$v: Dual<f64>| $body, $x);
        let reverse = grad(
            |xs| {
                let $v = xs[0];
                $body
            },
            &[$x],
        )
        .unwrap()[0];
        (forward, reverse)
    }};
}

macro_rules! gradient_both_modes {
    ($x:expr, |$a:ident, $b:ident| $body:expr) => {{
        gradients(
            |xs| {
                let ($a, $b) = (xs[0], xs[1]);
                $body
            },
            |xs| {
                let ($a, $b) = (xs[0], xs[1]);
                $body
            },
            $x,
        )
    }};
}

#[test]
fn abs_at_zero_has_slope_zero() {
    assert_eq!(slope_both_modes!(0.0, |x| x.abs()), (0.0, 0.0));
    assert_eq!(slope_both_modes!(-0.0, |x| x.abs()), (0.0, 0.0));
    assert_eq!(slope_both_modes!(2.0, |x| x.abs()), (1.0, 1.0));
    assert_eq!(slope_both_modes!(-2.0, |x| x.abs()), (-1.0, -1.0));
}

#[test]
fn max_and_min_split_ties_evenly() {
    assert_eq!(
        gradient_both_modes!([1.5, 1.5], |a, b| a.max(b)),
        ([0.5, 0.5], [0.5, 0.5])
    );
    assert_eq!(
        gradient_both_modes!([1.5, 1.5], |a, b| a.min(b)),
        ([0.5, 0.5], [0.5, 0.5])
    );
    assert_eq!(
        gradient_both_modes!([2.0, 1.0], |a, b| a.max(b)),
        ([1.0, 0.0], [1.0, 0.0])
    );
    assert_eq!(
        gradient_both_modes!([2.0, 1.0], |a, b| a.min(b)),
        ([0.0, 1.0], [0.0, 1.0])
    );
    // max(x, x) is x: the halves add up to slope 1.
    assert_eq!(slope_both_modes!(3.0, |x| x.max(x)), (1.0, 1.0));
}

#[test]
fn max_and_min_skip_a_nan_argument() {
    // IEEE maxNum/minNum: the number wins, and so does its derivative.
    let (forward, reverse) = gradient_both_modes!([f64::NAN, 2.0], |a, b| a.max(b));
    assert_eq!((forward, reverse), ([0.0, 1.0], [0.0, 1.0]));
    let (forward, reverse) = gradient_both_modes!([2.0, f64::NAN], |a, b| a.min(b));
    assert_eq!((forward, reverse), ([1.0, 0.0], [1.0, 0.0]));
}

#[test]
fn sqrt_and_cbrt_at_zero_have_infinite_slope() {
    assert_eq!(slope_both_modes!(0.0, |x| x.sqrt()), (f64::INFINITY, f64::INFINITY));
    assert_eq!(slope_both_modes!(0.0, |x| x.cbrt()), (f64::INFINITY, f64::INFINITY));
}

#[test]
fn powf_with_base_zero() {
    // d/dx x^c at 0: c·0^(c−1) = 0 for c > 1, 1 for c = 1, +∞ for 0 < c < 1.
    assert_eq!(slope_both_modes!(0.0, |x| x.powf(c(2.5))), (0.0, 0.0));
    assert_eq!(slope_both_modes!(0.0, |x| x.powf(c(2.0))), (0.0, 0.0));
    assert_eq!(slope_both_modes!(0.0, |x| x.powf(c(1.0))), (1.0, 1.0));
    assert_eq!(
        slope_both_modes!(0.0, |x| x.powf(c(0.5))),
        (f64::INFINITY, f64::INFINITY)
    );
    // x^0 = 1 everywhere: slope 0, also at 0 (not 0·0^−1 = NaN).
    assert_eq!(slope_both_modes!(0.0, |x| x.powf(c(0.0))), (0.0, 0.0));
    assert_eq!(slope_both_modes!(0.0, |x| x.powi(0)), (0.0, 0.0));
    assert_eq!(slope_both_modes!(0.0, |x| x.powi(2)), (0.0, 0.0));
    // Both base and exponent differentiated at (0, 2): ∂/∂b = 0^2·ln 0 → 0, not NaN.
    let (forward, reverse) = gradient_both_modes!([0.0, 2.0], |a, b| a.powf(b));
    assert_eq!((forward, reverse), ([0.0, 0.0], [0.0, 0.0]));
}

#[test]
fn powf_with_constant_exponent_and_negative_base() {
    // (−2)^3 = −8 with slope 3·4 = 12; the exponent is constant, so ln(−2)
    // (NaN) must not leak into the derivative.
    assert_eq!(slope_both_modes!(-2.0, |x| x.powf(c(3.0))), (12.0, 12.0));
}

#[test]
fn nan_propagates() {
    let (forward, reverse) = slope_both_modes!(f64::NAN, |x| x.sin() * x);
    assert!(forward.is_nan() && reverse.is_nan());
    let (forward, reverse) = slope_both_modes!(f64::NAN, |x| x.abs());
    assert!(forward.is_nan() && reverse.is_nan());
    // Domain errors give NaN values and NaN derivatives, not errors.
    let (forward, reverse) = slope_both_modes!(-1.0, |x| x.ln().sin());
    assert!(forward.is_nan() && reverse.is_nan());
}

#[test]
fn infinities_propagate() {
    assert_eq!(
        slope_both_modes!(f64::INFINITY, |x| x.exp()),
        (f64::INFINITY, f64::INFINITY)
    );
    assert_eq!(slope_both_modes!(f64::NEG_INFINITY, |x| x.exp()), (0.0, 0.0));
    assert_eq!(slope_both_modes!(f64::INFINITY, |x| x.atan()), (0.0, 0.0));
    assert_eq!(slope_both_modes!(0.0, |x| x.ln()), (f64::INFINITY, f64::INFINITY));
}

#[test]
fn strong_zero_in_the_chain_rule() {
    // 0·sqrt(x) is identically 0: slope 0 at x = 0, not 0·∞ = NaN.
    assert_eq!(slope_both_modes!(0.0, |x| x.sqrt() * 0.0), (0.0, 0.0));
}

#[test]
fn hypot_and_atan2_at_the_origin() {
    assert_eq!(
        gradient_both_modes!([0.0, 0.0], |a, b| a.hypot(b)),
        ([0.0, 0.0], [0.0, 0.0])
    );
    assert_eq!(
        gradient_both_modes!([0.0, 0.0], |a, b| a.atan2(b)),
        ([0.0, 0.0], [0.0, 0.0])
    );
}

#[test]
fn piecewise_constant_functions_have_slope_zero() {
    for x in [-1.5, -0.2, 0.0, 0.7, 3.0] {
        assert_eq!(
            slope_both_modes!(x, |v| v.floor() + v.ceil() + v.round() + v.trunc() + v.signum()),
            (0.0, 0.0)
        );
    }
}

#[test]
fn forward_and_reverse_share_one_recording() {
    // Sweeping the same recording forward and backward gives the same numbers.
    let rec = Recording::<f64>::new();
    let x = rec.inputs(&[0.3, -1.2]);
    let y = (x[0] * x[1]).tanh() + x[1].powi(3);
    let gradient = rec.gradient(y).unwrap();
    let tangents = [
        rec.jvp(&[1.0, 0.0], &[y]).unwrap()[0],
        rec.jvp(&[0.0, 1.0], &[y]).unwrap()[0],
    ];
    assert_eq!(gradient, tangents.to_vec());
}

/// A constant of whatever number type the context needs.
fn c<T: Real>(value: f64) -> T {
    T::from_f64(value).unwrap()
}

/// (slope, curvature) of `f` at `x` by forward over forward, and the
/// curvature by forward over reverse (`hessian`) and reverse over forward.
fn second_order(x: f64, f: fn(Dual<Dual<f64>>) -> Dual<Dual<f64>>) -> (f64, f64) {
    let y = f(Dual::new(Dual::new(x, 1.0), Dual::new(1.0, 0.0)));
    (y.value.tangent, y.tangent.tangent)
}

#[test]
fn singular_slopes_at_signed_zeros_take_the_right_hand_limit() {
    // sqrt, cbrt and the logarithms: at +0 and −0 alike, slope +∞, and for
    // sqrt and cbrt curvature −∞ (the limits as x → 0⁺), in every mode.
    for zero in [0.0, -0.0] {
        assert_eq!(slope_both_modes!(zero, |x| x.sqrt()), (f64::INFINITY, f64::INFINITY));
        assert_eq!(slope_both_modes!(zero, |x| x.cbrt()), (f64::INFINITY, f64::INFINITY));
        assert_eq!(slope_both_modes!(zero, |x| x.ln()), (f64::INFINITY, f64::INFINITY));
        assert_eq!(slope_both_modes!(zero, |x| x.log2()), (f64::INFINITY, f64::INFINITY));
        assert_eq!(slope_both_modes!(zero, |x| x.log10()), (f64::INFINITY, f64::INFINITY));
        assert_eq!(second_order(zero, |x| x.sqrt()), (f64::INFINITY, f64::NEG_INFINITY));
        assert_eq!(second_order(zero, |x| x.cbrt()), (f64::INFINITY, f64::NEG_INFINITY));
        let h = chainrule::hessian(|v| v[0].sqrt(), &[zero]).unwrap();
        assert_eq!(h[(0, 0)], f64::NEG_INFINITY);
        let h = chainrule::hessian(|v| v[0].cbrt(), &[zero]).unwrap();
        assert_eq!(h[(0, 0)], f64::NEG_INFINITY);
    }
    // The chain rule then gives sqrt(−x) slope −∞ at x = 0.
    assert_eq!(
        slope_both_modes!(0.0, |x| (-x).sqrt()),
        (f64::NEG_INFINITY, f64::NEG_INFINITY)
    );
    // Values keep their IEEE sign: sqrt(−0) is −0.
    assert!(derivative(|x: Dual<f64>| x, -0.0) == 1.0 && (-0.0f64).sqrt().is_sign_negative());
    // 1/x has slope −∞ from either side.
    assert_eq!(
        slope_both_modes!(-0.0, |x| x.recip()),
        (f64::NEG_INFINITY, f64::NEG_INFINITY)
    );
}

#[test]
fn integer_powers_at_the_ends_of_i32() {
    // d/dx x^n = n·x^(n−1); at n = i32::MIN, x^(n−1) is computed without
    // overflowing n − 1, and 2^(−2^31 − 1) underflows to 0: slope −0.
    for n in [i32::MIN, i32::MIN + 1, i32::MAX] {
        let (forward, reverse) = slope_both_modes!(2.0, |x| x.powi(n));
        let expected = if n > 0 { f64::INFINITY } else { -0.0 };
        assert_eq!((forward, reverse), (expected, expected), "n = {n}");
        assert_eq!(forward.is_sign_negative(), n < 0);
        let (forward, reverse) = slope_both_modes!(1.0, |x| x.powi(n));
        assert_eq!((forward, reverse), (f64::from(n), f64::from(n)));
        let (forward, reverse) = slope_both_modes!(-1.0, |x| x.powi(n));
        let expected = f64::from(n) * (-1f64).powi(n.wrapping_sub(1) & 1);
        assert_eq!((forward, reverse), (expected, expected), "n = {n}");
    }
    // Second order, where n − 2 would overflow too.
    for n in [i32::MIN, i32::MIN + 1] {
        let (_, curvature) = second_order(
            1.0,
            match n {
                i32::MIN => |x| x.powi(i32::MIN),
                _ => |x| x.powi(i32::MIN + 1),
            },
        );
        let exact = f64::from(n) * (f64::from(n) - 1.0);
        assert_eq!(curvature, exact, "n = {n}");
        let h = chainrule::hessian(|v| v[0].powi(n), &[1.0]).unwrap();
        assert_eq!(h[(0, 0)], exact, "n = {n}");
    }
}

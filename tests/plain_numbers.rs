//! Plain `f64`/`f32` literals mix with every AD number, nested ones
//! included, on either side and in compound assignments, without type
//! annotations. Each case also checks the derivative the mixed expression
//! gives against its closed form, so the literal is really a constant:
//! g(x) = 2x + x·3 − 1/x − (1 − x) + x/4 has g'(x) = 2 + 3 + 1/x² + 1 + 1/4.

use chainrule::{Dual, DualN, Recording, Var, derivative, grad, hessian};
use num_traits::Float;

fn g_prime(x: f64) -> f64 {
    2.0 + 3.0 + 1.0 / (x * x) + 1.0 + 0.25
}

#[test]
fn a_literal_on_either_side_of_a_dual_needs_no_annotation() {
    // The form that used to fail with E0282: nothing names the float type.
    let x = Dual::variable(3.0);
    let y = 2.0 * x + x * 3.0 - 1.0 / x - (1.0 - x) + x / 4.0;
    assert_eq!(y.tangent, g_prime(3.0));
    let mut z = x;
    z *= 2.0;
    z += 1.0;
    z -= 0.5;
    z /= 4.0;
    z %= 10.0;
    assert_eq!(z.value, (3.0 * 2.0 + 1.0 - 0.5) / 4.0);
    assert_eq!(z.tangent, 0.5);

    let x32 = Dual::variable(3.0f32);
    let y32 = 2.0 * x32 + x32 * 3.0 - 1.0 / x32 - (1.0 - x32) + x32 / 4.0;
    assert!((y32.tangent - g_prime(3.0) as f32).abs() < 1e-6);
}

#[test]
fn dual_n_and_var_take_literals_too() {
    let x = DualN::<f64, 4>::variable(3.0, 1);
    let y = 2.0 * x + x * 3.0 - 1.0 / x - (1.0 - x) + x / 4.0;
    assert_eq!(y.tangents()[1], g_prime(3.0));
    assert_eq!(y.tangents()[0], 0.0);
    let x32 = DualN::<f32, 2>::variable(3.0, 0);
    assert!(((2.0 * x32 * 3.0).tangents()[0] - 6.0).abs() < 1e-6);

    let rec = Recording::new();
    let x = rec.input(3.0);
    let y = 2.0 * x + x * 3.0 - 1.0 / x - (1.0 - x) + x / 4.0;
    assert_eq!(rec.gradient(y).unwrap(), vec![g_prime(3.0)]);
    let rec32 = Recording::<f32>::new();
    let x32 = rec32.input(3.0);
    let mut y32 = x32 * 2.0;
    y32 += 1.0;
    assert_eq!(rec32.gradient(y32).unwrap(), vec![2.0f32]);
}

#[test]
fn nested_numbers_take_literals_of_their_base_float() {
    // Dual<Dual<f64>>: the second derivative of g is −2/x³.
    // The base float is named once; every literal after that is plain.
    let x = Dual::new(Dual::variable(3.0_f64), Dual::constant(1.0));
    let y = 2.0 * x + x * 3.0 - 1.0 / x - (1.0 - x) + x / 4.0;
    assert_eq!(y.tangent.value, g_prime(3.0));
    assert!((y.tangent.tangent - (-2.0 / 27.0)).abs() < 1e-15);

    // Var<Dual<f64>>, Var<DualN<f64, 8>>, Dual<Var<f64>>, Var<Var<f64>>: as
    // the API's nested modes use them, with literals inside the closures.
    let g = |x: f64| 2.0 * x + x * 3.0 - 1.0 / x - (1.0 - x) + x / 4.0;
    let h = hessian(|v| 3.0 * v[0].powi(2) + v[0] * v[1] * 0.5 - 1.0 / v[1], &[1.0, 2.0]).unwrap();
    assert_eq!(h.to_rows(), vec![vec![6.0, 0.5], vec![0.5, -2.0 / 8.0]]);
    let slope = derivative(|x| 2.0 * x + x * 3.0 - 1.0 / x - (1.0 - x) + x / 4.0, 3.0);
    assert_eq!(slope, g_prime(3.0));
    assert_eq!(g(3.0), 2.0 * 3.0 + 9.0 - 1.0 / 3.0 + 2.0 + 0.75);

    let rec = Recording::<Dual<f64>>::new();
    let x = rec.input(Dual::variable(3.0));
    let y: Var<Dual<f64>> = 2.0 * x * x + x * 3.0;
    // d/dx (2x² + 3x) = 4x + 3, and its tangent along x is 4.
    let gradient = rec.gradient(y).unwrap();
    assert_eq!(gradient[0].value, 15.0);
    assert_eq!(gradient[0].tangent, 4.0);

    let outer = Recording::<Var<f64>>::new();
    let x = outer.input(Var::constant(3.0));
    let y = 0.5 * x * x - 1.0;
    assert_eq!(outer.gradient(y).unwrap()[0].value(), 3.0);

    let inner = Recording::<f64>::new();
    let v = inner.input(3.0);
    let d = Dual::new(v, Var::constant(1.0));
    let e = 2.0 * d * d + 1.0;
    // d/dx (2x² + 1) = 4x, recorded on the inner tape as a function of x.
    assert_eq!(e.tangent.value(), 12.0);
    assert_eq!(inner.gradient(e.tangent).unwrap(), vec![4.0]);

    let g = grad(|v| 2.0 * v[0] * v[1] - 1.0, &[3.0, 4.0]).unwrap();
    assert_eq!(g, vec![8.0, 6.0]);
}

/// Generic code over `Float` keeps working: a literal there still needs
/// `T::from`, since `T` may be any float.
#[test]
fn generic_code_is_unchanged() {
    fn cube<T: Float>(x: T) -> T {
        x * x * x * T::from(2.0).unwrap()
    }
    assert_eq!(derivative(cube, 2.0), 24.0);
}

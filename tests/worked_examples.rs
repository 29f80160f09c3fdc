//! Closed-form checks: the seed example, Baydin et al.'s worked example,
//! Rosenbrock's Hessian, hvp, and nested forward mode.

mod common;

use chainrule::{Dual, Recording, derivative, grad, hessian, hvp, jacfwd, jacobian, jacrev, value_and_grad};
use common::{assert_close, assert_relative};
use num_traits::Float;

fn seed<T: Float>(x: T) -> T {
    (-x * x).exp()
}

fn seed_exact(x: f64) -> f64 {
    -2.0 * x * (-x * x).exp()
}

const SEED_POINTS: [f64; 7] = [-2.5, -1.0, -0.3, 0.25, 0.7, 1.5, 3.0];

#[test]
fn seed_example_forward_matches_closed_form() {
    for x in SEED_POINTS {
        assert_relative(derivative(seed, x), seed_exact(x), 1e-14, &format!("forward f'({x})"));
    }
}

#[test]
fn seed_example_reverse_matches_closed_form() {
    for x in SEED_POINTS {
        let (value, g) = value_and_grad(|v| seed(v[0]), &[x]).unwrap();
        assert_relative(value, (-x * x).exp(), 1e-15, "value");
        assert_relative(g[0], seed_exact(x), 1e-14, &format!("reverse f'({x})"));
    }
}

#[test]
fn seed_example_at_zero_has_zero_slope() {
    // f'(0) = 0 exactly: no relative comparison possible, so compare exactly.
    assert_eq!(derivative(seed, 0.0), 0.0);
    assert_eq!(grad(|v| seed(v[0]), &[0.0]).unwrap(), vec![0.0]);
}

fn baydin<T: Float>(x: &[T]) -> T {
    x[0].ln() + x[0] * x[1] - x[1].sin()
}

#[test]
fn baydin_example_reverse() {
    // f(2, 5) = ln 2 + 10 − sin 5 = 11.652071...; ∇f = (1/x1 + x2, x1 − cos x2) = (5.5, 1.716338...)
    let (value, g) = value_and_grad(baydin, &[2.0, 5.0]).unwrap();
    assert_relative(value, 2f64.ln() + 10.0 - 5f64.sin(), 1e-15, "value");
    assert!((value - 11.652071).abs() < 1e-6);
    assert_eq!(g[0], 5.5);
    assert_relative(g[1], 2.0 - 5f64.cos(), 1e-15, "∂f/∂x2");
    assert!((g[1] - 1.716338).abs() < 1e-6);
}

#[test]
fn baydin_example_forward() {
    let j = jacfwd(|x| vec![baydin(x)], &[2.0, 5.0]).unwrap();
    assert_eq!(j[(0, 0)], 5.5);
    assert_relative(j[(0, 1)], 2.0 - 5f64.cos(), 1e-15, "∂f/∂x2");
    // and by tangent sweeps over one recording
    let rec = Recording::<f64>::new();
    let x = rec.inputs(&[2.0, 5.0]);
    let y = baydin(&x);
    assert_eq!(rec.jvp(&[1.0, 0.0], &[y]).unwrap(), vec![5.5]);
    assert_relative(
        rec.jvp(&[0.0, 1.0], &[y]).unwrap()[0],
        2.0 - 5f64.cos(),
        1e-15,
        "tangent sweep",
    );
}

fn rosenbrock<T: Float>(x: &[T]) -> T {
    let hundred = T::from(100.0).unwrap();
    x.windows(2).fold(T::zero(), |acc, w| {
        acc + hundred * (w[1] - w[0] * w[0]).powi(2) + (T::one() - w[0]).powi(2)
    })
}

/// Closed-form Hessian of the generalized Rosenbrock function
/// f = Σ 100(x_{i+1} − x_i²)² + (1 − x_i)².
fn rosenbrock_hessian(x: &[f64]) -> Vec<Vec<f64>> {
    let n = x.len();
    let mut h = vec![vec![0.0; n]; n];
    for i in 0..n - 1 {
        // ∂²/∂x_i²: 1200 x_i² − 400 x_{i+1} + 2; ∂²/∂x_i∂x_{i+1}: −400 x_i; ∂²/∂x_{i+1}²: 200
        h[i][i] += 1200.0 * x[i] * x[i] - 400.0 * x[i + 1] + 2.0;
        h[i][i + 1] += -400.0 * x[i];
        h[i + 1][i] += -400.0 * x[i];
        h[i + 1][i + 1] += 200.0;
    }
    h
}

#[test]
fn rosenbrock_hessian_matches_closed_form() {
    let x = [-1.2, 1.0, 0.5, 2.0, -0.3, 0.9];
    let h = hessian(rosenbrock, &x).unwrap();
    let exact = rosenbrock_hessian(&x);
    for i in 0..x.len() {
        for j in 0..x.len() {
            assert_close(h[(i, j)], exact[i][j], 1e-13, &format!("H[{i}][{j}]"));
        }
    }
}

#[test]
fn hvp_equals_hessian_times_vector() {
    let x = [0.3, -1.1, 2.0, 0.7, 1.4];
    let v = [1.0, -0.5, 0.25, 2.0, -1.5];
    let h = hessian(rosenbrock, &x).unwrap();
    let product = hvp(rosenbrock, &x, &v).unwrap();
    for i in 0..x.len() {
        let expected: f64 = (0..x.len()).map(|j| h[(i, j)] * v[j]).sum();
        assert_close(product[i], expected, 1e-13, &format!("(Hv)[{i}]"));
    }
}

#[test]
fn nested_forward_mode_has_no_perturbation_confusion() {
    // d/dx [ x · (d/dy (x·y))|_{y=1} ] = d/dx [x · x] = 2x = 8 at x = 4.
    // A confused implementation mixes the two ε's and returns 4 + ... ≠ 8.
    let outer = |x: Dual<f64>| {
        let inner = derivative(|y: Dual<Dual<f64>>| Dual::constant(x) * y, Dual::constant(1.0));
        x * inner
    };
    assert_eq!(derivative(outer, 4.0), 8.0);
}

#[test]
fn second_derivative_by_nesting_duals() {
    // f = exp(−x²): f'' = (4x² − 2)·exp(−x²)
    for x in SEED_POINTS {
        let second = derivative(|y: Dual<f64>| derivative(seed, y), x);
        assert_relative(second, (4.0 * x * x - 2.0) * (-x * x).exp(), 1e-14, "f''");
    }
}

#[test]
fn jacobian_of_r3_to_r2_in_all_modes() {
    fn f<T: Float>(x: &[T]) -> Vec<T> {
        vec![x[0] * x[1].sin() + x[2], (x[0] * x[2]).exp() / x[1]]
    }
    let x = [0.5, 1.3, -0.7];
    let (a, b, c) = (x[0], x[1], x[2]);
    let e = (a * c).exp();
    let exact = [[b.sin(), a * b.cos(), 1.0], [c * e / b, -e / (b * b), a * e / b]];
    for j in [jacfwd(f, &x).unwrap(), jacrev(f, &x).unwrap(), jacobian(f, &x).unwrap()] {
        assert_eq!((j.rows(), j.cols()), (2, 3));
        for r in 0..2 {
            for k in 0..3 {
                assert_close(j[(r, k)], exact[r][k], 1e-15, &format!("J[{r}][{k}]"));
            }
        }
    }
}

/// (x·y, sin x, ...): m outputs from n inputs, every output depending on all.
struct Mixing {
    outputs: usize,
}

impl chainrule::VectorFunction for Mixing {
    fn eval<T: chainrule::Real>(&self, x: &[T]) -> Vec<T> {
        (0..self.outputs)
            .map(|i| {
                let w = T::from_f64(1.0 + i as f64 * 0.1).unwrap();
                x.iter().fold(T::zero(), |acc, &v| acc + (w * v).sin())
            })
            .collect()
    }
}

#[test]
fn jacobian_of_a_generic_function_picks_the_mode_by_shape() {
    use chainrule::VectorFunction;
    for (n, m) in [(12, 12), (3, 40), (40, 3), (1, 1)] {
        let f = Mixing { outputs: m };
        let x: Vec<f64> = (0..n).map(|j| 0.1 * j as f64).collect();
        let j = chainrule::jacobian_of(&f, &x).unwrap();
        let forward = jacfwd(|v| f.eval(v), &x).unwrap();
        let reverse = jacrev(|v| f.eval(v), &x).unwrap();
        // Bit for bit the mode it chose.
        assert!(j == forward || j == reverse, "{n}×{m}");
        for i in 0..m {
            for k in 0..n {
                let exact = (1.0 + i as f64 * 0.1) * ((1.0 + i as f64 * 0.1) * x[k]).cos();
                assert_close(j[(i, k)], exact, 1e-14, "entry");
            }
        }
    }
    let g = chainrule::function!(|x| vec![x[0] * x[1] * x[2]]);
    assert_eq!(
        chainrule::jacobian_of(&g, &[1.0, 2.0, 3.0]).unwrap().row(0),
        &[6.0, 3.0, 2.0]
    );
}

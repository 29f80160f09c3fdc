//! Extending chainrule: your own elementary functions, and values that
//! derivatives must not flow through.
//!
//! 1. `LogSumExp` over any number of arguments, with its stable softmax
//!    gradient: at inputs around 1000 the composed form overflows to ∞,
//!    the custom one does not.
//! 2. The root y(x) of y³ + y = x, found by Newton's method and
//!    differentiated by the implicit function theorem, not through the
//!    iterations; its second derivative comes from the stated partial run on
//!    dual numbers.
//! 3. `stop_gradient`: a target computed from the current parameters is held
//!    constant in the loss.
//! 4. A dense linear solve `A y = b` as a custom vector function
//!    ([`VectorRule`](chainrule::VectorRule)): the backward sweep solves
//!    with `Aᵀ` once instead of replaying the elimination, so the tape holds
//!    one node per input and output instead of every elimination step.
//!
//! Run: `cargo run --release --example 06_custom_rules`

#[path = "support/linear_solve.rs"]
mod linear_solve;

use chainrule::{Dual, Elementary, Real, Recording, apply, apply_vector, derivative, grad, hessian, stop_gradient};
use linear_solve::{LinearSolve, Lu};

/// ln Σ e^xᵢ, shifted by the largest argument so nothing overflows.
#[derive(Clone)]
struct LogSumExp;

impl<const N: usize> Elementary<N> for LogSumExp {
    const NAME: &'static str = "logsumexp";
    fn value<T: Real>(&self, x: [T; N]) -> T {
        let m = x.iter().copied().fold(T::neg_infinity(), T::max);
        m + x.iter().map(|&v| (v - m).exp()).sum::<T>().ln()
    }
    fn partials<T: Real>(&self, x: [T; N]) -> [T; N] {
        // The softmax, e^(xᵢ − m) / Σ e^(xⱼ − m).
        let m = x.iter().copied().fold(T::neg_infinity(), T::max);
        let shifted = x.map(|v| (v - m).exp());
        let total: T = shifted.iter().copied().sum();
        shifted.map(|e| e / total)
    }
}

/// The real root of y³ + y = x.
#[derive(Clone)]
struct CubicRoot;

impl Elementary<1> for CubicRoot {
    const NAME: &'static str = "cubic_root";
    fn value<T: Real>(&self, [x]: [T; 1]) -> T {
        let three = T::from(3.0).unwrap();
        let mut y = x / (x.abs() + T::one()).cbrt();
        for _ in 0..60 {
            y -= (y * y * y + y - x) / (three * y * y + T::one());
        }
        y
    }
    fn partials<T: Real>(&self, [x]: [T; 1]) -> [T; 1] {
        // g(y, x) = y³ + y − x = 0  ⇒  dy/dx = −(∂g/∂x)/(∂g/∂y) = 1/(3y² + 1).
        let y = self.value([x]);
        [(T::from(3.0).unwrap() * y * y + T::one()).recip()]
    }
}

fn main() -> Result<(), chainrule::Error> {
    // 1. Log-sum-exp where the composed form overflows.
    let x = [1000.0, 1001.0, 999.0];
    let composed = x.iter().map(|v: &f64| v.exp()).sum::<f64>().ln();
    let lse = |v: &[chainrule::Var<f64>]| apply(&LogSumExp, [v[0], v[1], v[2]]);
    let g = grad(lse, &x)?;
    println!(
        "logsumexp(1000, 1001, 999) = {:.12} (composed: {composed})",
        apply(&LogSumExp, x)
    );
    println!(
        "gradient (the softmax) = [{:.6}, {:.6}, {:.6}], sum {:.15}",
        g[0],
        g[1],
        g[2],
        g.iter().sum::<f64>()
    );

    // 2. An implicit function: y³ + y = x at x = 2 has the root y = 1.
    let y = apply(&CubicRoot, [2.0]);
    let slope = derivative(|v: Dual<f64>| apply(&CubicRoot, [v]), 2.0);
    let curvature = hessian(|v| apply(&CubicRoot, [v[0]]), &[2.0])?[(0, 0)];
    println!(
        "root y(2) = {y}, y'(2) = {slope} (1/4 by the implicit function theorem), y''(2) = {curvature} (−6·y·y'³ = −3/32)"
    );

    // 3. A loss against a target computed from the parameters, held constant:
    //    L(w) = Σ (wᵢ − stop(mean w))², so ∂L/∂wᵢ = 2·(wᵢ − mean w).
    fn loss<T: Real>(w: &[T]) -> T {
        let mean = w.iter().copied().sum::<T>() / T::from(w.len()).unwrap();
        let target = stop_gradient(mean);
        w.iter().map(|&v| (v - target).powi(2)).sum()
    }
    let w = [1.0, 2.0, 6.0];
    println!("∂L/∂w with the mean held constant = {:?} (2·(w − 3))", grad(loss, &w)?);

    // 4. The gradient of Σ yᵢ² for y = A⁻¹ b, n = 100, with the solve as one
    //    custom vector function and through the hand-written LU.
    let n = 100;
    let mut x: Vec<f64> = (0..n * n)
        .map(|k| {
            if k / n == k % n {
                2.0 * n as f64
            } else {
                ((k * 7919) % 101) as f64 / 101.0
            }
        })
        .collect();
    x.extend((0..n).map(|i| 1.0 + i as f64 / n as f64));
    let squares = |y: &[chainrule::Var<f64>]| y.iter().map(|&v| v * v).sum::<chainrule::Var<f64>>();
    let (by_rule, rule_nodes) = gradient_and_nodes(&x, |v| squares(&apply_vector(&LinearSolve { n }, v)));
    let (by_lu, lu_nodes) = gradient_and_nodes(&x, |v| squares(&Lu::factor(n, &v[..n * n]).solve(&v[n * n..])));
    let difference = by_rule
        .iter()
        .zip(&by_lu)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0, f64::max);
    println!("linear solve, n = {n}: {rule_nodes} tape nodes with the rule, {lu_nodes} through the LU");
    println!("largest gradient difference between the two: {difference:.1e}");
    Ok(())
}

/// The gradient of `f` at `x` and the number of nodes its recording holds.
fn gradient_and_nodes(x: &[f64], f: impl Fn(&[chainrule::Var<f64>]) -> chainrule::Var<f64>) -> (Vec<f64>, usize) {
    let rec = Recording::<f64>::new();
    let inputs = rec.inputs(x);
    let output = f(&inputs);
    let gradient = rec.gradient(output).expect("the recording is active and complete");
    (gradient, rec.len())
}

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
//!
//! Run: `cargo run --release --example 06_custom_rules`

use chainrule::{Dual, Elementary, Real, apply, derivative, grad, hessian, stop_gradient};

/// ln Σ e^xᵢ, shifted by the largest argument so nothing overflows.
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
    Ok(())
}

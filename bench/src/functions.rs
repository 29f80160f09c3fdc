//! The benchmark functions, each written once per number trait a library
//! requires: `num_traits::Float` (chainrule, echidna), `num_dual::DualNum`
//! (num-dual), `ad_trait::AD` (ad_trait). The arithmetic is identical.

use num_traits::Float;

/// Operations recorded per Rosenbrock term (see `rosenbrock`).
pub const ROSENBROCK_OPS_PER_TERM: usize = 8;

/// Generalized Rosenbrock: Σ 100(x_{i+1} − x_i²)² + (1 − x_i)².
pub fn rosenbrock<T: Float>(x: &[T]) -> T {
    let hundred = T::from(100.0).unwrap();
    let one = T::one();
    let mut acc = T::zero();
    for w in x.windows(2) {
        let a = w[1] - w[0] * w[0];
        let b = one - w[0];
        acc = acc + hundred * a * a + b * b;
    }
    acc
}

/// The same for num-dual's number trait (its second-order types are not
/// `Copy`, hence the clones).
pub fn rosenbrock_num_dual<T: num_dual::DualNum<Primitive = f64>>(x: &[T]) -> T {
    let mut acc = T::zero();
    for w in x.windows(2) {
        let a = w[1].clone() - w[0].clone() * w[0].clone();
        let b = T::from(1.0) - w[0].clone();
        acc = acc + T::from(100.0) * a.clone() * a + b.clone() * b;
    }
    acc
}

/// Value and hand-written adjoint (the floor): one forward and one backward
/// loop, no tape.
pub fn rosenbrock_adjoint(x: &[f64], gradient: &mut [f64]) -> f64 {
    gradient.iter_mut().for_each(|g| *g = 0.0);
    let mut value = 0.0;
    for i in 0..x.len().saturating_sub(1) {
        let a = x[i + 1] - x[i] * x[i];
        let b = 1.0 - x[i];
        value += 100.0 * a * a + b * b;
        gradient[i] += -400.0 * a * x[i] - 2.0 * b;
        gradient[i + 1] += 200.0 * a;
    }
    value
}

/// The same adjoint with each `g[i]` written once, from the two terms that
/// contain `x[i]`: `∂/∂x[i]` of term `i` (as its first variable) and of term
/// `i − 1` (as its second). No iteration reads what the previous one wrote,
/// so the loop vectorizes.
pub fn rosenbrock_adjoint_gathering(x: &[f64], gradient: &mut [f64]) -> f64 {
    let n = x.len();
    if n < 2 {
        gradient.iter_mut().for_each(|g| *g = 0.0);
        return 0.0;
    }
    let mut value = 0.0;
    for w in x.windows(2) {
        let (a, b) = (w[1] - w[0] * w[0], 1.0 - w[0]);
        value += 100.0 * a * a + b * b;
    }
    // ∂/∂x[i] of term i (x[i] first) and of term i − 1 (x[i] second);
    // the ends have one of the two. The interior loop reads three
    // neighbours and writes one entry: no branch, no bounds checks.
    let as_first = |x: f64, next: f64| -400.0 * (next - x * x) * x - 2.0 * (1.0 - x);
    let as_second = |previous: f64, x: f64| 200.0 * (x - previous * previous);
    gradient[0] = as_first(x[0], x[1]);
    for (g, w) in gradient[1..n - 1].iter_mut().zip(x.windows(3)) {
        *g = as_first(w[1], w[2]) + as_second(w[0], w[1]);
    }
    gradient[n - 1] = as_second(x[n - 2], x[n - 1]);
    value
}

/// A discrete Laplacian energy on an m×m grid (n = m²): Σ (x_right − x)² +
/// Σ (x_below − x)² + Σ x⁴, whose Hessian is the 5-point stencil.
pub fn stencil_energy<T: Float>(x: &[T]) -> T {
    let m = (x.len() as f64).sqrt() as usize;
    let mut energy = T::zero();
    for i in 0..m {
        for j in 0..m {
            let here = x[i * m + j];
            if j + 1 < m {
                let d = x[i * m + j + 1] - here;
                energy = energy + d * d;
            }
            if i + 1 < m {
                let d = x[(i + 1) * m + j] - here;
                energy = energy + d * d;
            }
            let sq = here * here;
            energy = energy + sq * sq;
        }
    }
    energy
}

/// Closed-form Hessian of `rosenbrock`, row-major.
pub fn rosenbrock_hessian(x: &[f64]) -> Vec<f64> {
    let n = x.len();
    let mut h = vec![0.0; n * n];
    for i in 0..n - 1 {
        h[i * n + i] += 1200.0 * x[i] * x[i] - 400.0 * x[i + 1] + 2.0;
        h[i * n + i + 1] -= 400.0 * x[i];
        h[(i + 1) * n + i] -= 400.0 * x[i];
        h[(i + 1) * n + i + 1] += 200.0;
    }
    h
}

/// W2: a long chain mixing transcendental and arithmetic operations over a
/// few inputs; `OPS_PER_STEP` recorded operations per step.
pub fn tape_stress<T: Float>(x: &[T], steps: usize) -> T {
    let half = T::from(0.5).unwrap();
    let mut y = x[0];
    for k in 0..steps {
        let a = x[k % x.len()];
        // sin, *, exp, neg... : 6 operations
        y = (y * a).sin() + (-(y * y)).exp() * half;
    }
    y
}

/// Operations recorded per `tape_stress` step: y·a, sin, y·y, neg, exp, ·½, + = 7.
pub const TAPE_STRESS_OPS_PER_STEP: usize = 7;

/// W4: f: Rⁿ → Rᵐ with every output depending on every input:
/// f_i(x) = sin(c_i · Σ_j w_ij x_j) + Π-free quadratic term.
pub fn dense_map<T: Float>(x: &[T], outputs: usize) -> Vec<T> {
    let n = x.len();
    let sum_sq = x.iter().fold(T::zero(), |acc, &v| acc + v * v);
    (0..outputs)
        .map(|i| {
            let mut s = T::zero();
            for (j, &v) in x.iter().enumerate() {
                let w = T::from(((i * 7 + j * 3) % 11) as f64 / 11.0 - 0.5).unwrap();
                s = s + w * v;
            }
            let c = T::from(1.0 + (i % 5) as f64 / (n as f64)).unwrap();
            (c * s).sin() + sum_sq * T::from(0.01).unwrap()
        })
        .collect()
}

/// `dense_map` with its output count, as a function generic over the
/// number type (for `chainrule::jacobian_of`).
pub struct DenseMap {
    pub outputs: usize,
}

impl chainrule::VectorFunction for DenseMap {
    fn eval<T: chainrule::Real>(&self, x: &[T]) -> Vec<T> {
        dense_map(x, self.outputs)
    }
}

/// The same for num-dual.
pub fn dense_map_num_dual<T: num_dual::DualNum<Primitive = f64>>(x: &[T], outputs: usize) -> Vec<T> {
    let n = x.len();
    let sum_sq = x.iter().fold(T::zero(), |acc, v| acc + v.clone() * v.clone());
    (0..outputs)
        .map(|i| {
            let mut s = T::zero();
            for (j, v) in x.iter().enumerate() {
                let w = ((i * 7 + j * 3) % 11) as f64 / 11.0 - 0.5;
                s += v.clone() * w;
            }
            let c = 1.0 + (i % 5) as f64 / (n as f64);
            (s * c).sin() + sum_sq.clone() * 0.01
        })
        .collect()
}

/// W5: a function with a dense Hessian: log-sum-exp plus a squared sum.
pub fn dense_hessian_fn<T: Float>(x: &[T]) -> T {
    let mut lse = T::zero();
    let mut sum = T::zero();
    for (j, &v) in x.iter().enumerate() {
        let c = T::from(1.0 + (j % 3) as f64 * 0.1).unwrap();
        lse = lse + (v * c).exp();
        sum = sum + v;
    }
    lse.ln() + sum * sum * T::from(0.5).unwrap()
}

/// The gradient and row-major Hessian of [`dense_hessian_fn`] in closed
/// form: with pⱼ = cⱼ e^{cⱼxⱼ} / Σₖ e^{cₖxₖ} and S = Σ xⱼ, the gradient is
/// pⱼ + S and the Hessian δⱼₖ cⱼ pⱼ − pⱼ pₖ + 1.
pub fn dense_hessian_closed_form(x: &[f64]) -> (Vec<f64>, Vec<f64>) {
    let c = |j: usize| 1.0 + (j % 3) as f64 * 0.1;
    let exps: Vec<f64> = x.iter().enumerate().map(|(j, &v)| (v * c(j)).exp()).collect();
    let total: f64 = exps.iter().sum();
    let p: Vec<f64> = exps.iter().enumerate().map(|(j, e)| c(j) * e / total).collect();
    let sum: f64 = x.iter().sum();
    let n = x.len();
    let gradient = p.iter().map(|pj| pj + sum).collect();
    let mut hessian = vec![0.0; n * n];
    for j in 0..n {
        for k in 0..n {
            let diagonal = if j == k { c(j) * p[j] } else { 0.0 };
            hessian[j * n + k] = diagonal - p[j] * p[k] + 1.0;
        }
    }
    (gradient, hessian)
}

/// The same for num-dual.
pub fn dense_hessian_fn_num_dual<T: num_dual::DualNum<Primitive = f64>>(x: &[T]) -> T {
    let mut lse = T::zero();
    let mut sum = T::zero();
    for (j, v) in x.iter().enumerate() {
        let c = 1.0 + (j % 3) as f64 * 0.1;
        lse += (v.clone() * c).exp();
        sum += v.clone();
    }
    lse.ln() + sum.clone() * sum * 0.5
}

/// A deterministic point in a well-scaled region.
pub fn point(n: usize) -> Vec<f64> {
    (0..n).map(|i| 0.5 + 0.3 * ((i as f64) * 0.37).sin()).collect()
}

/// Largest relative difference between two vectors (scaled by max(1, |b|)).
pub fn max_relative_error(a: &[f64], b: &[f64]) -> f64 {
    assert_eq!(a.len(), b.len(), "length mismatch in correctness check");
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs() / y.abs().max(1.0))
        .fold(0.0, f64::max)
}

/// W11: one explicit Euler step (h = 10⁻³) of two coupled damped
/// pendulums (θ₁, ω₁, θ₂, ω₂); params = (g/l, damping, coupling).
pub fn coupled_pendulums<T: Float>(p: &[T], s: &[T]) -> Vec<T> {
    let h = T::from(0.001).unwrap();
    let (gl, damping, coupling) = (p[0], p[1], p[2]);
    let (t1, w1, t2, w2) = (s[0], s[1], s[2], s[3]);
    let a1 = -gl * t1.sin() - damping * w1 + coupling * (t2 - t1);
    let a2 = -gl * t2.sin() - damping * w2 + coupling * (t1 - t2);
    vec![t1 + h * w1, w1 + h * a1, t2 + h * w2, w2 + h * a2]
}

/// W11's loss: the squared norm of the final state.
pub fn energy<T: Float>(s: &[T]) -> T {
    s.iter().fold(T::zero(), |acc, &v| acc + v * v)
}

//! Record once, evaluate many: Newton's method on the Rosenbrock function in
//! 100 dimensions from the origin, where every value, gradient and sparse
//! Hessian comes from one recorded program, swept at each new point without
//! calling the function again. The Hessian is tridiagonal: a star colouring
//! finds 3 colours, so each Hessian costs one sweep on 4-lane dual numbers
//! however many inputs there are, and the Newton steps are solved by
//! conjugate gradients on its nonzeros.
//!
//! Run: `cargo run --release --example 05_program`

use chainrule::program::{SparseMatrix, record};
use num_traits::Float;

fn rosenbrock<T: Float>(x: &[T]) -> T {
    let hundred = T::from(100.0).unwrap();
    x.windows(2).fold(T::zero(), |acc, w| {
        acc + hundred * (w[1] - w[0] * w[0]).powi(2) + (T::one() - w[0]).powi(2)
    })
}

/// Solves `(H + λI)·s = b` by conjugate gradients, `H` touched only through
/// its nonzeros; `None` if a direction of non-positive curvature shows up
/// (the damping `λ` is too small there).
fn conjugate_gradients(h: &SparseMatrix<f64>, damping: f64, b: &[f64]) -> Option<Vec<f64>> {
    let n = b.len();
    let dot = |u: &[f64], v: &[f64]| u.iter().zip(v).map(|(u, v)| u * v).sum::<f64>();
    let apply = |v: &[f64]| -> Vec<f64> {
        (0..n)
            .map(|i| h.row(i).map(|(j, hij)| hij * v[j]).sum::<f64>() + damping * v[i])
            .collect()
    };
    let mut s = vec![0.0; n];
    let mut residual = b.to_vec();
    let mut direction = residual.clone();
    let mut rr = dot(&residual, &residual);
    let target = 1e-24 * rr;
    for _ in 0..10 * n {
        if rr <= target {
            break;
        }
        let hd = apply(&direction);
        let curvature = dot(&direction, &hd);
        if curvature <= 0.0 {
            return None;
        }
        let step = rr / curvature;
        for i in 0..n {
            s[i] += step * direction[i];
            residual[i] -= step * hd[i];
        }
        let next = dot(&residual, &residual);
        for i in 0..n {
            direction[i] = residual[i] + next / rr * direction[i];
        }
        rr = next;
    }
    Some(s)
}

fn main() -> Result<(), chainrule::Error> {
    let n = 100;
    let mut x: Vec<f64> = vec![0.0; n];
    // One call of `rosenbrock`, on tape variables.
    let program = record(rosenbrock, &x)?;
    let (pattern, colouring) = program.hessian_colouring();
    println!(
        "recorded {} nodes, {} guarded comparisons; the Hessian has {} nonzeros in {} colours",
        program.len(),
        program.guards().len(),
        pattern.len(),
        colouring.count
    );
    // Damped Newton (Levenberg–Marquardt): solve (H + λI)·s = −∇f, accept
    // the step if the value decreases, and make λ smaller after a success,
    // larger after a failure.
    let mut damping = 1e-3;
    for iteration in 0..1000 {
        // Value, gradient and every nonzero of the Hessian from one sweep
        // of the program on 4-lane dual numbers (3 colours).
        let (value, gradient, h) = program.value_gradient_sparse_hessian(&x)?;
        let norm = gradient.iter().map(|g| g * g).sum::<f64>().sqrt();
        if iteration % 25 == 0 || norm < 1e-9 {
            println!("iteration {iteration:>3}: f = {value:.6e}, |∇f| = {norm:.3e}, λ = {damping:.1e}");
        }
        if norm < 1e-9 {
            break;
        }
        let minus_gradient: Vec<f64> = gradient.iter().map(|g| -g).collect();
        let trial: Option<Vec<f64>> =
            conjugate_gradients(&h, damping, &minus_gradient).map(|s| x.iter().zip(&s).map(|(x, s)| x + s).collect());
        // Values at trial points come from the program too.
        match trial {
            Some(trial) if program.eval(&trial)?[0] < value => {
                x = trial;
                damping = (damping / 3.0).max(1e-12);
            }
            _ => damping *= 10.0,
        }
    }
    println!("minimum at x = ({:.12}, {:.12}, ...)", x[0], x[1]);
    Ok(())
}

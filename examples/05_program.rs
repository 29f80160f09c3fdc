//! Record once, evaluate many: Newton's method on the Rosenbrock function in
//! 20 dimensions from the origin, where every value, gradient and Hessian
//! comes from one recorded program, swept at each new point without calling
//! the function again.
//!
//! Run: `cargo run --release --example 05_program`

use chainrule::program::record;
use num_traits::Float;

fn rosenbrock<T: Float>(x: &[T]) -> T {
    let hundred = T::from(100.0).unwrap();
    x.windows(2).fold(T::zero(), |acc, w| {
        acc + hundred * (w[1] - w[0] * w[0]).powi(2) + (T::one() - w[0]).powi(2)
    })
}

/// Solves `a·s = b` by Gaussian elimination with partial pivoting; `None`
/// if `a` is singular.
fn solve(mut a: Vec<Vec<f64>>, mut b: Vec<f64>) -> Option<Vec<f64>> {
    let n = b.len();
    for col in 0..n {
        let pivot = (col..n).max_by(|&i, &j| a[i][col].abs().total_cmp(&a[j][col].abs()))?;
        if a[pivot][col] == 0.0 {
            return None;
        }
        a.swap(col, pivot);
        b.swap(col, pivot);
        let (upper, lower) = a.split_at_mut(col + 1);
        let pivot_row = &upper[col];
        for (offset, row) in lower.iter_mut().enumerate() {
            let factor = row[col] / pivot_row[col];
            for (entry, &p) in row[col..].iter_mut().zip(&pivot_row[col..]) {
                *entry -= factor * p;
            }
            b[col + 1 + offset] -= factor * b[col];
        }
    }
    let mut s = vec![0.0; n];
    for row in (0..n).rev() {
        let tail: f64 = (row + 1..n).map(|k| a[row][k] * s[k]).sum();
        s[row] = (b[row] - tail) / a[row][row];
    }
    Some(s)
}

fn main() -> Result<(), chainrule::Error> {
    let n = 20;
    let mut x: Vec<f64> = vec![0.0; n];
    // One call of `rosenbrock`, on tape variables.
    let program = record(rosenbrock, &x)?;
    println!(
        "recorded {} nodes, {} guarded comparisons",
        program.len(),
        program.guards().len()
    );
    // Damped Newton (Levenberg–Marquardt): solve (H + λI)·s = −∇f, accept
    // the step if the value decreases, and make λ smaller after a success,
    // larger after a failure.
    let mut damping = 1e-3;
    for iteration in 0..200 {
        let (value, gradient) = program.value_and_gradient(&x)?;
        let norm = gradient.iter().map(|g| g * g).sum::<f64>().sqrt();
        if iteration % 5 == 0 || norm < 1e-9 {
            println!("iteration {iteration:>3}: f = {value:.6e}, |∇f| = {norm:.3e}, λ = {damping:.1e}");
        }
        if norm < 1e-9 {
            break;
        }
        let mut h = program.hessian(&x)?.to_rows();
        for (i, row) in h.iter_mut().enumerate() {
            row[i] += damping;
        }
        let minus_gradient: Vec<f64> = gradient.iter().map(|g| -g).collect();
        let trial: Option<Vec<f64>> = solve(h, minus_gradient).map(|s| x.iter().zip(&s).map(|(x, s)| x + s).collect());
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

//! A gradient by reverse mode: Baydin et al. (JMLR 2018)'s example
//! f(x1, x2) = ln(x1) + x1·x2 − sin(x2) at (2, 5), then gradient descent on
//! the Rosenbrock function in 100 dimensions.
//!
//! Run: `cargo run --release --example 02_gradient`

use chainrule::{Recording, value_and_grad};
use num_traits::Float;

fn baydin<T: Float>(x: &[T]) -> T {
    x[0].ln() + x[0] * x[1] - x[1].sin()
}

fn rosenbrock<T: Float>(x: &[T]) -> T {
    let hundred = T::from(100.0).unwrap();
    x.windows(2).fold(T::zero(), |acc, w| {
        acc + hundred * (w[1] - w[0] * w[0]).powi(2) + (T::one() - w[0]).powi(2)
    })
}

fn main() -> Result<(), chainrule::Error> {
    let (value, gradient) = value_and_grad(baydin, &[2.0, 5.0])?;
    println!("f(2, 5) = {value:.6}, ∇f = ({:.6}, {:.6})", gradient[0], gradient[1]);

    // The same through a Recording: one tape, swept backward as often as needed.
    let rec = Recording::<f64>::new();
    let x = rec.inputs(&[2.0, 5.0]);
    let y = baydin(&x);
    println!(
        "tape: {} nodes, {} bytes; gradient {:?}",
        rec.len(),
        rec.tape_bytes(),
        rec.gradient(y)?
    );
    drop(rec);

    // Gradient descent with a backtracking line search.
    let n = 100;
    let mut x = vec![-1.0; n];
    let mut step = 1e-3;
    for iteration in 0..=20_000 {
        let (value, gradient) = value_and_grad(rosenbrock, &x)?;
        if iteration % 4_000 == 0 {
            let norm = gradient.iter().map(|g| g * g).sum::<f64>().sqrt();
            println!("iteration {iteration:>6}: f = {value:.6e}, |∇f| = {norm:.3e}");
        }
        loop {
            let trial: Vec<f64> = x.iter().zip(&gradient).map(|(x, g)| x - step * g).collect();
            if rosenbrock(&trial) < value || step < 1e-12 {
                x = trial;
                step *= 1.2;
                break;
            }
            step *= 0.5;
        }
    }
    Ok(())
}

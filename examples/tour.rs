//! A tour of chainrule in one run: a derivative, a gradient, a Jacobian in
//! both modes and a Hessian, each checked against its closed form.
//!
//! Run: `cargo run --release --example tour`

use chainrule::{derivative, hessian, jacfwd, jacrev, value_and_grad};
use num_traits::Float;

fn seed<T: Float>(x: T) -> T {
    (-x * x).exp()
}

fn baydin<T: Float>(x: &[T]) -> T {
    x[0].ln() + x[0] * x[1] - x[1].sin()
}

fn r3_to_r2<T: Float>(v: &[T]) -> Vec<T> {
    vec![v[0] * v[1].sin(), v[1] * v[2] + v[0].exp()]
}

fn rosenbrock<T: Float>(v: &[T]) -> T {
    (T::one() - v[0]).powi(2) + T::from(100.0).unwrap() * (v[1] - v[0] * v[0]).powi(2)
}

fn main() -> Result<(), chainrule::Error> {
    let x = 1.5;
    println!("1. f(x) = exp(-x²) at x = {x}");
    println!(
        "   f'(x) = {:.17}  (closed form {:.17})",
        derivative(seed, x),
        -2.0 * x * (-x * x).exp()
    );

    let (value, g) = value_and_grad(baydin, &[2.0, 5.0])?;
    println!("2. f(x1, x2) = ln(x1) + x1·x2 - sin(x2) at (2, 5)   [Baydin et al. 2018]");
    println!("   f = {value:.6}, ∇f = ({:.6}, {:.6})", g[0], g[1]);

    let p = [1.0, 2.0, 3.0];
    println!("3. Jacobian of (x·sin y, y·z + eˣ) at (1, 2, 3)");
    println!("   forward mode:\n{}", indent(&jacfwd(r3_to_r2, &p)?.to_string()));
    println!("   reverse mode:\n{}", indent(&jacrev(r3_to_r2, &p)?.to_string()));

    println!("4. Hessian of Rosenbrock (1-x)² + 100(y-x²)² at (1, 2)");
    println!("{}", indent(&hessian(rosenbrock, &[1.0, 2.0])?.to_string()));
    println!("   closed form: [[2 - 400(y - 3x²), -400x], [-400x, 200]] = [[402, -400], [-400, 200]]");
    Ok(())
}

fn indent(text: &str) -> String {
    text.lines()
        .map(|line| format!("   {line}"))
        .collect::<Vec<_>>()
        .join("\n")
}

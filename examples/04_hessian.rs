//! Hessians by forward-over-reverse: the Rosenbrock function's Hessian against
//! its closed form, and a Hessian-vector product without forming the matrix.
//!
//! Run: `cargo run --example 04_hessian`

use chainrule::{hvp, value_grad_hessian};
use num_traits::Float;

fn rosenbrock<T: Float>(v: &[T]) -> T {
    let (x, y) = (v[0], v[1]);
    (T::one() - x).powi(2) + T::from(100.0).unwrap() * (y - x * x).powi(2)
}

fn main() -> Result<(), chainrule::Error> {
    let p = [1.0, 2.0];
    let (value, gradient, h) = value_grad_hessian(rosenbrock, &p)?;
    println!("f = {value}, ∇f = {gradient:?}");
    println!("Hessian by chainrule:\n{h}");
    let (x, y) = (p[0], p[1]);
    println!(
        "closed form:\n[{}, {}]\n[{}, {}]",
        2.0 - 400.0 * (y - 3.0 * x * x),
        -400.0 * x,
        -400.0 * x,
        200.0
    );
    println!("H·(1, 1) = {:?}", hvp(rosenbrock, &p, &[1.0, 1.0])?);
    println!(
        "the same from the matrix: {:?}",
        [h[(0, 0)] + h[(0, 1)], h[(1, 0)] + h[(1, 1)]]
    );
    Ok(())
}

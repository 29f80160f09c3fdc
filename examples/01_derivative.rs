//! The derivative of f(x) = exp(−x²) by forward mode, against its closed form
//! f′(x) = −2x·exp(−x²).
//!
//! Run: `cargo run --example 01_derivative`

use chainrule::{Dual, value_and_derivative};
use num_traits::Float;

fn f<T: Float>(x: T) -> T {
    (-x * x).exp()
}

fn main() {
    println!(
        "{:>6}  {:>12}  {:>22}  {:>22}",
        "x", "f(x)", "f'(x) by chainrule", "-2x·exp(-x²)"
    );
    for x in [-2.0, -1.0, -0.5, 0.0, 0.5, 1.0, 1.5, 2.0] {
        let (value, slope) = value_and_derivative(f, x);
        let exact = -2.0 * x * (-x * x).exp();
        // At x = 0 both are −0 (IEEE keeps the sign of −2·0); adding 0 prints it as 0.
        println!(
            "{x:>6.2}  {value:>12.9}  {:>22.16e}  {:>22.16e}",
            slope + 0.0,
            exact + 0.0
        );
    }
    // What the dual number carries: the value and the tangent, side by side.
    println!("\nf on the dual number 1.5 + 1ε: {}", f(Dual::variable(1.5)));
}

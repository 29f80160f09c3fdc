//! Jacobians of f: R³ → R² in forward mode (jacfwd), reverse mode (jacrev),
//! and by shape (jacobian), with the closed form beside them.
//!
//! Run: `cargo run --example 03_jacobian`

use chainrule::{jacfwd, jacobian, jacrev};
use num_traits::Float;

/// f(x, y, z) = (x·y·z, sin(x) + y·z²)
fn f<T: Float>(v: &[T]) -> Vec<T> {
    let (x, y, z) = (v[0], v[1], v[2]);
    vec![x * y * z, x.sin() + y * z * z]
}

fn main() -> Result<(), chainrule::Error> {
    let p = [1.0, 2.0, 3.0];
    let (x, y, z) = (p[0], p[1], p[2]);
    println!("forward (one pass, 3 tangents at once):\n{}", jacfwd(f, &p)?);
    println!(
        "reverse (one recording, one backward sweep carrying both rows):\n{}",
        jacrev(f, &p)?
    );
    println!("auto (n = 3 > m = 2, so reverse):\n{}", jacobian(f, &p)?);
    println!(
        "closed form:\n[{}, {}, {}]\n[{}, {}, {}]",
        y * z,
        x * z,
        x * y,
        x.cos(),
        z * z,
        2.0 * y * z
    );
    Ok(())
}

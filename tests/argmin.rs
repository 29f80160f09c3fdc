//! argmin's L-BFGS and Newton-CG on chainrule's derivatives reach the
//! minimum of the 100-dimensional extended Rosenbrock function, as the example
//! `08_argmin` runs them.

#[path = "../examples/08_argmin.rs"]
mod example;

/// The solver reached (1, ..., 1) within 1e-8, with the cost and gradient
/// of a minimum there.
fn assert_at_minimum(o: example::Outcome) {
    let at = format!("{} after {} iterations ({})", o.solver, o.iterations, o.status);
    assert!(o.distance < 1e-8, "{at}: max |x - 1| = {:e}", o.distance);
    assert!(
        o.cost < 1e-16 && o.gradient_norm < 1e-7,
        "{at}: cost {:e}, |g| {:e}",
        o.cost,
        o.gradient_norm
    );
}

#[test]
fn lbfgs_converges_to_the_minimum() {
    assert_at_minimum(example::lbfgs(100));
}

#[test]
fn newton_cg_converges_to_the_minimum() {
    assert_at_minimum(example::newton_cg(100));
}

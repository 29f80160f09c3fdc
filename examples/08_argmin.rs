//! argmin's solvers on chainrule's derivatives: L-BFGS and Newton-CG on the
//! extended Rosenbrock function in 100 dimensions (problem 21 of Moré,
//! Garbow and Hillstrom, "Testing unconstrained optimization software", ACM
//! TOMS 7(1), 1981), from its standard start (-1.2, 1, -1.2, 1, ...), to the
//! minimum at (1, ..., 1). (The chained form, Σ over every neighbouring pair,
//! has a second, local minimum near (-1, 1, ..., 1) for n ≥ 4, which a
//! Newton method from this start may reach.)
//!
//! The objective is written once on `Var`; `Objective` records it as a
//! program and hands argmin its cost, its gradient (one reverse sweep) and,
//! for Newton-CG, its Hessian (forward-over-reverse over the same program).
//!
//! Newton-CG here is argmin's trust-region form (Steihaug's truncated
//! conjugate gradients, what SciPy calls `trust-ncg`). argmin 0.11's
//! line-search `NewtonCG` stops its inner conjugate gradients on the squared
//! residual norm, so near a minimum it takes steps little better than
//! steepest descent: on the two-dimensional Rosenbrock function with
//! hand-written derivatives it is still at cost 2·10⁻⁵ after 200 iterations.
//!
//! Run: `cargo run --release --features argmin --example 08_argmin`

use argmin::core::{Executor, State, TerminationStatus};
use argmin::solver::linesearch::MoreThuenteLineSearch;
use argmin::solver::quasinewton::LBFGS;
use argmin::solver::trustregion::{Steihaug, TrustRegion};
use chainrule::Var;
use chainrule::interop::argmin::Objective;
use num_traits::Float;

/// Σ over the pairs (x₂ⱼ, x₂ⱼ₊₁) of 100 (x₂ⱼ₊₁ - x₂ⱼ²)² + (1 - x₂ⱼ)².
pub fn rosenbrock<T: Float>(x: &[T]) -> T {
    let hundred = T::from(100.0).unwrap();
    x.chunks_exact(2)
        .map(|pair| hundred * (pair[1] - pair[0] * pair[0]).powi(2) + (T::one() - pair[0]).powi(2))
        .fold(T::zero(), |sum, term| sum + term)
}

/// The standard start: -1.2 in even places, 1 in odd ones.
pub fn start(n: usize) -> Vec<f64> {
    (0..n).map(|i| if i % 2 == 0 { -1.2 } else { 1.0 }).collect()
}

/// How a solver ended.
pub struct Outcome {
    pub solver: &'static str,
    pub iterations: u64,
    pub cost: f64,
    pub gradient_norm: f64,
    /// max |xᵢ - 1|.
    pub distance: f64,
    pub status: TerminationStatus,
}

/// Where `state` ended, measured on the objective itself.
fn outcome<S: State<Param = Vec<f64>>>(solver: &'static str, state: &S) -> Outcome {
    let best = state.get_best_param().expect("a best point");
    let (cost, gradient) = chainrule::value_and_grad(|x: &[Var<f64>]| rosenbrock(x), best).expect("gradient");
    Outcome {
        solver,
        iterations: state.get_iter(),
        cost,
        gradient_norm: gradient.iter().map(|g| g * g).sum::<f64>().sqrt(),
        distance: best.iter().map(|v| (v - 1.0).abs()).fold(0.0, f64::max),
        status: state.get_termination_status().clone(),
    }
}

/// L-BFGS (memory 7, Moré-Thuente line search) until the gradient norm is
/// below 1e-12 or the cost stops changing.
pub fn lbfgs(n: usize) -> Outcome {
    let problem = Objective::new(rosenbrock, &start(n)).expect("records");
    let solver = LBFGS::new(MoreThuenteLineSearch::new(), 7)
        .with_tolerance_grad(1e-12)
        .expect("a valid tolerance")
        .with_tolerance_cost(0.0)
        .expect("a valid tolerance");
    let result = Executor::new(problem, solver)
        .configure(|state| state.param(start(n)).max_iters(10_000))
        .run()
        .expect("L-BFGS runs");
    outcome("L-BFGS", result.state())
}

/// Newton-CG in a trust region: each step minimises the quadratic model of
/// the exact Hessian by truncated conjugate gradients (Steihaug), until the
/// cost reaches the minimum's value, 0.
pub fn newton_cg(n: usize) -> Outcome {
    let problem = Objective::new(rosenbrock, &start(n)).expect("records");
    let solver = TrustRegion::new(Steihaug::new().with_max_iters(n as u64));
    let result = Executor::new(problem, solver)
        .configure(|state| state.param(start(n)).max_iters(500).target_cost(0.0))
        .run()
        .expect("Newton-CG runs");
    outcome("Newton-CG", result.state())
}

#[allow(dead_code)] // The argmin test includes this file for its solvers.
fn main() {
    let n = 100;
    println!("Extended Rosenbrock, n = {n}, from (-1.2, 1, -1.2, 1, ...)");
    for run in [lbfgs, newton_cg] {
        let o = run(n);
        println!(
            "{:<10} iterations = {:>4}  cost = {:.3e}  |gradient| = {:.3e}  max |x - 1| = {:.3e}  ({})",
            o.solver, o.iterations, o.cost, o.gradient_norm, o.distance, o.status
        );
    }
}

//! chainrule derivatives for argmin's solvers (feature `argmin`).
//!
//! [`Objective`] turns a scalar function written on [`Var`] into an argmin
//! problem with [`CostFunction`], [`Gradient`] and [`Hessian`];
//! [`Residuals`] turns a vector function into one with [`Operator`] and
//! [`Jacobian`] for least-squares solvers. Both record the function once as
//! a [`Program`] and replay it at every point the solver asks for: no closure
//! runs again, and the gradient costs one forward and one backward loop over
//! the recorded operations. If the function branches differently at a new
//! point (a recorded comparison comes out the other way), the program is
//! recorded again there, so the derivatives are always those of the branch
//! the function takes.
//!
//! Parameters, gradients and Hessians are argmin's `Vec` forms (`Vec<f64>`,
//! `Vec<Vec<f64>>`, with argmin-math's `vec` feature).
//!
//! ```
//! use argmin::core::{Executor, State};
//! use argmin::solver::linesearch::MoreThuenteLineSearch;
//! use argmin::solver::quasinewton::LBFGS;
//! use chainrule::interop::argmin::Objective;
//! use num_traits::Float;
//!
//! // (x - 1)² + 10 (y - x²)², minimised from (-1, 2).
//! let start = vec![-1.0, 2.0];
//! let problem = Objective::new(|x| (x[0] - 1.0).powi(2) + 10.0 * (x[1] - x[0] * x[0]).powi(2), &start)?;
//! let solver = LBFGS::new(MoreThuenteLineSearch::new(), 5);
//! let result = Executor::new(problem, solver)
//!     .configure(|state| state.param(start).max_iters(100))
//!     .run()
//!     .expect("L-BFGS runs");
//! let best = result.state().get_best_param().unwrap();
//! assert!((best[0] - 1.0).abs() < 1e-6 && (best[1] - 1.0).abs() < 1e-6);
//! # Ok::<(), chainrule::Error>(())
//! ```

use std::sync::{Mutex, PoisonError};

use argmin::core::{CostFunction, Error as ArgminError, Gradient, Hessian, Jacobian, Operator};

use crate::Var;
use crate::error::{Error, Result};
use crate::program::{Program, record};

/// A program recorded from `function`, recorded again wherever the
/// function's branches differ from the recorded ones.
struct Replayed<F> {
    function: F,
    program: Mutex<Program<f64>>,
}

impl<F> Replayed<F> {
    /// Runs `sweep` on the program at `x`, recording `function` again at `x`
    /// first if the program's branches do not hold there.
    fn run<R, O>(&self, x: &[f64], sweep: impl Fn(&Program<f64>) -> Result<R>) -> Result<R>
    where
        F: Fn(&[Var<f64>]) -> O,
        O: crate::program::Outputs<f64>,
    {
        // A panic in another call cannot leave the program half-written (it
        // is replaced whole), so a poisoned lock is still usable.
        let mut program = self.program.lock().unwrap_or_else(PoisonError::into_inner);
        match sweep(&program) {
            Err(Error::BranchChanged { .. }) => {
                *program = record(&self.function, x)?;
                sweep(&program)
            }
            other => other,
        }
    }

    fn recorded(&self) -> usize {
        self.program.lock().unwrap_or_else(PoisonError::into_inner).len()
    }
}

/// A scalar objective `f: Rⁿ → R` as an argmin problem: cost, gradient
/// (reverse mode over the recorded program) and dense Hessian
/// (forward-over-reverse over the same program).
pub struct Objective<F> {
    replayed: Replayed<F>,
}

impl<F: Fn(&[Var<f64>]) -> Var<f64>> Objective<F> {
    /// Records `function` at `start` (the solver's first point is the natural
    /// choice).
    ///
    /// # Errors
    /// As [`record`]: a full tape, or an output from another recording.
    pub fn new(function: F, start: &[f64]) -> Result<Self> {
        let program = Mutex::new(record(&function, start)?);
        Ok(Objective {
            replayed: Replayed { function, program },
        })
    }

    /// The number of operations in the program now in use.
    pub fn operations(&self) -> usize {
        self.replayed.recorded()
    }
}

impl<F: Fn(&[Var<f64>]) -> Var<f64>> CostFunction for Objective<F> {
    type Param = Vec<f64>;
    type Output = f64;

    fn cost(&self, x: &Vec<f64>) -> std::result::Result<f64, ArgminError> {
        Ok(self.replayed.run(x, |p| Ok(p.eval(x)?[0]))?)
    }
}

impl<F: Fn(&[Var<f64>]) -> Var<f64>> Gradient for Objective<F> {
    type Param = Vec<f64>;
    type Gradient = Vec<f64>;

    fn gradient(&self, x: &Vec<f64>) -> std::result::Result<Vec<f64>, ArgminError> {
        Ok(self.replayed.run(x, |p| p.gradient(x))?)
    }
}

impl<F: Fn(&[Var<f64>]) -> Var<f64>> Hessian for Objective<F> {
    type Param = Vec<f64>;
    type Hessian = Vec<Vec<f64>>;

    fn hessian(&self, x: &Vec<f64>) -> std::result::Result<Vec<Vec<f64>>, ArgminError> {
        Ok(self.replayed.run(x, |p| p.hessian(x))?.to_rows())
    }
}

/// A vector function `r: Rⁿ → Rᵐ` (residuals) as an argmin problem: its
/// values ([`Operator`]) and Jacobian, for Gauss-Newton-type solvers. The
/// Jacobian takes forward or reverse sweeps, whichever needs fewer.
pub struct Residuals<F> {
    replayed: Replayed<F>,
}

impl<F: Fn(&[Var<f64>]) -> Vec<Var<f64>>> Residuals<F> {
    /// Records `function` at `start`.
    ///
    /// # Errors
    /// As [`record`].
    pub fn new(function: F, start: &[f64]) -> Result<Self> {
        let program = Mutex::new(record(&function, start)?);
        Ok(Residuals {
            replayed: Replayed { function, program },
        })
    }
}

impl<F: Fn(&[Var<f64>]) -> Vec<Var<f64>>> Operator for Residuals<F> {
    type Param = Vec<f64>;
    type Output = Vec<f64>;

    fn apply(&self, x: &Vec<f64>) -> std::result::Result<Vec<f64>, ArgminError> {
        Ok(self.replayed.run(x, |p| p.eval(x))?)
    }
}

impl<F: Fn(&[Var<f64>]) -> Vec<Var<f64>>> Jacobian for Residuals<F> {
    type Param = Vec<f64>;
    type Jacobian = Vec<Vec<f64>>;

    fn jacobian(&self, x: &Vec<f64>) -> std::result::Result<Vec<Vec<f64>>, ArgminError> {
        Ok(self.replayed.run(x, |p| p.jacobian(x))?.to_rows())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use num_traits::Float;

    /// |x|: the recorded branch (x > 0) does not hold at x < 0.
    fn abs_like(x: &[Var<f64>]) -> Var<f64> {
        if x[0] > Var::constant(0.0) {
            x[0] * x[1]
        } else {
            -x[0] * x[1].exp()
        }
    }

    #[test]
    fn a_changed_branch_is_recorded_again() {
        let objective = Objective::new(abs_like, &[2.0, 0.5]).unwrap();
        assert_eq!(objective.gradient(&vec![2.0, 0.5]).unwrap(), vec![0.5, 2.0]);
        let g = objective.gradient(&vec![-2.0, 0.5]).unwrap();
        assert_eq!(g, vec![-0.5.exp(), 2.0 * 0.5.exp()]);
        assert_eq!(objective.cost(&vec![-2.0, 0.5]).unwrap(), 2.0 * 0.5.exp());
    }

    #[test]
    fn hessian_and_jacobian_match_closed_forms() {
        // f = x0² x1 + sin x1: H = [[2 x1, 2 x0], [2 x0, -sin x1]].
        let objective = Objective::new(|x| x[0] * x[0] * x[1] + x[1].sin(), &[1.0, 1.0]).unwrap();
        let h = objective.hessian(&vec![3.0, 0.5]).unwrap();
        assert_eq!(h, vec![vec![1.0, 6.0], vec![6.0, -0.5.sin()]]);
        let residuals = Residuals::new(|x| vec![x[0] * x[1], x[0].exp(), x[1] - 2.0], &[1.0, 1.0]).unwrap();
        let j = residuals.jacobian(&vec![0.5, 4.0]).unwrap();
        assert_eq!(j, vec![vec![4.0, 0.5], vec![0.5.exp(), 0.0], vec![0.0, 1.0]]);
        assert_eq!(residuals.apply(&vec![0.5, 4.0]).unwrap(), vec![2.0, 0.5.exp(), 2.0]);
    }

    #[test]
    fn errors_reach_the_solver_with_their_message() {
        let objective = Objective::new(|x| x[0] * x[1], &[1.0, 2.0]).unwrap();
        let message = objective.cost(&vec![1.0]).unwrap_err().to_string();
        assert!(message.contains("2") && message.contains("1"), "{message}");
    }
}

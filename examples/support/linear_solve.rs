//! A dense linear solve `A y = b` as a custom vector function, and the
//! hand-written LU factorisation it runs on.
//!
//! The rule's arguments are `A` (row-major, `n²` values) followed by `b`
//! (`n` values); its value is the solution `y`. Its products never form
//! the `n × (n² + n)` Jacobian:
//!
//! - forward: `ẏ = A⁻¹ (ḃ − Ȧ y)`, one solve;
//! - reverse: `λ = A⁻ᵀ ȳ`, then `b̄ = λ` and `Ā = −λ yᵀ`, one solve with the
//!   transpose.
//!
//! Differentiating through [`Lu`] instead records every elimination step:
//! about `n³/3` multiply-adds on the tape against none.

use chainrule::Real;
use chainrule::custom::VectorRule;

/// `A = Pᵀ L U` with partial pivoting; `L` has a unit diagonal and shares
/// the storage with `U`.
pub struct Lu<T> {
    n: usize,
    factors: Vec<T>,
    /// Row `i` of `P A` is row `rows[i]` of `A`.
    rows: Vec<usize>,
}

impl<T: Real> Lu<T> {
    /// Factors the `n × n` row-major matrix `a`.
    pub fn factor(n: usize, a: &[T]) -> Self {
        assert_eq!(a.len(), n * n, "Lu::factor: the matrix must hold n² = {} values", n * n);
        let mut factors = a.to_vec();
        let mut rows: Vec<usize> = (0..n).collect();
        for k in 0..n {
            let pivot = (k..n)
                .max_by(|&i, &j| {
                    let (a, b) = (factors[i * n + k].abs(), factors[j * n + k].abs());
                    a.partial_cmp(&b).unwrap_or(std::cmp::Ordering::Equal)
                })
                .unwrap_or(k);
            if pivot != k {
                for j in 0..n {
                    factors.swap(k * n + j, pivot * n + j);
                }
                rows.swap(k, pivot);
            }
            let diagonal = factors[k * n + k];
            for i in k + 1..n {
                let multiplier = factors[i * n + k] / diagonal;
                factors[i * n + k] = multiplier;
                for j in k + 1..n {
                    let update = multiplier * factors[k * n + j];
                    factors[i * n + j] -= update;
                }
            }
        }
        Lu { n, factors, rows }
    }

    /// The solution of `A y = b`.
    pub fn solve(&self, b: &[T]) -> Vec<T> {
        let n = self.n;
        let mut y: Vec<T> = self.rows.iter().map(|&r| b[r]).collect();
        for i in 0..n {
            for j in 0..i {
                let update = self.factors[i * n + j] * y[j];
                y[i] -= update;
            }
        }
        for i in (0..n).rev() {
            for j in i + 1..n {
                let update = self.factors[i * n + j] * y[j];
                y[i] -= update;
            }
            y[i] /= self.factors[i * n + i];
        }
        y
    }

    /// The solution of `Aᵀ y = b`: `Uᵀ Lᵀ (P y) = b`.
    pub fn solve_transposed(&self, b: &[T]) -> Vec<T> {
        let n = self.n;
        let mut w = b.to_vec();
        for i in 0..n {
            for j in 0..i {
                let update = self.factors[j * n + i] * w[j];
                w[i] -= update;
            }
            w[i] /= self.factors[i * n + i];
        }
        for i in (0..n).rev() {
            for j in i + 1..n {
                let update = self.factors[j * n + i] * w[j];
                w[i] -= update;
            }
        }
        let mut y = vec![T::zero(); n];
        for (i, &r) in self.rows.iter().enumerate() {
            y[r] = w[i];
        }
        y
    }
}

/// `y = A⁻¹ b` for an `n × n` matrix, with its adjoint solve.
#[derive(Clone, Copy)]
pub struct LinearSolve {
    pub n: usize,
}

impl LinearSolve {
    /// Splits the arguments into the matrix and the right-hand side.
    fn split<'a, T>(&self, x: &'a [T]) -> (&'a [T], &'a [T]) {
        assert_eq!(
            x.len(),
            self.n * (self.n + 1),
            "LinearSolve: pass A (n² values) then b (n values)"
        );
        x.split_at(self.n * self.n)
    }
}

impl VectorRule for LinearSolve {
    const NAME: &'static str = "linear_solve";

    fn value<T: Real>(&self, x: &[T]) -> Vec<T> {
        let (a, b) = self.split(x);
        Lu::factor(self.n, a).solve(b)
    }

    fn jvp<T: Real>(&self, x: &[T], y: &[T], x_dot: &[T]) -> Vec<T> {
        let n = self.n;
        let (a, _) = self.split(x);
        let (a_dot, b_dot) = self.split(x_dot);
        // A ẏ = ḃ − Ȧ y
        let rhs: Vec<T> = (0..n)
            .map(|i| b_dot[i] - (0..n).map(|j| a_dot[i * n + j] * y[j]).sum::<T>())
            .collect();
        Lu::factor(n, a).solve(&rhs)
    }

    fn vjp<T: Real>(&self, x: &[T], y: &[T], y_bar: &[T]) -> Vec<T> {
        let n = self.n;
        let (a, _) = self.split(x);
        let lambda = Lu::factor(n, a).solve_transposed(y_bar);
        let mut adjoints = Vec::with_capacity(n * (n + 1));
        for &l in &lambda {
            adjoints.extend(y.iter().map(|&v| -l * v));
        }
        adjoints.extend(lambda);
        adjoints
    }
}

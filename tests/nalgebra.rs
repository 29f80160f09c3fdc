//! chainrule numbers through nalgebra's generic algorithms: LU, Cholesky,
//! inverses, solves and the symmetric eigen-decomposition, in forward
//! (`Dual`, `DualN`) and reverse (`Var`) mode and nested (Hessians),
//! against closed forms and finite differences.

use chainrule::{Dual, Matrix, Var, grad, hessian, jacfwd, jvp};
use nalgebra::{DMatrix, DVector, RealField};

const N: usize = 4;
const PARAMS: usize = 3;

/// A(x) = A₀ + Σ xᵢ Bᵢ: A₀ diagonally dominant, Bᵢ symmetric, so A stays
/// symmetric positive definite near the test point.
fn a0() -> DMatrix<f64> {
    DMatrix::from_fn(N, N, |i, j| {
        if i == j {
            5.0 + i as f64
        } else {
            1.0 / (1.0 + (i + j) as f64)
        }
    })
}

fn b(k: usize) -> DMatrix<f64> {
    DMatrix::from_fn(N, N, |i, j| {
        ((k + 1) as f64 * (i + 2 * j + i * j) as f64 * 0.37).sin()
            + ((k + 1) as f64 * (j + 2 * i + i * j) as f64 * 0.37).sin()
    })
}

fn rhs() -> DVector<f64> {
    DVector::from_fn(N, |i, _| 1.0 + 0.5 * i as f64)
}

/// A(x) in any scalar nalgebra accepts.
fn a_of<T: RealField + Copy>(x: &[T]) -> DMatrix<T> {
    let mut a: DMatrix<T> = nalgebra::convert(a0());
    for (k, &xk) in x.iter().enumerate() {
        let bk: DMatrix<T> = nalgebra::convert(b(k));
        a += bk * xk;
    }
    a
}

/// log det A(x) through LU.
fn log_det_lu<T: RealField + Copy>(x: &[T]) -> T {
    a_of(x).lu().determinant().ln()
}

/// log det A(x) through Cholesky: 2 Σ ln Lᵢᵢ.
fn log_det_cholesky<T: RealField + Copy>(x: &[T]) -> T {
    let l = a_of(x).cholesky().expect("A(x) is positive definite").unpack();
    l.diagonal().iter().fold(T::zero(), |sum, &d| sum + d.ln()) * nalgebra::convert::<f64, T>(2.0)
}

/// bᵀ A(x)⁻¹ b through LU's solve.
fn quadratic_solve<T: RealField + Copy>(x: &[T]) -> T {
    let b: DVector<T> = nalgebra::convert(rhs());
    let y = a_of(x).lu().solve(&b).expect("A(x) is invertible");
    b.dot(&y)
}

/// bᵀ A(x)⁻¹ b through the explicit inverse.
fn quadratic_inverse<T: RealField + Copy>(x: &[T]) -> T {
    let b: DVector<T> = nalgebra::convert(rhs());
    let inverse = a_of(x).try_inverse().expect("A(x) is invertible");
    b.dot(&(inverse * &b))
}

/// The largest eigenvalue of A(x) (symmetric).
fn top_eigenvalue<T: RealField + Copy>(x: &[T]) -> T {
    let eigen = a_of(x).symmetric_eigen();
    eigen.eigenvalues.iter().fold(T::min_value().unwrap(), |m, &v| m.max(v))
}

const X: [f64; PARAMS] = [0.3, -0.2, 0.45];

fn inverse_at(x: &[f64]) -> DMatrix<f64> {
    a_of(x).try_inverse().unwrap()
}

/// ∂ log det A / ∂xᵢ = tr(A⁻¹ Bᵢ).
fn log_det_gradient_closed() -> Vec<f64> {
    let inverse = inverse_at(&X);
    (0..PARAMS).map(|k| (&inverse * b(k)).trace()).collect()
}

/// ∂ bᵀA⁻¹b / ∂xᵢ = -(A⁻¹b)ᵀ Bᵢ (A⁻¹b).
fn quadratic_gradient_closed() -> Vec<f64> {
    let y = inverse_at(&X) * rhs();
    (0..PARAMS).map(|k| -(y.transpose() * b(k) * &y)[(0, 0)]).collect()
}

/// ∂² log det A / ∂xᵢ∂xⱼ = -tr(A⁻¹Bᵢ A⁻¹Bⱼ).
fn log_det_hessian_closed() -> Vec<Vec<f64>> {
    let inverse = inverse_at(&X);
    (0..PARAMS)
        .map(|i| {
            (0..PARAMS)
                .map(|j| -(&inverse * b(i) * &inverse * b(j)).trace())
                .collect()
        })
        .collect()
}

fn central_difference(f: impl Fn(&[f64]) -> f64) -> Vec<f64> {
    let h = 1e-6;
    (0..PARAMS)
        .map(|k| {
            let (mut up, mut down) = (X, X);
            up[k] += h;
            down[k] -= h;
            (f(&up) - f(&down)) / (2.0 * h)
        })
        .collect()
}

fn assert_close(what: &str, got: &[f64], want: &[f64], tolerance: f64) {
    assert_eq!(got.len(), want.len(), "{what}");
    for (k, (g, w)) in got.iter().zip(want).enumerate() {
        assert!((g - w).abs() <= tolerance * w.abs().max(1.0), "{what}[{k}]: {g} vs {w}");
    }
}

/// Checks the gradient of `f` against `closed` in reverse mode (`Var`),
/// forward mode one direction at a time (`Dual`) and forward mode in one
/// chunk (`DualN`), within 1e-13 relative.
fn assert_every_mode(
    what: &str,
    closed: &[f64],
    reverse: impl Fn(&[Var<f64>]) -> Var<f64>,
    forward: impl Fn(&[Dual<f64>]) -> Dual<f64>,
    chunked: impl Fn(&[Chunked]) -> Chunked,
) {
    let by_reverse = grad(reverse, &X).unwrap();
    let by_forward: Vec<f64> = (0..PARAMS)
        .map(|k| {
            let mut direction = [0.0; PARAMS];
            direction[k] = 1.0;
            jvp(|x| vec![forward(x)], &X, &direction).unwrap().1[0]
        })
        .collect();
    let by_chunk = jacfwd(|x| vec![chunked(x)], &X).unwrap().row(0).to_vec();
    for (mode, got) in [("reverse", by_reverse), ("forward", by_forward), ("chunked", by_chunk)] {
        assert_close(&format!("{what} {mode}"), &got, closed, 1e-13);
    }
}

type Chunked = chainrule::DualN<f64, { chainrule::JACFWD_CHUNK }>;

#[test]
fn log_det_gradient_through_lu_and_cholesky_in_both_modes() {
    let closed = log_det_gradient_closed();
    assert_close("finite differences", &central_difference(log_det_lu), &closed, 1e-8);
    assert_every_mode("LU", &closed, log_det_lu, log_det_lu, log_det_lu);
    assert_every_mode(
        "Cholesky",
        &closed,
        log_det_cholesky,
        log_det_cholesky,
        log_det_cholesky,
    );
}

#[test]
fn quadratic_form_gradient_through_solve_and_inverse_in_both_modes() {
    let closed = quadratic_gradient_closed();
    assert_close(
        "finite differences",
        &central_difference(quadratic_solve),
        &closed,
        1e-8,
    );
    assert_every_mode("solve", &closed, quadratic_solve, quadratic_solve, quadratic_solve);
    assert_every_mode(
        "inverse",
        &closed,
        quadratic_inverse,
        quadratic_inverse,
        quadratic_inverse,
    );
}

#[test]
fn values_are_those_of_plain_f64() {
    // AD never changes a value: the same algorithm on f64 gives the same bits.
    let plain = log_det_lu(&X);
    let (value, _) = chainrule::value_and_grad(log_det_lu, &X).unwrap();
    assert_eq!(value.to_bits(), plain.to_bits());
    let dual = log_det_cholesky(&X.map(Dual::constant));
    assert_eq!(dual.value.to_bits(), log_det_cholesky(&X).to_bits());
}

#[test]
fn log_det_hessian_through_lu_nested() {
    let h = hessian(log_det_lu, &X).unwrap();
    let closed = log_det_hessian_closed();
    for (i, row) in closed.iter().enumerate() {
        assert_close(&format!("row {i}"), h.row(i), row, 1e-12);
    }
}

#[test]
fn eigenvalue_gradient_matches_hellmann_feynman() {
    // ∂λ/∂xᵢ = vᵀ Bᵢ v for a simple eigenvalue λ with unit eigenvector v.
    let eigen = a_of(&X).symmetric_eigen();
    let top = eigen.eigenvalues.imax();
    let v = eigen.eigenvectors.column(top).into_owned();
    let closed: Vec<f64> = (0..PARAMS).map(|k| (v.transpose() * b(k) * &v)[(0, 0)]).collect();
    assert_close("finite differences", &central_difference(top_eigenvalue), &closed, 1e-7);
    assert_close("reverse", &grad(top_eigenvalue, &X).unwrap(), &closed, 1e-9);
    let forward = jacfwd(|x| vec![top_eigenvalue(x)], &X).unwrap();
    assert_close("forward", forward.row(0), &closed, 1e-9);
}

#[test]
fn numbers_over_f32_work_too() {
    let x32 = X.map(|v| v as f32);
    let g = grad(log_det_lu, &x32).unwrap();
    let closed = log_det_gradient_closed();
    for (got, want) in g.iter().zip(&closed) {
        assert!((f64::from(*got) - want).abs() < 1e-5, "{got} vs {want}");
    }
}

#[test]
fn matrices_convert_both_ways_entry_for_entry() {
    let m = Matrix::from_rows(&[vec![1.0, 2.0, 3.0], vec![4.0, 5.0, 6.0]]).unwrap();
    let d: DMatrix<f64> = m.clone().into();
    assert_eq!(d.shape(), (2, 3));
    assert_eq!(d[(1, 0)], 4.0);
    assert_eq!(d[(0, 2)], 3.0);
    assert_eq!(Matrix::from(d), m);
    let empty: DMatrix<f64> = Matrix::<f64>::zeros(0, 3).into();
    assert_eq!(empty.shape(), (0, 3));
}

#[test]
fn approx_comparisons_look_at_values() {
    use approx::{assert_relative_eq, assert_ulps_eq};
    let x = Dual::new(1.0, 5.0);
    let y = Dual::new(1.0 + 1e-15, -3.0);
    assert_relative_eq!(x, y, max_relative = Dual::constant(1e-14));
    assert_ulps_eq!(x, y, max_ulps = 8);
    assert!(!approx::relative_eq!(x, Dual::constant(1.1)));
}

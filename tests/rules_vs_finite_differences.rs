//! Every rule of the table against central finite differences, at five or
//! more points across its domain, in forward mode (Dual), reverse mode (Var)
//! and for second derivatives (forward-over-reverse Hessian and Dual<Dual>).

mod common;

use chainrule::rules::{Binary, ScaleBy, Unary};
use chainrule::{Dual, Real, derivative, grad, hessian, jacfwd};
use common::{assert_close, central_difference, fd_gradient};
use num_traits::Float;

const FIRST_TOL: f64 = 1e-7;
const SECOND_TOL: f64 = 1e-6;

fn unary_cases() -> Vec<(Unary, Vec<f64>)> {
    let anywhere = vec![-2.0, -0.7, 0.0, 0.4, 1.3, 2.5];
    let nonzero = vec![-3.0, -0.5, 0.3, 1.2, 4.0];
    let positive = vec![0.1, 0.5, 1.0, 2.5, 9.0];
    let unit = vec![-0.9, -0.3, 0.0, 0.4, 0.8];
    let away_from_jumps = vec![-1.3, -0.6, 0.2, 0.7, 2.4];
    let mut cases = vec![
        (Unary::Neg, anywhere.clone()),
        (Unary::Recip, nonzero.clone()),
        (Unary::Sqrt, positive.clone()),
        (Unary::Cbrt, vec![-8.0, -0.5, 0.2, 1.0, 27.0]),
        (Unary::Exp, anywhere.clone()),
        (Unary::Exp2, anywhere.clone()),
        (Unary::ExpM1, anywhere.clone()),
        (Unary::Ln, positive.clone()),
        (Unary::Log2, positive.clone()),
        (Unary::Log10, positive.clone()),
        (Unary::Ln1p, vec![-0.5, -0.1, 0.0, 1.0, 5.0]),
        (Unary::Sin, anywhere.clone()),
        (Unary::Cos, anywhere.clone()),
        (Unary::Tan, vec![-1.2, -0.5, 0.0, 0.7, 1.3]),
        (Unary::Asin, unit.clone()),
        (Unary::Acos, unit.clone()),
        (Unary::Atan, vec![-3.0, -0.5, 0.0, 0.7, 4.0]),
        (Unary::Sinh, anywhere.clone()),
        (Unary::Cosh, anywhere.clone()),
        (Unary::Tanh, anywhere.clone()),
        (Unary::Asinh, vec![-3.0, -0.5, 0.0, 0.7, 4.0]),
        (Unary::Acosh, vec![1.1, 1.5, 2.0, 4.0, 10.0]),
        (Unary::Atanh, unit.clone()),
        (Unary::Abs, nonzero.clone()),
        (Unary::Sigmoid, vec![-5.0, -1.0, 0.0, 1.0, 5.0]),
        (Unary::Softplus, vec![-5.0, -1.0, 0.0, 1.0, 5.0]),
        (Unary::Relu, nonzero.clone()),
        (Unary::Floor, away_from_jumps.clone()),
        (Unary::Ceil, away_from_jumps.clone()),
        (Unary::Round, away_from_jumps.clone()),
        (Unary::Trunc, away_from_jumps.clone()),
        (Unary::Fract, away_from_jumps.clone()),
        (Unary::Signum, nonzero.clone()),
        (Unary::Scale(ScaleBy::ToDegrees), anywhere.clone()),
        (Unary::Scale(ScaleBy::ToRadians), anywhere.clone()),
    ];
    for n in [-3, -1, 0, 1, 2, 5] {
        cases.push((Unary::Powi(n), vec![-2.0, -0.7, 0.4, 1.3, 2.5]));
    }
    cases
}

fn binary_cases() -> Vec<(Binary, Vec<[f64; 2]>)> {
    let anywhere = vec![[1.5, -0.5], [-2.0, 0.7], [0.3, 0.3 + 1.0], [4.0, 2.5], [-1.1, -3.2]];
    let off_axis = vec![[1.0, 2.0], [-1.0, 0.5], [0.3, -2.0], [-2.0, -1.0], [0.5, 0.5]];
    vec![
        (Binary::Add, anywhere.clone()),
        (Binary::Sub, anywhere.clone()),
        (Binary::Mul, anywhere.clone()),
        (Binary::Div, anywhere.clone()),
        (
            Binary::Rem,
            vec![[5.3, 2.0], [-5.3, 2.0], [7.1, -3.0], [1.4, 0.9], [0.3, 0.7]],
        ),
        (
            Binary::Powf,
            vec![[0.5, 2.3], [1.5, -1.2], [2.0, 3.0], [3.7, 0.5], [0.9, 0.0]],
        ),
        (
            Binary::Log,
            vec![[2.0, 3.0], [0.5, 10.0], [5.0, 0.5], [10.0, 2.0], [1.5, 4.0]],
        ),
        (Binary::Atan2, off_axis.clone()),
        (Binary::Hypot, off_axis.clone()),
        (
            Binary::Max,
            vec![[2.0, 1.0], [-1.0, 3.0], [0.5, -0.5], [-2.0, -3.0], [1e-3, 2e-3]],
        ),
        (
            Binary::Min,
            vec![[2.0, 1.0], [-1.0, 3.0], [0.5, -0.5], [-2.0, -3.0], [1e-3, 2e-3]],
        ),
    ]
}

fn apply_unary<T: Real>(op: Unary) -> impl Fn(T) -> T {
    move |x| x.apply_unary(op)
}

#[test]
fn unary_first_derivatives_both_modes() {
    for (op, points) in unary_cases() {
        assert!(points.len() >= 5, "{op:?} needs five points");
        for x in points {
            let fd = central_difference(apply_unary::<f64>(op), x);
            let forward = derivative(apply_unary(op), x);
            let reverse = grad(|v| v[0].apply_unary(op), &[x]).unwrap()[0];
            let what = format!("{}'({x})", op.name());
            assert_close(forward, fd, FIRST_TOL, &format!("forward {what}"));
            assert_close(reverse, fd, FIRST_TOL, &format!("reverse {what}"));
            // The same number (±0 compare equal: a sum of contributions starts at +0).
            assert!(
                forward == reverse,
                "{what}: forward {forward:e} and reverse {reverse:e} differ"
            );
        }
    }
}

#[test]
fn unary_second_derivatives_both_paths() {
    for (op, points) in unary_cases() {
        for x in points {
            // Finite difference of the exact first derivative.
            let fd = central_difference(|t| derivative(apply_unary(op), t), x);
            let over_reverse = hessian(|v| v[0].apply_unary(op), &[x]).unwrap()[(0, 0)];
            let nested = derivative(|y: Dual<f64>| derivative(apply_unary(op), y), x);
            let what = format!("{}''({x})", op.name());
            assert_close(over_reverse, fd, SECOND_TOL, &format!("forward-over-reverse {what}"));
            assert_close(nested, fd, SECOND_TOL, &format!("forward-over-forward {what}"));
        }
    }
}

fn apply_binary<T: Real>(op: Binary) -> impl Fn(&[T]) -> T {
    move |x| x[0].apply_binary(op, x[1])
}

#[test]
fn binary_first_derivatives_both_modes() {
    for (op, points) in binary_cases() {
        assert!(points.len() >= 5, "{op:?} needs five points");
        for p in points {
            let fd = fd_gradient(apply_binary::<f64>(op), &p);
            let reverse = grad(apply_binary(op), &p).unwrap();
            let forward = jacfwd(|x| vec![apply_binary(op)(x)], &p).unwrap();
            for k in 0..2 {
                let what = format!("∂{}/∂arg{k} at {p:?}", op.name());
                assert_close(reverse[k], fd[k], FIRST_TOL, &format!("reverse {what}"));
                assert_close(forward[(0, k)], fd[k], FIRST_TOL, &format!("forward {what}"));
            }
        }
    }
}

#[test]
fn binary_second_derivatives() {
    for (op, points) in binary_cases() {
        for p in points {
            let h = hessian(apply_binary(op), &p).unwrap();
            for k in 0..2 {
                // Column k of the Hessian: finite difference of the exact gradient along k.
                let fd = fd_gradient(|x| grad(apply_binary(op), x).unwrap()[k], &p);
                for j in 0..2 {
                    let what = format!("∂²{}/∂arg{k}∂arg{j} at {p:?}", op.name());
                    assert_close(h[(k, j)], fd[j], SECOND_TOL, &what);
                }
            }
        }
    }
}

#[test]
fn mul_add_all_three_partials() {
    fn f<T: Float>(x: &[T]) -> T {
        x[0].mul_add(x[1], x[2])
    }
    for p in [
        [1.5, -2.0, 0.5],
        [0.3, 0.7, -4.0],
        [-1.0, -1.0, 1.0],
        [2.0, 3.0, 4.0],
        [0.0, 5.0, 1.0],
    ] {
        let fd = fd_gradient(f::<f64>, &p);
        let reverse = grad(f, &p).unwrap();
        let forward = jacfwd(|x| vec![f(x)], &p).unwrap();
        let h = hessian(f, &p).unwrap();
        for k in 0..3 {
            assert_close(reverse[k], fd[k], FIRST_TOL, "reverse mul_add");
            assert_close(forward[(0, k)], fd[k], FIRST_TOL, "forward mul_add");
        }
        // ∂²(a·b + c): only the a–b cross terms are 1.
        let exact = [[0.0, 1.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, 0.0]];
        assert_eq!(h.to_rows(), exact.iter().map(|r| r.to_vec()).collect::<Vec<_>>());
    }
}

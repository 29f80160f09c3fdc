//! Tapes for every scalar type: reverse mode over `DualN` of any width,
//! reverse over reverse (`Var<Var<f64>>`), and deeper nestings, against
//! the built-in Hessian and closed forms.

mod common;

use chainrule::{Dual, DualN, Real, Recording, Var, hessian};
use common::assert_close;
use num_traits::Float;

fn rosenbrock<T: Real>(x: &[T]) -> T {
    let (one, hundred) = (T::one(), T::from(100.0).unwrap());
    x.windows(2)
        .map(|w| hundred * (w[1] - w[0] * w[0]).powi(2) + (one - w[0]).powi(2))
        .sum::<T>()
        + x.iter().map(|&v| v.sin()).sum::<T>()
}

fn point(n: usize) -> Vec<f64> {
    (0..n).map(|i| 0.3 + 0.17 * i as f64).collect()
}

#[test]
fn hessian_by_reverse_over_four_lane_dual_numbers() {
    let x = point(6);
    let expected = hessian(rosenbrock, &x).unwrap();
    // Forward over reverse with 4 directions per sweep: a width the API
    // does not use, so its tape comes from the per-thread table.
    let mut columns = vec![vec![0.0; x.len()]; x.len()];
    for start in (0..x.len()).step_by(4) {
        let rec = Recording::<DualN<f64, 4>>::new();
        let inputs: Vec<Var<DualN<f64, 4>>> = x
            .iter()
            .enumerate()
            .map(|(j, &v)| {
                let mut tangents = [0.0; 4];
                if (start..start + 4).contains(&j) {
                    tangents[j - start] = 1.0;
                }
                rec.input(DualN::new(v, tangents))
            })
            .collect();
        let gradient = rec.gradient(rosenbrock(&inputs)).unwrap();
        for (i, g) in gradient.iter().enumerate() {
            for (lane, &t) in g.tangents().iter().enumerate() {
                if start + lane < x.len() {
                    columns[start + lane][i] = t;
                }
            }
        }
    }
    for i in 0..x.len() {
        for j in 0..x.len() {
            assert_close(columns[j][i], expected[(i, j)], 1e-13, &format!("H[{i}, {j}]"));
        }
    }
}

#[test]
fn hessian_by_reverse_over_reverse() {
    let x = point(5);
    let expected = hessian(rosenbrock, &x).unwrap();
    // The inner recording sees the outer backward sweep's arithmetic.
    let inner = Recording::<f64>::new();
    let inner_inputs = inner.inputs(&x);
    let outer = Recording::<Var<f64>>::new();
    let outer_inputs = outer.inputs(&inner_inputs);
    let gradient = outer.gradient(rosenbrock(&outer_inputs)).unwrap();
    drop(outer);
    for (i, g) in gradient.iter().enumerate() {
        let row = inner.gradient(*g).unwrap();
        for j in 0..x.len() {
            assert_close(row[j], expected[(i, j)], 1e-13, &format!("H[{i}, {j}]"));
        }
    }
}

#[test]
fn third_derivative_through_a_tape_of_nested_dual_numbers() {
    // d³/dx³ of x⁴ + sin(x) = 24x − cos(x): a tape of Dual<Dual<f64>>, seeded
    // so that the reverse sweep's adjoint carries the second derivative's
    // own derivative.
    let f = |x: Var<Dual<Dual<f64>>>| x.powi(4) + x.sin();
    let x0 = 0.7_f64;
    let rec = Recording::<Dual<Dual<f64>>>::new();
    let x = rec.input(Dual::new(Dual::new(x0, 1.0), Dual::new(1.0, 0.0)));
    let g = rec.gradient(f(x)).unwrap()[0];
    // g = f'(x(s, t)) with x = x0 + s + t: ∂²/∂s∂t f' = f'''.
    assert_close(g.value.value, 4.0 * x0.powi(3) + x0.cos(), 1e-14, "f'");
    assert_close(g.value.tangent, 12.0 * x0 * x0 - x0.sin(), 1e-14, "f''");
    assert_close(g.tangent.tangent, 24.0 * x0 - x0.cos(), 1e-14, "f'''");
}

#[test]
fn table_tapes_nest_and_finish_like_built_in_ones() {
    // Two recordings of a table type, nested, dropped out of order.
    let outer = Recording::<DualN<f64, 2>>::new();
    let a = outer.input(DualN::new(2.0, [1.0, 0.0]));
    let inner = Recording::<DualN<f64, 2>>::new();
    let b = inner.input(DualN::new(3.0, [0.0, 1.0]));
    let y = b * b;
    assert_eq!(inner.gradient(y).unwrap()[0].value, 6.0);
    drop(outer);
    assert!(
        inner.gradient(y * a).is_err(),
        "a belongs to the finished outer recording"
    );
    drop(inner);
    // And on another thread, a tape of its own.
    let handle = std::thread::spawn(|| {
        let rec = Recording::<DualN<f64, 2>>::new();
        let x = rec.input(DualN::new(1.5, [1.0, 0.0]));
        rec.gradient(x * x * x).unwrap()[0].tangents()[0]
    });
    assert_eq!(handle.join().unwrap(), 9.0); // d²(x³)/dx² = 6x
}

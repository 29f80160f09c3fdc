//! Small tests of every path that runs `unsafe` code: the tape's unchecked
//! edge writes (and their growth, limits and nesting), the thread-local tape
//! accessor, and the matrix kernels behind tensors. They are sized to run
//! under Miri too (`cargo +nightly miri test --test soundness`), which checks
//! for undefined behaviour that a plain run cannot see. Miri perturbs the
//! last bits of transcendental functions on purpose, so results that involve
//! them are compared with a tolerance.

use chainrule::tensor::{Array, Element, TensorTape};
use chainrule::{Dual, DualN, Error, Recording, TapeLimit, Var, grad, hessian, hvp};
use num_traits::Float;

fn close(a: &[f64], b: &[f64]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| (x - y).abs() <= 1e-12 * x.abs().max(1.0))
}

fn poly<T: Float>(x: &[T]) -> T {
    x[0] * x[1] + x[1].sin() * x[0].exp() - x[0].mul_add(x[1], x[1])
}

#[test]
fn recordings_grow_through_several_reallocations() {
    let rec = Recording::<f64>::new();
    let x = rec.input(0.3);
    let mut y = x;
    for k in 0..300 {
        y = if k % 2 == 0 { y.sin() + x } else { y * 0.5 };
    }
    let gradient = rec.gradient(y).unwrap();
    assert!(gradient[0].is_finite());
    let tangent = rec.jvp(&[1.0], &[y]).unwrap()[0];
    assert!((tangent - gradient[0]).abs() < 1e-14, "{tangent} vs {gradient:?}");
}

#[test]
fn every_tape_scalar_records_and_sweeps() {
    let x = [0.5, -1.25];
    let g = grad(poly, &x).unwrap();
    let h = hessian(poly, &x).unwrap();
    let hv = hvp(poly, &x, &[1.0, 0.0]).unwrap();
    assert!(close(&hv, &[h[(0, 0)], h[(1, 0)]]), "{hv:?} vs {h:?}");
    let rec = Recording::<f32>::new();
    let xs = rec.inputs(&[0.5, -1.25]);
    let g32 = rec.gradient(poly(&xs)).unwrap();
    assert!((g32[0] as f64 - g[0]).abs() < 1e-5);
    let rec = Recording::<Dual<f32>>::new();
    let v = rec.input(Dual::new(2.0, 1.0));
    assert_eq!(rec.gradient(v * v).unwrap()[0], Dual::new(4.0, 2.0));
    let rec = Recording::<DualN<f32, 8>>::new();
    let v = rec.input(DualN::variable(2.0, 3));
    assert_eq!(rec.gradient(v * v).unwrap()[0].tangents()[3], 2.0);
}

#[test]
fn nested_recordings_dropped_out_of_order() {
    let outer = Recording::<f64>::new();
    let a = outer.input(2.0);
    let _ = a * a;
    let middle = Recording::<f64>::new();
    let b = middle.input(1.0);
    let inner = Recording::<f64>::new();
    drop(middle);
    let c = inner.input(3.0);
    assert_eq!(inner.gradient(b * c), Err(Error::ForeignVariable));
    drop(inner);
    // The outer recording resumes, skipping the finished middle one.
    assert_eq!(outer.gradient(a * a).unwrap(), vec![4.0]);
    drop(outer);
    assert!(std::panic::catch_unwind(|| (a * 1.0).value()).is_err());
}

#[test]
fn a_full_tape_records_nothing_more() {
    let rec = Recording::<f64>::with_tape_limit(100);
    let mut y = rec.input(1.0);
    for _ in 0..50 {
        y = y * y + 1.0;
    }
    assert!(matches!(
        rec.gradient(y),
        Err(Error::TapeFull {
            limit: TapeLimit::Bytes(100),
            ..
        })
    ));
}

#[test]
fn variables_stay_on_their_thread_and_threads_record_alone() {
    let handles: Vec<_> = (0..2)
        .map(|k| std::thread::spawn(move || grad(|x: &[Var<f64>]| x[0].powi(3), &[k as f64 + 1.0]).unwrap()))
        .collect();
    let results: Vec<f64> = handles.into_iter().map(|h| h.join().unwrap()[0]).collect();
    assert!(close(&results, &[3.0, 12.0]), "{results:?}");
}

#[test]
fn a_variable_sent_to_another_thread_is_foreign_there() {
    // `Var` is `Send` (nalgebra needs it); on another thread it never matches
    // that thread's recording, so it is refused, and its own recording still
    // sweeps correctly afterwards.
    let rec = Recording::<f64>::new();
    let x = rec.input(2.0);
    let y = x * x;
    let error = std::thread::spawn(move || {
        let there = Recording::<f64>::new();
        let z = there.input(3.0);
        there.gradient(x * z + y).unwrap_err()
    })
    .join()
    .unwrap();
    assert_eq!(error, Error::ForeignVariable);
    assert_eq!(rec.gradient(y).unwrap(), vec![4.0]);
}

#[test]
fn matrix_kernels_stay_inside_their_slices() {
    let a: Vec<f64> = (0..6).map(f64::from).collect();
    let b: Vec<f64> = (0..12).map(f64::from).collect();
    // C starts as NaN: with β = 0 it is written, never read (0·NaN would
    // show), which is what lets matmul hand gemm uninitialized memory.
    let mut c = vec![std::mem::MaybeUninit::new(f64::NAN); 8];
    f64::gemm(2, 3, 4, (&a, false), (&b, false), &mut c);
    // SAFETY: every element was initialized (to NaN) by `MaybeUninit::new`
    // and then overwritten by gemm.
    let c: Vec<f64> = c.into_iter().map(|v| unsafe { v.assume_init() }).collect();
    assert_eq!(c, [20.0, 23.0, 26.0, 29.0, 56.0, 68.0, 80.0, 92.0]);
    let at = Array::new(vec![3, 2], vec![0.0, 3.0, 1.0, 4.0, 2.0, 5.0]).unwrap();
    let bm = Array::new(vec![3, 4], b).unwrap();
    assert_eq!(at.matmul_transposed(true, &bm, false).unwrap().data(), &c[..]);
    let tape = TensorTape::<f32>::new();
    let x = tape.input(Array::new(vec![2, 2], vec![1.0, 2.0, 3.0, 4.0]).unwrap());
    let loss = x.matmul(&x).unwrap().sum();
    let grads = tape.backward(&loss).unwrap();
    // d/dX Σ (X·X) = 1·Xᵀ + Xᵀ·1
    assert_eq!(grads.of(&x).data(), &[7.0, 11.0, 9.0, 13.0]);
}

/// A custom function whose own code records on the same thread's tape
/// while the outer recording is applying it.
#[derive(Clone)]
struct SquareByTape;

impl chainrule::Elementary<1> for SquareByTape {
    const NAME: &'static str = "square_by_tape";
    fn value<T: chainrule::Real>(&self, [x]: [T; 1]) -> T {
        x * x
    }
    fn partials<T: chainrule::Real>(&self, [x]: [T; 1]) -> [T; 1] {
        // d(x²)/dx from a nested recording of its own, at the primal value.
        let slope = grad(|v| v[0] * v[0], &[x.to_f64().unwrap()]).unwrap()[0];
        [T::from(slope).unwrap()]
    }
}

#[test]
fn custom_functions_may_record_while_they_are_applied() {
    let g = grad(|v| chainrule::apply(&SquareByTape, [v[0] * 3.0]) + v[1], &[2.0, 1.0]).unwrap();
    assert_eq!(g, vec![36.0, 1.0]);
}

/// Residuals whose destructor records on this thread's tape: dropped only
/// once the tape is released (when the next recording starts, or this one
/// ends).
struct RecordsWhenDropped(f64);

impl Drop for RecordsWhenDropped {
    fn drop(&mut self) {
        let slope = grad(|v| v[0] * v[0], &[self.0]).unwrap()[0];
        assert_eq!(slope, 2.0 * self.0);
    }
}

#[test]
fn custom_vector_callbacks_may_record_on_their_own_tapes() {
    // The backward callback differentiates with a nested recording of the
    // same scalar type while the outer tape is being swept.
    let rec = Recording::<f64>::new();
    let x = rec.inputs(&[3.0, 4.0]);
    let y = chainrule::custom_vjp(
        &x,
        |v| (vec![v[0] * v[0] + v[1]], RecordsWhenDropped(v[0])),
        |kept, y_bar| {
            let slope = grad(|v| v[0] * v[0], &[kept.0]).unwrap()[0];
            vec![y_bar[0] * slope, y_bar[0]]
        },
    );
    assert_eq!(rec.gradient(y[0] * 2.0).unwrap(), vec![12.0, 2.0]);
    drop(rec);
    // A new recording retires the old one's calls, running their destructors.
    let again = Recording::<f64>::new();
    let z = again.input(1.5);
    assert_eq!(again.gradient(z * z).unwrap(), vec![3.0]);
}

#[test]
fn a_callback_that_records_on_the_swept_tape_is_an_error() {
    let rec = Recording::<f64>::new();
    let x = rec.inputs(&[3.0, 4.0]);
    let captured = x[0];
    let y = chainrule::custom_vjp(
        &x,
        |v| (vec![v[0] + v[1]], ()),
        move |_, y_bar| {
            // Appends a node to the tape under the sweep.
            let _ = captured.sin();
            vec![y_bar[0], y_bar[0]]
        },
    );
    assert_eq!(
        rec.gradient(y[0]),
        Err(Error::TapeChanged {
            operation: "custom_vjp"
        })
    );
}

#[test]
fn a_callback_that_leaves_a_recording_open_is_an_error() {
    let rec = Recording::<f64>::new();
    let x = rec.inputs(&[3.0, 4.0]);
    let y = chainrule::custom_vjp(
        &x,
        |v| (vec![v[0] * v[1]], ()),
        |_, y_bar| {
            std::mem::forget(Recording::<f64>::new());
            vec![y_bar[0], y_bar[0]]
        },
    );
    assert_eq!(
        rec.gradient(y[0]),
        Err(Error::TapeChanged {
            operation: "custom_vjp"
        })
    );
}

#[test]
fn tapes_of_other_scalar_types_come_from_the_thread_table() {
    // Reverse over reverse: the outer sweep's arithmetic records on the
    // inner tape while the outer tape (a table tape) is borrowed.
    let inner = Recording::<f64>::new();
    let x = inner.inputs(&[1.5, -0.5]);
    let outer = Recording::<Var<f64>>::new();
    let y = outer.inputs(&x);
    let g = outer.gradient(y[0] * y[0] * y[1]).unwrap();
    drop(outer);
    assert_eq!(inner.gradient(g[0]).unwrap(), vec![2.0 * -0.5, 2.0 * 1.5]);
    let other_thread = std::thread::spawn(|| {
        let rec = Recording::<DualN<f64, 3>>::new();
        let v = rec.input(DualN::new(2.0, [1.0, 0.0, 0.0]));
        rec.gradient(v * v).unwrap()[0].tangents()[0]
    });
    assert_eq!(other_thread.join().unwrap(), 2.0);
}

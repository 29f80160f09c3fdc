//! The tape under load and misuse: deep chains on small stacks, heavy fan-out,
//! threads, reuse, nesting, and variables that outlive their recording.

use chainrule::{Error, Recording, TapeLimit, Var, grad, value_and_grad};
use num_traits::Float;

/// Runs `f` on a thread with a 256 KiB stack: any recursion over a long
/// graph (in the sweep or in dropping the tape) would overflow it.
fn on_small_stack<R: Send + 'static>(f: impl FnOnce() -> R + Send + 'static) -> R {
    std::thread::Builder::new()
        .stack_size(256 * 1024)
        .spawn(f)
        .unwrap()
        .join()
        .unwrap()
}

#[test]
fn chain_of_ten_million_operations_on_a_small_stack() {
    const STEPS: usize = 5_000_000; // two operations per step
    let (value, gradient) = on_small_stack(|| {
        // y = x·c^STEPS + Σ ... : here y_{k+1} = y_k·c + 0.5·x, a linear recurrence,
        // so dy/dx = c^STEPS + 0.5·(1 − c^STEPS)/(1 − c) exactly.
        value_and_grad(
            |x| {
                let c = 0.999_999_9;
                let mut y = x[0];
                for _ in 0..STEPS {
                    y = y * c + x[0] * 0.5;
                }
                y
            },
            &[1.0],
        )
        .unwrap()
    });
    let c: f64 = 0.999_999_9;
    let power = c.powi(STEPS as i32);
    let expected_slope = power + 0.5 * (1.0 - power) / (1.0 - c);
    assert!(
        ((gradient[0] - expected_slope) / expected_slope).abs() < 1e-8,
        "{} vs {expected_slope}",
        gradient[0]
    );
    assert!(
        ((value - expected_slope) / expected_slope).abs() < 1e-8,
        "the recurrence is linear: value = slope at x = 1"
    );
}

#[test]
fn recording_of_ten_million_nodes_drops_on_a_small_stack() {
    let nodes = on_small_stack(|| {
        let rec = Recording::<f64>::new();
        let mut y = rec.input(0.5);
        for _ in 0..10_000_000 {
            y = y.sin();
        }
        let nodes = rec.len();
        drop(rec);
        nodes
    });
    assert_eq!(nodes, 10_000_001);
}

#[test]
fn variable_used_a_million_times() {
    const USES: usize = 1_000_000;
    let gradient = on_small_stack(|| {
        grad(
            |x| {
                // Σ_k (k mod 7)·x: the adjoint of x sums a million edges.
                let mut acc = Var::constant(0.0);
                for k in 0..USES {
                    acc += x[0] * (k % 7) as f64;
                }
                acc
            },
            &[3.0],
        )
        .unwrap()
    });
    let expected: f64 = (0..USES).map(|k| (k % 7) as f64).sum();
    assert_eq!(gradient[0], expected);
}

fn workload<T: Float>(x: &[T]) -> T {
    let mut acc = T::zero();
    for (k, &v) in x.iter().enumerate() {
        let k = T::from(k + 1).unwrap();
        acc = acc + (v * k).sin() * v.exp() / (T::one() + v * v) + (v + acc).tanh();
    }
    acc
}

#[test]
fn eight_threads_give_bit_identical_gradients() {
    let x: Vec<f64> = (0..500).map(|k| (k as f64 * 0.37).sin()).collect();
    let reference = grad(workload, &x).unwrap();
    let handles: Vec<_> = (0..8)
        .map(|_| {
            let x = x.clone();
            std::thread::spawn(move || (0..20).map(|_| grad(workload, &x).unwrap()).collect::<Vec<_>>())
        })
        .collect();
    for handle in handles {
        for gradient in handle.join().unwrap() {
            let same = gradient.iter().zip(&reference).all(|(a, b)| a.to_bits() == b.to_bits());
            assert!(same, "a concurrent gradient differs from the single-threaded one");
        }
    }
}

#[test]
fn a_variable_from_a_finished_recording_is_an_error() {
    let stale = {
        let rec = Recording::<f64>::new();
        rec.input(2.0)
    };
    let rec = Recording::<f64>::new();
    let x = rec.input(1.0);
    let y = x * stale;
    assert_eq!(rec.gradient(y), Err(Error::ForeignVariable));
}

#[test]
fn a_closure_capturing_an_old_variable_is_an_error() {
    let rec = Recording::<f64>::new();
    let outer = rec.input(2.0);
    // grad starts a nested recording: mixing in `outer` is reported.
    assert_eq!(grad(|x| x[0] * outer, &[1.0]), Err(Error::ForeignVariable));
    // The outer recording is intact afterwards.
    let y = outer * outer;
    assert_eq!(rec.gradient(y).unwrap(), vec![4.0]);
}

#[test]
fn nested_recordings_resume_the_outer_one() {
    let rec = Recording::<f64>::new();
    let x = rec.input(3.0);
    let inner = grad(|v| v[0].powi(3), &[2.0]).unwrap();
    assert_eq!(inner, vec![12.0]);
    let y = x * x;
    assert_eq!(rec.gradient(y).unwrap(), vec![6.0]);
}

#[test]
fn an_outer_recording_cannot_sweep_while_a_nested_one_is_active() {
    let outer = Recording::<f64>::new();
    let x = outer.input(1.0);
    let inner = Recording::<f64>::new();
    assert_eq!(outer.gradient(x), Err(Error::RecordingNotActive));
    drop(inner);
    assert_eq!(outer.gradient(x).unwrap(), vec![1.0]);
}

#[test]
#[should_panic(expected = "no Recording of its scalar type is active")]
fn a_variable_used_after_every_recording_ended_panics() {
    let stale = {
        let rec = Recording::<f64>::new();
        rec.input(2.0)
    };
    let _ = stale.sin();
}

#[test]
fn tape_memory_is_reused() {
    let first = {
        let rec = Recording::<f64>::new();
        let mut y = rec.input(1.0);
        for _ in 0..100_000 {
            y = y.cos();
        }
        rec.tape_capacity_bytes()
    };
    let rec = Recording::<f64>::new();
    assert!(rec.is_empty());
    assert!(
        rec.tape_capacity_bytes() >= first,
        "a new recording keeps the memory of the last one"
    );
    assert!(first >= 100_000 * 12);
}

#[test]
fn constants_cost_nothing_on_the_tape() {
    let rec = Recording::<f64>::new();
    let x = rec.input(2.0);
    let before = rec.len();
    let c = Var::constant(3.0_f64).sin() * 4.0 + Var::constant(1.0); // constants only
    assert_eq!(rec.len(), before);
    let y = x * c; // one binary op with a constant side: one node, one edge
    assert_eq!(rec.len(), before + 1);
    assert_eq!(rec.tape_bytes(), 4 + 12, "the input's edge + one stored edge for x·c");
    assert_eq!(rec.gradient(y).unwrap(), vec![c.value()]);
}

#[test]
fn edges_cost_four_bytes_and_partials_other_than_plus_or_minus_one_eight_more() {
    let rec = Recording::<f64>::new();
    let x = rec.input(2.0);
    let y = rec.input(3.0);
    assert_eq!(rec.tape_bytes(), 2 * 4, "an input's edge to the sink stores no partial");
    let base = rec.tape_bytes();
    let s = x.sin();
    assert_eq!(rec.tape_bytes() - base, 12, "sin: one edge, one partial");
    let p = s * y;
    assert_eq!(rec.tape_bytes() - base, 36, "a product: two edges, two partials");
    let q = p + x;
    assert_eq!(rec.tape_bytes() - base, 44, "a sum: two edges of +1, no partial");
    let r = -(q - y);
    assert_eq!(rec.tape_bytes() - base, 56, "a difference (+1, -1) and a negation (-1)");
    // The unit edges give the same gradient as the rule's partials would.
    let gradient = rec.gradient(r).unwrap();
    assert_eq!(gradient, vec![-(2f64.cos() * 3.0 + 1.0), -(2f64.sin() - 1.0)]);
}

#[test]
fn an_outer_recording_dropped_before_the_nested_one_stays_finished() {
    let outer = Recording::<f64>::new();
    let a = outer.input(2.0);
    let inner = Recording::<f64>::new();
    drop(outer);
    // The nested recording is still the active one: `a` is foreign to it.
    let x = inner.input(3.0);
    let y = a * x;
    assert_eq!(inner.gradient(y), Err(Error::ForeignVariable));
    drop(inner);
    // No recording is active now: the outer tape must not have come back.
    let revived = std::panic::catch_unwind(|| (a * 2.0).value());
    assert!(
        revived.is_err(),
        "a variable of a finished recording was recorded again"
    );
    // And a new recording starts clean.
    let (value, gradient) = value_and_grad(|x| x[0] * x[0], &[3.0]).unwrap();
    assert_eq!((value, gradient), (9.0, vec![6.0]));
}

#[test]
fn recordings_dropped_in_any_order_leave_the_thread_usable() {
    // Three nested recordings, dropped in each of the six orders.
    let orders = [[0, 1, 2], [0, 2, 1], [1, 0, 2], [1, 2, 0], [2, 0, 1], [2, 1, 0]];
    for order in orders {
        let mut recordings: Vec<Option<Recording<f64>>> = Vec::new();
        let mut variables = Vec::new();
        for k in 0..3 {
            let rec = Recording::<f64>::new();
            variables.push(rec.input(k as f64));
            recordings.push(Some(rec));
        }
        for (step, &k) in order.iter().enumerate() {
            recordings[k] = None;
            // Each live recording either is the innermost active one and
            // differentiates its own variable, or reports that it is not.
            for (j, rec) in recordings.iter().enumerate() {
                if let Some(rec) = rec {
                    let innermost = recordings
                        .iter()
                        .enumerate()
                        .rev()
                        .find_map(|(i, r)| r.as_ref().map(|_| i));
                    let result = rec.gradient(variables[j]);
                    if Some(j) == innermost {
                        assert_eq!(result, Ok(vec![1.0]), "order {order:?}, after {step} drops");
                    } else {
                        assert_eq!(result, Err(Error::RecordingNotActive), "order {order:?}");
                    }
                }
            }
        }
        assert_eq!(grad(|x| x[0].sin(), &[0.0]).unwrap(), vec![1.0]);
    }
}

#[test]
fn a_tape_limit_stops_the_recording_with_an_error() {
    let rec = Recording::<f64>::with_tape_limit(1 << 20);
    let mut y = rec.input(0.5);
    for _ in 0..1_000_000 {
        y = y.sin() * 1.5;
    }
    match rec.gradient(y) {
        Err(Error::TapeFull {
            nodes,
            limit: TapeLimit::Bytes(limit),
        }) => {
            assert_eq!(limit, 1 << 20);
            // The input's edge (4 bytes) and 12 bytes per operation.
            assert!(nodes > 0 && 4 + (nodes - 1) * 12 <= 1 << 20, "{nodes} nodes");
            assert!(4 + (nodes + 1) * 12 > 1 << 20, "{nodes} nodes: the limit was not used");
        }
        other => panic!("expected TapeFull, got {other:?}"),
    }
    assert!(rec.tape_capacity_bytes() <= 1 << 20);
}

/// Marks the child process of the out-of-memory test.
const OOM_CHILD: &str = "CHAINRULE_TEST_OOM_CHILD";

#[test]
fn a_recording_larger_than_memory_is_tape_full_not_an_abort() {
    if std::env::var_os(OOM_CHILD).is_some() {
        // 2·10^8 operations need 2.4 GB of tape; this process may map 1.5 GB.
        let rec = Recording::<f64>::new();
        let mut y = rec.input(0.5);
        for _ in 0..200_000_000 {
            y = y.sin();
        }
        let result = rec.gradient(y);
        assert!(
            matches!(
                result,
                Err(Error::TapeFull {
                    limit: TapeLimit::OutOfMemory { .. },
                    ..
                })
            ),
            "{result:?}"
        );
        println!("child finished: {}", result.unwrap_err());
        return;
    }
    let test = "a_recording_larger_than_memory_is_tape_full_not_an_abort";
    let output = std::process::Command::new("sh")
        .arg("-c")
        .arg("ulimit -v 1500000 && exec \"$0\" --exact \"$1\" --nocapture --test-threads 1")
        .arg(std::env::current_exe().unwrap())
        .arg(test)
        .env(OOM_CHILD, "1")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success() && stdout.contains("child finished: the tape filled up"),
        "status {:?}\n{stdout}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
}

//! Custom vector functions (`VectorRule`, `custom_vjp`, `custom_jvp`) in
//! every mode: a dense linear solve with its adjoint solve, against the
//! same solve differentiated through a hand-written LU, against finite
//! differences, and mode against mode.

mod common;
#[path = "../examples/support/linear_solve.rs"]
mod linear_solve;

use chainrule::custom::{VectorRule, apply_vector, custom_jvp, custom_vjp};
use chainrule::{Dual, DualN, Error, Real, Recording, grad, hessian, hvp, jacfwd, jacrev, jvp, vjp};
use common::assert_close;
use linear_solve::{LinearSolve, Lu};

/// A well-conditioned n × n matrix (diagonally dominant, not symmetric)
/// and right-hand side, flattened as the rule's arguments.
fn problem(n: usize) -> Vec<f64> {
    let mut x = Vec::with_capacity(n * (n + 1));
    for i in 0..n {
        for j in 0..n {
            let off = ((i * 7 + j * 13) % 17) as f64 / 17.0 - 0.5;
            x.push(if i == j { n as f64 + 1.0 + off } else { off });
        }
    }
    x.extend((0..n).map(|i| (i as f64 * 0.37).sin() + 1.0));
    x
}

/// A scalar loss of the solution, nonlinear so Hessians are not trivial.
fn loss_of<T: Real>(y: &[T]) -> T {
    y.iter()
        .enumerate()
        .map(|(i, &v)| (v * T::from(0.5 + i as f64 * 0.1).unwrap()).sin())
        .sum()
}

fn with_rule<T: Real>(n: usize) -> impl Fn(&[T]) -> T {
    move |x: &[T]| loss_of(&apply_vector(&LinearSolve { n }, x))
}

fn through_lu<T: Real>(n: usize) -> impl Fn(&[T]) -> T {
    move |x: &[T]| {
        let (a, b) = x.split_at(n * n);
        loss_of(&Lu::factor(n, a).solve(b))
    }
}

#[test]
fn the_solve_solves() {
    let n = 6;
    let x = problem(n);
    let y = apply_vector(&LinearSolve { n }, &x);
    for i in 0..n {
        let row: f64 = (0..n).map(|j| x[i * n + j] * y[j]).sum();
        assert_close(row, x[n * n + i], 1e-14, "A y = b");
    }
    // and the transposed solve
    let lu = Lu::factor(n, &x[..n * n]);
    let z = lu.solve_transposed(&x[n * n..]);
    for j in 0..n {
        let column: f64 = (0..n).map(|i| x[i * n + j] * z[i]).sum();
        assert_close(column, x[n * n + j], 1e-14, "Aᵀ z = b");
    }
}

#[test]
fn gradient_of_a_50_by_50_solve_matches_the_lu_and_finite_differences() {
    let n = 50;
    let x = problem(n);
    let custom = grad(with_rule(n), &x).unwrap();
    let composed = grad(through_lu(n), &x).unwrap();
    assert_eq!(custom.len(), n * (n + 1));
    for (k, (&c, &l)) in custom.iter().zip(&composed).enumerate() {
        assert_close(c, l, 1e-12, &format!("∂/∂x{k}: rule against LU"));
    }
    // Central differences on a spread of entries of A and b.
    let plain = with_rule::<f64>(n);
    for k in (0..x.len()).step_by(97).chain([n * n, n * n + n - 1]) {
        let h = 1e-6;
        let (mut up, mut down) = (x.clone(), x.clone());
        up[k] += h;
        down[k] -= h;
        let difference = (plain(&up) - plain(&down)) / (2.0 * h);
        assert_close(
            custom[k],
            difference,
            1e-7,
            &format!("∂/∂x{k}: rule against differences"),
        );
    }
}

#[test]
fn every_mode_matches_the_lu() {
    let n = 4;
    let x = problem(n);
    let m = x.len();
    let direction: Vec<f64> = (0..m).map(|k| ((k * 5) % 7) as f64 / 7.0 - 0.4).collect();

    // Reverse, forward (one direction, chunks of 8), Hessian, Hessian-vector.
    let g = grad(with_rule(n), &x).unwrap();
    let g_lu = grad(through_lu(n), &x).unwrap();
    let solve = |x: &[Dual<f64>]| vec![with_rule(n)(x)];
    let (_, forward) = jvp(solve, &x, &direction).unwrap();
    let along: f64 = g_lu.iter().zip(&direction).map(|(a, b)| a * b).sum();
    assert_close(forward[0], along, 1e-12, "jvp against the LU gradient");
    let chunked = jacfwd(|x: &[DualN<f64, 8>]| vec![with_rule(n)(x)], &x).unwrap();
    for k in 0..m {
        assert_close(g[k], g_lu[k], 1e-12, "grad");
        assert_close(chunked[(0, k)], g_lu[k], 1e-12, "jacfwd");
    }
    let h = hessian(with_rule(n), &x).unwrap();
    let h_lu = hessian(through_lu(n), &x).unwrap();
    for i in 0..m {
        for j in 0..m {
            assert_close(h[(i, j)], h_lu[(i, j)], 1e-12, &format!("H[{i}, {j}]"));
        }
    }
    let hv = hvp(with_rule(n), &x, &direction).unwrap();
    for i in 0..m {
        let expected: f64 = (0..m).map(|j| h_lu[(i, j)] * direction[j]).sum();
        assert_close(hv[i], expected, 1e-12, "hvp");
    }

    // The whole solution: jacrev (backward sweeps) against jacfwd (dual numbers).
    let solution_rev = jacrev(|x: &[chainrule::Var<f64>]| apply_vector(&LinearSolve { n }, x), &x).unwrap();
    let solution_fwd = jacfwd(|x: &[DualN<f64, 8>]| apply_vector(&LinearSolve { n }, x), &x).unwrap();
    for i in 0..n {
        for k in 0..m {
            assert_close(
                solution_rev[(i, k)],
                solution_fwd[(i, k)],
                1e-12,
                "jacrev against jacfwd",
            );
        }
    }
}

#[test]
fn forward_sweeps_of_a_recording_run_the_rules_jvp() {
    let n = 5;
    let x = problem(n);
    let direction: Vec<f64> = (0..x.len()).map(|k| (k as f64 * 0.3).cos()).collect();
    let rec = Recording::<f64>::new();
    let inputs = rec.inputs(&x);
    let y = apply_vector(&LinearSolve { n }, &inputs);
    let loss = loss_of(&y);
    let tangent = rec.jvp(&direction, &[loss]).unwrap()[0];
    let gradient = rec.gradient(loss).unwrap();
    let along: f64 = gradient.iter().zip(&direction).map(|(a, b)| a * b).sum();
    assert_close(tangent, along, 1e-12, "forward sweep against backward sweep");
    // Blocks of directions and cotangents take the same path.
    let blocks: Vec<[f64; 2]> = direction.iter().map(|&d| [d, 2.0 * d]).collect();
    let pushed = rec.jvp_block(&blocks, &[loss]).unwrap()[0];
    assert_close(pushed[0], along, 1e-12, "jvp_block lane 0");
    assert_close(pushed[1], 2.0 * along, 1e-12, "jvp_block lane 1");
    let pulled = rec.vjp_block(&[loss], &[[1.0, -3.0]]).unwrap();
    for (k, block) in pulled.iter().enumerate() {
        assert_close(block[0], gradient[k], 1e-12, "vjp_block lane 0");
        assert_close(block[1], -3.0 * gradient[k], 1e-12, "vjp_block lane 1");
    }
}

#[test]
fn constant_arguments_get_no_adjoint_and_all_constants_record_nothing() {
    let n = 3;
    let x = problem(n);
    let (a, b) = x.split_at(n * n);
    // Only b varies: the gradient is A⁻ᵀ ∇loss(y).
    let rec = Recording::<f64>::new();
    let b_vars = rec.inputs(b);
    let args: Vec<chainrule::Var<f64>> = a
        .iter()
        .map(|&v| chainrule::Var::constant(v))
        .chain(b_vars.iter().copied())
        .collect();
    let y = apply_vector(&LinearSolve { n }, &args);
    let g = rec.gradient(loss_of(&y)).unwrap();
    let full = grad(through_lu(n), &x).unwrap();
    for i in 0..n {
        assert_close(g[i], full[n * n + i], 1e-12, "∂/∂b with A constant");
    }
    let before = rec.len();
    let constants: Vec<chainrule::Var<f64>> = x.iter().map(|&v| chainrule::Var::constant(v)).collect();
    let y = apply_vector(&LinearSolve { n }, &constants);
    assert!(y.iter().all(|v| v.is_constant()));
    assert_eq!(rec.len(), before);
}

#[test]
fn custom_vjp_keeps_the_factorisation_for_the_backward_sweep() {
    let n = 50;
    let x = problem(n);
    let rec = Recording::<f64>::new();
    let inputs = rec.inputs(&x);
    let y = custom_vjp(
        &inputs,
        |v| {
            let lu = Lu::factor(n, &v[..n * n]);
            let y = lu.solve(&v[n * n..]);
            (y.clone(), (lu, y))
        },
        move |(lu, y), y_bar| {
            let lambda = lu.solve_transposed(y_bar);
            let mut adjoints: Vec<f64> = lambda.iter().flat_map(|&l| y.iter().map(move |&v| -l * v)).collect();
            adjoints.extend(lambda);
            adjoints
        },
    );
    let g = rec.gradient(loss_of(&y)).unwrap();
    let expected = grad(through_lu(n), &x).unwrap();
    for k in 0..x.len() {
        assert_close(g[k], expected[k], 1e-12, "custom_vjp against the LU");
    }
    // No forward rule: a forward sweep says so.
    let tangents = vec![1.0; x.len()];
    assert_eq!(
        rec.jvp(&tangents, &[y[0]]),
        Err(Error::NoForwardRule {
            operation: "custom_vjp"
        })
    );
}

#[test]
fn custom_jvp_on_dual_numbers() {
    let n = 4;
    let x = problem(n);
    let direction: Vec<f64> = (0..x.len()).map(|k| 1.0 / (k as f64 + 1.0)).collect();
    let rule = LinearSolve { n };
    let f = |x: &[Dual<f64>]| custom_jvp(x, |v| rule.value(v), |v, y, v_dot| rule.jvp(v, y, v_dot));
    let (value, tangent) = jvp(f, &x, &direction).unwrap();
    let solve_lu = |x: &[Dual<f64>]| Lu::factor(n, &x[..n * n]).solve(&x[n * n..]);
    let (value_lu, tangent_lu) = jvp(solve_lu, &x, &direction).unwrap();
    for i in 0..n {
        assert_eq!(value[i], value_lu[i]);
        assert_close(tangent[i], tangent_lu[i], 1e-12, "custom_jvp against the LU");
    }
}

#[test]
fn vjp_api_through_the_rule() {
    let n = 3;
    let x = problem(n);
    let u = [1.0, -2.0, 0.5];
    let (y, pulled) = vjp(|x: &[chainrule::Var<f64>]| apply_vector(&LinearSolve { n }, x), &x, &u).unwrap();
    let (y_lu, pulled_lu) = vjp(
        |x: &[chainrule::Var<f64>]| Lu::factor(n, &x[..n * n]).solve(&x[n * n..]),
        &x,
        &u,
    )
    .unwrap();
    for i in 0..n {
        assert_eq!(y[i], y_lu[i]);
    }
    for k in 0..x.len() {
        assert_close(pulled[k], pulled_lu[k], 1e-12, "vjp");
    }
}

/// A rule whose products return the wrong number of values.
#[derive(Clone)]
struct Broken;

impl VectorRule for Broken {
    const NAME: &'static str = "broken";
    fn value<T: Real>(&self, x: &[T]) -> Vec<T> {
        vec![x[0] + x[1]]
    }
    fn jvp<T: Real>(&self, _: &[T], _: &[T], _: &[T]) -> Vec<T> {
        vec![]
    }
    fn vjp<T: Real>(&self, _: &[T], _: &[T], y_bar: &[T]) -> Vec<T> {
        vec![y_bar[0]]
    }
}

#[test]
fn a_product_of_the_wrong_length_is_an_error_in_sweeps() {
    let rec = Recording::<f64>::new();
    let x = rec.inputs(&[1.0, 2.0]);
    let y = apply_vector(&Broken, &x);
    assert_eq!(
        rec.gradient(y[0]),
        Err(Error::CallbackLength {
            operation: "broken",
            product: "vector-Jacobian product",
            expected: 2,
            found: 1
        })
    );
    assert_eq!(
        rec.jvp(&[1.0, 0.0], &[y[0]]),
        Err(Error::CallbackLength {
            operation: "broken",
            product: "Jacobian-vector product",
            expected: 1,
            found: 0
        })
    );
}

#[test]
#[should_panic(expected = "the Jacobian-vector product of the custom function `broken` returned 0 tangents")]
fn a_product_of_the_wrong_length_panics_on_dual_numbers_with_the_rules_name() {
    let x = [Dual::new(1.0, 1.0), Dual::new(2.0, 0.0)];
    apply_vector(&Broken, &x);
}

#[test]
fn recorded_programs_run_vector_rules_in_every_mode() {
    use chainrule::program::{Op, record};
    let n = 3;
    let recorded_at = problem(n);
    let program = record(with_rule(n), &recorded_at).unwrap();
    assert!(program.to_string().contains("linear_solve(v0, v1,"), "{program}");
    // Evaluated and differentiated away from where it was recorded.
    let x: Vec<f64> = recorded_at
        .iter()
        .enumerate()
        .map(|(k, v)| v + 0.01 * (k as f64).sin())
        .collect();
    let (value, gradient) = program.value_and_gradient(&x).unwrap();
    assert_eq!(
        value,
        with_rule(n)(&x),
        "the program's value is the function's, bit for bit"
    );
    let expected = grad(through_lu(n), &x).unwrap();
    for k in 0..x.len() {
        assert_close(gradient[k], expected[k], 1e-12, "program gradient");
    }
    let direction: Vec<f64> = (0..x.len()).map(|k| ((k * 3) % 5) as f64 - 2.0).collect();
    let (_, tangent) = program.jvp(&x, &direction).unwrap();
    let along: f64 = expected.iter().zip(&direction).map(|(a, b)| a * b).sum();
    assert_close(tangent[0], along, 1e-12, "program jvp");
    let h = program.hessian(&x).unwrap();
    let h_lu = hessian(through_lu(n), &x).unwrap();
    let sparse = program.sparse_hessian(&x).unwrap().to_dense().unwrap();
    let hv = program.hvp(&x, &direction).unwrap();
    for i in 0..x.len() {
        let expected_hv: f64 = (0..x.len()).map(|j| h_lu[(i, j)] * direction[j]).sum();
        assert_close(hv[i], expected_hv, 1e-12, "program hvp");
        for j in 0..x.len() {
            assert_close(h[(i, j)], h_lu[(i, j)], 1e-12, "program hessian");
            assert_close(sparse[(i, j)], h_lu[(i, j)], 1e-12, "program sparse hessian");
        }
    }

    // The solution itself: a program with n outputs, one call; its
    // Jacobian forward (dual numbers, the rule's jvp) and backward (the
    // rule's vjp, by rows when sparse) against the LU's.
    let solve = |v: &[chainrule::Var<f64>]| apply_vector(&LinearSolve { n }, v);
    let program = record(solve, &recorded_at).unwrap();
    let calls = program
        .ops()
        .iter()
        .filter(|op| matches!(op, Op::CustomOutput { .. }))
        .count();
    assert_eq!(calls, n);
    let expected = jacrev(
        |v: &[chainrule::Var<f64>]| Lu::factor(n, &v[..n * n]).solve(&v[n * n..]),
        &x,
    )
    .unwrap();
    let dense = program.jacobian(&x).unwrap();
    let sparse = program.sparse_jacobian(&x).unwrap().to_dense().unwrap();
    for i in 0..n {
        for k in 0..x.len() {
            assert_close(dense[(i, k)], expected[(i, k)], 1e-12, "program jacobian");
            assert_close(sparse[(i, k)], expected[(i, k)], 1e-12, "program sparse jacobian");
        }
    }
}

#[test]
fn program_passes_keep_a_vector_calls_outputs_together() {
    use chainrule::program::{Op, Passes, record_with};
    let n = 2;
    let x = problem(n);
    // Only the second output is used; a second call is not used at all.
    let f = move |v: &[chainrule::Var<f64>]| {
        let _unused = apply_vector(&LinearSolve { n }, v);
        apply_vector(&LinearSolve { n }, v)[1] * 3.0
    };
    for passes in [Passes::ALL, Passes::NONE] {
        let program = record_with(passes, f, &x).unwrap();
        let outputs: Vec<usize> = (0..program.len())
            .filter(|&i| matches!(program.ops()[i], Op::CustomOutput { .. }))
            .collect();
        assert_eq!(
            outputs.len(),
            if passes == Passes::ALL { n } else { 2 * n },
            "{program}"
        );
        assert_eq!(outputs[1], outputs[0] + 1, "consecutive");
        let (value, gradient) = program.value_and_gradient(&x).unwrap();
        let (value0, gradient0) = chainrule::value_and_grad(f, &x).unwrap();
        assert_eq!(value, value0);
        for k in 0..x.len() {
            assert_close(gradient[k], gradient0[k], 1e-14, "gradient after the passes");
        }
    }
}

#[test]
fn programs_refuse_closure_vector_functions_and_graphs_refuse_all() {
    let closure = chainrule::program::record(
        |x: &[chainrule::Var<f64>]| custom_vjp(x, |v| (vec![v[0] * v[1]], ()), |_, y_bar| vec![y_bar[0], y_bar[0]])[0],
        &[2.0, 3.0],
    );
    assert!(
        matches!(
            closure,
            Err(Error::NotRecordable {
                operation: "custom_vjp"
            })
        ),
        "{closure:?}"
    );
    let rec = Recording::<f64>::traced();
    let x = rec.inputs(&problem(1));
    let y = apply_vector(&LinearSolve { n: 1 }, &x);
    let graph = chainrule::graph::Graph::from_recording(&rec, &y);
    assert!(
        matches!(
            graph,
            Err(Error::NotRecordable {
                operation: "linear_solve"
            })
        ),
        "{graph:?}"
    );
}

#[test]
fn a_vector_rule_of_the_wrong_length_is_an_error_in_programs() {
    let program =
        chainrule::program::record(|x: &[chainrule::Var<f64>]| apply_vector(&Broken, x)[0], &[1.0, 2.0]).unwrap();
    assert_eq!(
        program.gradient(&[1.0, 2.0]),
        Err(Error::CallbackLength {
            operation: "broken",
            product: "vector-Jacobian product",
            expected: 2,
            found: 1
        })
    );
}

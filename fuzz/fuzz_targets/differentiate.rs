//! Parses arbitrary text, then evaluates and differentiates it in every mode
//! the library has, at a point chosen by the input's first bytes from values
//! where conventions matter (0, −0, ±1, tiny, huge, ∞, NaN):
//!
//! - values: plain evaluation, `value_and_grad`, forward mode and the
//!   captured graph give the same bits (AD never changes values);
//! - first order: reverse gradient, forward gradient, `jacfwd`, `jacrev`,
//!   the recording's forward sweep and the graph's tangents and adjoints;
//! - second order: `hessian` against `hvp`, column by column, and against
//!   the recorded program's dense and sparse Hessians;
//! - recorded programs (optimised and not): values at the recording point
//!   and at another point equal to running the function there, Jacobians
//!   (dense and sparse) equal to the others, sparsity patterns that cover
//!   every nonzero;
//! - the trace table and the DOT and SVG pictures are drawn.
//!
//! Derivatives must agree wherever both are finite, up to rounding (sums in
//! different orders); nothing may panic.
#![no_main]

use chainrule::expr::parse;
use chainrule::graph::capture;
use libfuzzer_sys::fuzz_target;

const POINTS: [f64; 16] = [
    0.0, -0.0, 1.0, -1.0, 0.5, -2.0, 3.0, 1e-300, -1e-300, 1e300, 0.1, 7.25, f64::INFINITY, f64::NEG_INFINITY,
    f64::NAN, 2.0,
];

/// Whether two derivatives agree: equal, both NaN, one not finite (then
/// the modes may meet ∞ − ∞ in different places), or within rounding of sums
/// taken in different orders, `scale` being the sum of the magnitudes of the
/// terms (so that `1e300 − 1e300 + 1` may come out 1 or 0).
fn agree(a: f64, b: f64, scale: f64) -> bool {
    a == b
        || (a.is_nan() && b.is_nan())
        || !(a.is_finite() && b.is_finite())
        || (a - b).abs() <= 1e-12 * scale.max(a.abs()).max(b.abs())
        || scale.is_infinite()
}

/// Whether a product of partials left the range where f64 keeps relative
/// accuracy (it under- or overflowed, or came near): then the modes, which
/// multiply the partials in different orders, may legitimately disagree
/// (reverse mode's adjoint can underflow where forward mode's tangent does not).
fn out_of_range(magnitude: f64, terms_nonzero: bool) -> bool {
    (magnitude == 0.0 && terms_nonzero) || (magnitude != 0.0 && !(1e-280..=1e280).contains(&magnitude))
}

/// Accumulates `Σ |partial|·magnitude(arg)` and reports range trouble.
fn accumulate(partial: f64, magnitude: f64, sum: &mut f64, trouble: &mut bool) {
    if magnitude != 0.0 && partial != 0.0 {
        let term = partial.abs() * magnitude;
        *trouble |= out_of_range(term, true);
        *sum += term;
    }
}

/// For each output, the sum over all paths from input `j` of the magnitudes
/// of the products of partials along the path (the scale of the rounding
/// errors any order of summing the chain rule's terms can make), or ∞ where
/// some product along the way left f64's accurate range.
fn path_magnitudes(graph: &chainrule::graph::Graph, j: usize) -> Vec<f64> {
    let nodes = graph.nodes();
    let mut magnitude = vec![0.0f64; nodes.len()];
    let mut trouble = false;
    for (i, node) in nodes.iter().enumerate() {
        magnitude[i] = match node.op {
            chainrule::graph::GraphOp::Input(k) => f64::from(u8::from(k == j)),
            _ => {
                let mut sum = 0.0;
                for (&a, &p) in node.args.iter().zip(&node.partials) {
                    accumulate(p, magnitude[a], &mut sum, &mut trouble);
                }
                sum
            }
        };
    }
    graph.outputs().iter().map(|&o| if trouble { f64::INFINITY } else { magnitude[o] }).collect()
}

/// Whether the backward sweep from output `i` meets a product of partials
/// outside f64's accurate range.
fn adjoints_out_of_range(graph: &chainrule::graph::Graph, i: usize) -> bool {
    let nodes = graph.nodes();
    let mut magnitude = vec![0.0f64; nodes.len()];
    magnitude[graph.outputs()[i]] = 1.0;
    let mut trouble = false;
    for (k, node) in nodes.iter().enumerate().rev() {
        let adjoint = magnitude[k];
        for (&a, &p) in node.args.iter().zip(&node.partials) {
            let mut sum = magnitude[a];
            accumulate(p, adjoint, &mut sum, &mut trouble);
            magnitude[a] = sum;
        }
    }
    trouble
}

fn same_bits(a: f64, b: f64) -> bool {
    a.to_bits() == b.to_bits() || (a.is_nan() && b.is_nan())
}

/// Checks `a` against `b` entry by entry, `scales[k]` bounding the terms
/// summed into entry `k`.
fn check(what: &str, text: &str, point: &[f64], a: &[f64], b: &[f64], scales: &[f64]) {
    assert_eq!(a.len(), b.len(), "{what}: lengths differ for {text:?} at {point:?}");
    for (k, (&x, &y)) in a.iter().zip(b).enumerate() {
        assert!(agree(x, y, scales[k]), "{what}[{k}] differ for {text:?} at {point:?}: {x:e} vs {y:e}");
    }
}

fuzz_target!(|data: &[u8]| {
    if data.len() < 4 || data.len() > 4000 {
        return;
    }
    let (choice, rest) = data.split_at(4);
    let Ok(text) = std::str::from_utf8(rest) else { return };
    let Ok(program) = parse(text) else { return };
    let names: Vec<String> = program.variables().to_vec();
    if names.len() > 12 || program.nodes().len() > 2000 {
        return;
    }
    let point: Vec<f64> = (0..names.len()).map(|k| POINTS[(choice[k % 4] as usize + k) % POINTS.len()]).collect();
    let f = program.bind(&names).expect("a program binds to its own variables");
    let n = point.len();
    let values = f.eval(&point);

    // Values: unchanged by every mode.
    let (forward_values, jf) = chainrule::api::value_and_jacfwd::<f64, 8>(|x| f.eval(x), &point).unwrap();
    let (reverse_values, jr) = chainrule::value_and_jacobian(|x| f.eval(x), &point).unwrap();
    let jr2 = chainrule::jacrev(|x| f.eval(x), &point).unwrap();
    for ((&v, &a), &b) in values.iter().zip(&forward_values).zip(&reverse_values) {
        assert!(same_bits(v, a) && same_bits(v, b), "values of {text:?} at {point:?}: {v:e}, {a:e}, {b:e}");
    }

    // The captured graph: same values, and its own sweeps agree with the library's.
    let graph = capture(|x| f.eval(x), &point).unwrap();
    // Row-major scales of the Jacobian's entries.
    let mut by_input: Vec<Vec<f64>> = (0..n).map(|j| path_magnitudes(&graph, j)).collect();
    for i in 0..values.len() {
        if adjoints_out_of_range(&graph, i) {
            by_input.iter_mut().for_each(|column| column[i] = f64::INFINITY);
        }
    }
    let scales: Vec<f64> = (0..values.len() * n).map(|e| by_input[e % n.max(1)][e / n.max(1)]).collect();
    let in_range = scales.iter().all(|s| s.is_finite());
    check("jacfwd vs jacobian", text, &point, jf.as_slice(), jr.as_slice(), &scales);
    check("jacfwd vs jacrev", text, &point, jf.as_slice(), jr2.as_slice(), &scales);
    for (k, &output) in graph.outputs().iter().enumerate() {
        assert!(same_bits(graph.nodes()[output].value, values[k]), "graph value of {text:?}");
    }
    if n > 0 {
        let mut direction = vec![0.0; n];
        direction[0] = 1.0;
        let tangents = graph.tangents(&direction).unwrap();
        let column: Vec<f64> = graph.outputs().iter().map(|&o| tangents[o]).collect();
        let expected: Vec<f64> = (0..values.len()).map(|i| jf[(i, 0)]).collect();
        check("graph tangents", text, &point, &column, &expected, &by_input[0]);
        let mut seeds = vec![0.0; values.len()];
        seeds[0] = 1.0;
        let trace = graph.trace(Some(&direction), Some(&seeds)).unwrap();
        let _ = trace.table("∂/∂x");
        if graph.len() <= 300 {
            let _ = graph.to_dot(&trace);
            let _ = graph.to_svg(&trace);
        }
    }

    // The recorded program, optimised and not, replayed at the same point
    // and at a shifted one: the same values and Jacobian as running f there.
    for passes in [chainrule::program::Passes::ALL, chainrule::program::Passes::NONE] {
        let program = chainrule::program::record_with(passes, |x| f.eval(x), &point).unwrap();
        let replayed = program.eval(&point).unwrap();
        for (&a, &b) in replayed.iter().zip(&values) {
            assert!(same_bits(a, b), "program value of {text:?} at {point:?}: {a:e} vs {b:e}");
        }
        check("program jacobian", text, &point, program.jacobian(&point).unwrap().as_slice(), jf.as_slice(), &scales);
        let shifted: Vec<f64> = point.iter().map(|v| v * 0.75 + 0.125).collect();
        if let Ok(there) = program.eval(&shifted) {
            let direct = f.eval(&shifted);
            for (&a, &b) in there.iter().zip(&direct) {
                assert!(same_bits(a, b), "program value of {text:?} at {shifted:?}: {a:e} vs {b:e}");
            }
        }
        if n > 0 && in_range {
            let pattern = program.jacobian_sparsity();
            for i in 0..values.len() {
                for j in 0..n {
                    let d = jf[(i, j)];
                    assert!(d == 0.0 || d.is_nan() || pattern.contains(i, j), "pattern of {text:?} misses ({i}, {j})");
                }
            }
            let sparse = program.sparse_jacobian(&point).unwrap().to_dense().expect("a small dense Jacobian");
            check("sparse jacobian", text, &point, sparse.as_slice(), jf.as_slice(), &scales);
        }
    }

    if values.len() == 1 {
        let (value, gradient) = chainrule::value_and_grad(|x| f.eval_one(x), &point).unwrap();
        assert!(same_bits(value, values[0]), "value_and_grad of {text:?}");
        let row_scales: Vec<f64> = (0..n).map(|j| by_input[j][0]).collect();
        check("grad vs jacfwd", text, &point, &gradient, jf.row(0), &row_scales);
        if n <= 8 && in_range {
            let (v2, g2, h) = chainrule::value_grad_hessian(|x| f.eval_one(x), &point).unwrap();
            assert!(same_bits(v2, values[0]), "hessian's value of {text:?}");
            check("hessian's gradient", text, &point, &g2, &gradient, &row_scales);
            // Second-order terms have no path magnitudes here: the largest
            // entry, or the first-order paths' magnitude where the entries
            // cancel (d − d³ + d³ has Hessian 0, which one order of summing
            // gives exactly and another as 6d·ε), scales the rounding.
            let largest = h.as_slice().iter().filter(|v| v.is_finite()).fold(0.0f64, |m, v| m.max(v.abs()));
            let first_order = row_scales.iter().filter(|v| v.is_finite()).fold(0.0f64, |m, v| m.max(*v));
            let hessian_scales = vec![largest.max(first_order); n * n];
            let program = chainrule::program::record(|x| f.eval_one(x), &point).unwrap();
            let sparse = program.sparse_hessian(&point).unwrap().to_dense().expect("a small dense Hessian");
            check("sparse hessian", text, &point, sparse.as_slice(), h.as_slice(), &hessian_scales);
            check("program hessian", text, &point, program.hessian(&point).unwrap().as_slice(), h.as_slice(), &hessian_scales);
            for j in 0..n {
                let mut e = vec![0.0; n];
                e[j] = 1.0;
                let hv = chainrule::hvp(|x| f.eval_one(x), &point, &e).unwrap();
                let column: Vec<f64> = (0..n).map(|i| h[(i, j)]).collect();
                check("hvp vs hessian", text, &point, &hv, &column, &hessian_scales[..n]);
            }
        }
    }
});

//! Fused elementwise kernels against the unfused tape: random chains of
//! elementwise operations (shared intermediates, slices and reshapes read in
//! place, single numbers, values asked for midway), recorded on a fusing tape and on
//! `TensorTape::unfused`, give the same value bits and gradients equal to
//! 1e-12; the fused gradients also pass gradcheck.

use chainrule::rules::{Binary, Unary};
use chainrule::tensor::nn::SplitMix64;
use chainrule::tensor::{Array, Tensor, TensorError, TensorTape, gradcheck};

/// Long enough to cross several fused blocks and end in a partial one.
const LEN: usize = 2 * 1024 + 333;

/// A recipe for a random elementwise program, replayable on any tape.
#[derive(Clone, Debug)]
enum Step {
    Unary(Unary, usize),
    Binary(Binary, usize, usize),
    Scale(f64, usize),
    Offset(f64, usize),
    /// Times the learnable single number (input 2).
    TimesScalar(usize),
    /// Store this node's value now (as a caller reading it would).
    Read(usize),
    /// The node as a row, `[1, LEN]` (a view of its stored value).
    Row(usize),
}

fn random_program(seed: u64, steps: usize) -> Vec<Step> {
    let mut rng = SplitMix64::new(seed);
    let mut pick = |n: usize| ((rng.uniform() * n as f64) as usize).min(n - 1);
    let unary = [
        Unary::Sin,
        Unary::Cos,
        Unary::Tanh,
        Unary::Sigmoid,
        Unary::Atan,
        Unary::Softplus,
    ];
    let binary = [Binary::Add, Binary::Sub, Binary::Mul, Binary::Max, Binary::Hypot];
    // Nodes 0 and 1 are the two slices of input 0; node 2 is input 1.
    let mut program = Vec::new();
    let mut nodes = 3;
    for _ in 0..steps {
        let step = match pick(10) {
            0..=3 => Step::Unary(unary[pick(unary.len())], pick(nodes)),
            4..=6 => {
                let a = pick(nodes);
                // Now and then a node with itself (x·x and the like).
                let b = if pick(5) == 0 { a } else { pick(nodes) };
                Step::Binary(binary[pick(binary.len())], a, b)
            }
            7 => Step::Scale(0.5 + pick(4) as f64 * 0.25, pick(nodes)),
            8 => Step::Offset(pick(3) as f64 - 1.0, pick(nodes)),
            _ => match pick(3) {
                0 => Step::TimesScalar(pick(nodes)),
                1 => Step::Row(pick(nodes)),
                _ => Step::Read(pick(nodes)),
            },
        };
        if !matches!(step, Step::Read(_)) {
            nodes += 1;
        }
        program.push(step);
    }
    program
}

/// Runs `program` on `tape` over inputs `[v (LEN + 1), w (LEN), s (a
/// single number)]`; the loss is the sum of the last few nodes.
fn run<'t>(program: &[Step], inputs: &[Tensor<'t, f64>]) -> Result<Tensor<'t, f64>, TensorError> {
    let v = inputs[0];
    let mut nodes = vec![v.slice(0, 0, LEN)?, v.slice(0, 1, LEN + 1)?, inputs[1]];
    for step in program {
        let node = match *step {
            Step::Unary(op, a) => nodes[a].unary(op),
            Step::Binary(op, a, b) => nodes[a].binary(op, &nodes[b])?,
            Step::Scale(k, a) => nodes[a].scale(k),
            Step::Offset(k, a) => nodes[a].offset(k),
            Step::TimesScalar(a) => nodes[a].mul(&inputs[2])?,
            Step::Row(a) => nodes[a].reshape(vec![1, LEN])?,
            Step::Read(a) => {
                nodes[a].value();
                continue;
            }
        };
        nodes.push(node);
    }
    let tail = &nodes[nodes.len().saturating_sub(3)..];
    let mut loss = tail[0].sum();
    for t in &tail[1..] {
        loss = loss.add(&t.sum())?;
    }
    Ok(loss)
}

fn inputs(seed: u64) -> Vec<Array<f64>> {
    let mut rng = SplitMix64::new(seed);
    let mut array = |shape: Vec<usize>| {
        let len = shape.iter().product();
        Array::new(shape, (0..len).map(|_| rng.uniform() * 2.0 - 1.0).collect()).unwrap()
    };
    vec![array(vec![LEN + 1]), array(vec![LEN]), array(vec![])]
}

/// The loss value and every input's gradient on one tape.
fn value_and_gradients(tape: &TensorTape<f64>, program: &[Step], arrays: &[Array<f64>]) -> (f64, Vec<Array<f64>>) {
    let tensors: Vec<Tensor<'_, f64>> = arrays.iter().map(|a| tape.input(a.clone())).collect();
    let loss = run(program, &tensors).unwrap();
    let gradients = tape.backward(&loss).unwrap();
    let value = loss.value().data()[0];
    (value, tensors.iter().map(|t| gradients.of(t)).collect())
}

#[track_caller]
fn assert_close(fused: &Array<f64>, unfused: &Array<f64>, what: &str) {
    assert_eq!(fused.shape(), unfused.shape(), "{what}");
    for (i, (&a, &b)) in fused.data().iter().zip(unfused.data()).enumerate() {
        let error = (a - b).abs() / b.abs().max(1.0);
        assert!(
            error <= 1e-12 || (a.is_nan() && b.is_nan()),
            "{what}[{i}]: fused {a:e}, unfused {b:e}"
        );
    }
}

#[test]
fn random_fused_programs_match_the_unfused_tape() {
    for seed in 0..40 {
        let program = random_program(seed, 6 + (seed as usize % 20));
        let arrays = inputs(1000 + seed);
        let (fused_value, fused) = value_and_gradients(&TensorTape::new(), &program, &arrays);
        let (unfused_value, unfused) = value_and_gradients(&TensorTape::unfused(), &program, &arrays);
        assert_eq!(
            fused_value.to_bits(),
            unfused_value.to_bits(),
            "seed {seed}: values differ ({fused_value:e} and {unfused_value:e}) for {program:?}"
        );
        for (k, (f, u)) in fused.iter().zip(&unfused).enumerate() {
            assert_close(
                f,
                u,
                &format!("seed {seed}, gradient of input {k}, program {program:?}"),
            );
        }
    }
}

#[test]
fn fused_programs_pass_gradcheck() {
    for seed in 0..6 {
        let program = random_program(seed, 10);
        let report = gradcheck(|x| run(&program, x), &inputs(2000 + seed), 1e-6).unwrap();
        assert!(
            report.passed,
            "seed {seed}: worst {:?} (error {:e}) for {program:?}",
            report.worst, report.max_error
        );
    }
}

#[test]
fn a_value_read_after_the_sweep_is_the_value_read_before() {
    let arrays = inputs(7);
    let program = random_program(7, 12);
    let before = {
        let tape = TensorTape::new();
        let tensors: Vec<_> = arrays.iter().map(|a| tape.input(a.clone())).collect();
        let loss = run(&program, &tensors).unwrap();
        let value = loss.value().data()[0];
        tape.backward(&loss).unwrap();
        value
    };
    let (after, _) = value_and_gradients(&TensorTape::new(), &program, &arrays);
    assert_eq!(before.to_bits(), after.to_bits());
}

#[test]
fn fused_sweeps_keep_the_strong_zero() {
    // 0 · exp(800): the partial of exp is ∞ where its adjoint is 0; the
    // chain rule's strong zero makes the product 0, not NaN.
    let x = Array::new(
        vec![LEN],
        (0..LEN).map(|i| if i % 7 == 0 { 800.0 } else { 0.5 }).collect(),
    )
    .unwrap();
    let gradient = |tape: &TensorTape<f64>| {
        let t = tape.input(x.clone());
        let zero = tape.constant(Array::scalar(0.0));
        let loss = t.unary(Unary::Exp).mul(&zero).unwrap().add(&t).unwrap().sum();
        tape.backward(&loss).unwrap().of(&t)
    };
    let (fused, unfused) = (gradient(&TensorTape::new()), gradient(&TensorTape::unfused()));
    assert!(fused.data().iter().all(|&g| g == 1.0));
    let bits = |a: &Array<f64>| a.data().iter().map(|v| v.to_bits()).collect::<Vec<_>>();
    assert_eq!(bits(&fused), bits(&unfused));
}

#[test]
fn long_chains_are_split_into_bounded_groups() {
    let x = inputs(3).swap_remove(1);
    let chain = |tape: &TensorTape<f64>| {
        let t = tape.input(x.clone());
        let mut y = t;
        for k in 0..500 {
            y = if k % 2 == 0 {
                y.unary(Unary::Sin)
            } else {
                y.add(&t).unwrap().scale(0.5)
            };
        }
        let loss = y.sum();
        let gradient = tape.backward(&loss).unwrap().of(&t);
        (loss.value().data()[0], gradient)
    };
    let (fused, unfused) = (chain(&TensorTape::new()), chain(&TensorTape::unfused()));
    assert_eq!(fused.0.to_bits(), unfused.0.to_bits());
    assert_close(&fused.1, &unfused.1, "gradient through 750 operations");
}

#[test]
fn the_graph_picture_marks_fused_groups() {
    let tape = TensorTape::<f64>::new();
    let x = tape.input(Array::zeros(vec![4]));
    let w = tape.input(Array::zeros(vec![4, 2]));
    let h = x.unary(Unary::Tanh).mul(&x).unwrap();
    let _ = h
        .reshape(vec![1, 4])
        .unwrap()
        .matmul(&w)
        .unwrap()
        .unary(Unary::Sin)
        .sum();
    let dot = tape.to_dot();
    // The product was stored for the reshape (its kernel computed tanh on
    // the way, so tanh is never stored); sin and the sum are not stored.
    assert!(dot.contains(r#"t2 = tanh(t0)\nshape [4]\nfused group 1""#), "{dot}");
    assert!(dot.contains(r#"t3 = *(t2, t0)\nshape [4]""#), "{dot}");
    assert!(dot.contains(r#"t6 = sin(t5)\nshape [1, 2]\nfused group 2""#), "{dot}");
    assert!(dot.contains(r#"t7 = sum(t6)\nshape []\nfused group 2""#), "{dot}");
}

#[test]
fn matrix_products_read_transposes_through_strides() {
    let mut rng = SplitMix64::new(11);
    let mut array = |shape: Vec<usize>| {
        let len = shape.iter().product();
        Array::new(shape, (0..len).map(|_| rng.uniform() - 0.5).collect()).unwrap()
    };
    let (a, b) = (array(vec![2, 7, 5]), array(vec![2, 3, 7]));
    let run = |tape: &TensorTape<f64>| {
        let (x, y) = (tape.input(a.clone()), tape.input(b.clone()));
        // xᵀ·yᵀ and (y·x)ᵀ: [2, 5, 3] both, transposes on either side.
        let left = x.transpose().unwrap().matmul(&y.transpose().unwrap()).unwrap();
        let right = y.matmul(&x).unwrap().transpose().unwrap();
        let loss = left.mul(&right).unwrap().unary(Unary::Sin).sum();
        let gradients = tape.backward(&loss).unwrap();
        (loss.value().data()[0], gradients.of(&x), gradients.of(&y), left.value())
    };
    let (fused, unfused) = (run(&TensorTape::new()), run(&TensorTape::unfused()));
    assert_eq!(fused.0.to_bits(), unfused.0.to_bits());
    assert_eq!(fused.3.data(), unfused.3.data());
    assert_close(&fused.1, &unfused.1, "gradient of x");
    assert_close(&fused.2, &unfused.2, "gradient of y");
    let report = gradcheck(
        |t| Ok(t[0].transpose()?.matmul(&t[1].transpose()?)?.unary(Unary::Tanh).sum()),
        &[a.clone(), b.clone()],
        1e-6,
    )
    .unwrap();
    assert!(report.passed, "worst {:?} (error {:e})", report.worst, report.max_error);
    // A mismatch names the arguments' own (transposed) shapes.
    let tape = TensorTape::new();
    let x = tape.input(a.clone());
    let xt = x.transpose().unwrap();
    match xt.matmul(&xt) {
        Err(TensorError::ShapeMismatch { left, right, .. }) => {
            assert_eq!((left, right), (vec![2, 5, 7], vec![2, 5, 7]));
        }
        other => panic!("expected a shape mismatch, got {:?}", other.map(|t| t.shape())),
    }
}

#[test]
fn short_arrays_and_single_numbers_fuse_too() {
    for len in [0, 1, 3, 17] {
        let x = Array::new(vec![len], (0..len).map(|i| 0.3 + 0.1 * i as f64).collect()).unwrap();
        let run = |tape: &TensorTape<f64>| {
            let t = tape.input(x.clone());
            let y = t.unary(Unary::Sin).mul(&t).unwrap().offset(0.5).unary(Unary::Tanh);
            let loss = y.add(&t).unwrap().mean();
            let gradient = tape.backward(&loss).unwrap().of(&t);
            (loss.value().data()[0], gradient)
        };
        let (fused, unfused) = (run(&TensorTape::new()), run(&TensorTape::unfused()));
        assert_eq!(fused.0.to_bits(), unfused.0.to_bits(), "length {len}");
        assert_close(&fused.1, &unfused.1, &format!("gradient, length {len}"));
    }
}

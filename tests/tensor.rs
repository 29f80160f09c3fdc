//! Tensor-level reverse mode: every operation against finite differences
//! (gradcheck), shapes with broadcasting and size-1 axes, agreement with the
//! scalar tape, and clear errors.

use chainrule::rules::{Binary, Unary};
use chainrule::tensor::nn::SplitMix64;
use chainrule::tensor::{Array, Tensor, TensorError, TensorTape, gradcheck};
use chainrule::{Recording, Var};
use num_traits::Float;

/// Random arrays from the library's seeded generator, so failures reproduce.
struct Rng(SplitMix64);

impl Rng {
    fn array(&mut self, shape: &[usize], low: f64, high: f64) -> Array<f64> {
        let len = shape.iter().product();
        Array::new(
            shape.to_vec(),
            (0..len).map(|_| low + (high - low) * self.0.uniform()).collect(),
        )
        .unwrap()
    }
}

/// A generator for one test.
fn rng(seed: u64) -> Rng {
    Rng(SplitMix64::new(seed))
}

type TensorFn = for<'t> fn(&[Tensor<'t, f64>]) -> Result<Tensor<'t, f64>, TensorError>;

#[track_caller]
fn check(
    name: &str,
    f: impl for<'t> Fn(&[Tensor<'t, f64>]) -> Result<Tensor<'t, f64>, TensorError>,
    inputs: &[Array<f64>],
) {
    let report = gradcheck(f, inputs, 1e-6).unwrap_or_else(|e| panic!("{name}: {e}"));
    assert!(
        report.passed,
        "{name}: gradcheck failed, worst {:?} (error {:e})",
        report.worst, report.max_error
    );
}

/// Input range inside each unary function's domain (and away from jumps).
fn domain(op: Unary) -> (f64, f64) {
    match op {
        Unary::Acosh => (1.2, 3.0),
        Unary::Round => (0.6, 0.9),
        Unary::Relu => (-1.0, -0.1),
        _ => (0.15, 0.85),
    }
}

#[test]
fn every_unary_rule_elementwise() {
    let mut rng = rng(1);
    // Every operation of the table (stop_gradient's derivative is 0 by
    // design, not the finite difference, so it has its own tests), and
    // powers beyond the listed one.
    let mut ops: Vec<Unary> = Unary::ALL
        .iter()
        .copied()
        .filter(|&op| op != Unary::StopGradient)
        .collect();
    ops.extend([Unary::Powi(3), Unary::Powi(-2)]);
    ops.push(Unary::Relu);
    for op in ops {
        let (low, high) = domain(op);
        for shape in [vec![5], vec![2, 3], vec![1, 4, 1]] {
            let x = rng.array(&shape, low, high);
            // Weighted sum so every element's gradient differs.
            let w = rng.array(&shape, 0.5, 1.5);
            check(op.name(), move |t| Ok(t[0].unary(op).mul(&t[1])?.sum()), &[x, w]);
        }
    }
    // relu on positive inputs has slope 1
    let x = rng.array(&[4], 0.1, 1.0);
    check("relu+", |t| Ok(t[0].relu().sum()), &[x]);
}

#[test]
fn every_binary_rule_with_broadcasting() {
    let mut rng = rng(2);
    let shapes: [(&[usize], &[usize]); 5] = [
        (&[2, 3], &[2, 3]),
        (&[2, 3], &[3]),
        (&[4, 1], &[1, 5]),
        (&[2, 1, 3], &[4, 3]),
        (&[1], &[3, 2]),
    ];
    let ops = [
        (Binary::Add, (-1.0, 1.0), (-1.0, 1.0)),
        (Binary::Sub, (-1.0, 1.0), (-1.0, 1.0)),
        (Binary::Mul, (-1.0, 1.0), (-1.0, 1.0)),
        (Binary::Div, (-1.0, 1.0), (0.5, 2.0)),
        (Binary::Powf, (0.5, 2.0), (-1.5, 1.5)),
        (Binary::Log, (0.5, 3.0), (1.5, 4.0)),
        (Binary::Atan2, (-1.0, 1.0), (0.5, 2.0)),
        (Binary::Hypot, (0.2, 1.0), (0.2, 1.0)),
        (Binary::Max, (0.0, 1.0), (2.0, 3.0)),
        (Binary::Min, (0.0, 1.0), (2.0, 3.0)),
        (Binary::Rem, (2.1, 2.9), (1.0, 1.05)),
    ];
    for (op, (a_low, a_high), (b_low, b_high)) in ops {
        for (sa, sb) in shapes {
            let a = rng.array(sa, a_low, a_high);
            let b = rng.array(sb, b_low, b_high);
            check(
                op.name(),
                move |t| Ok(t[0].binary(op, &t[1])?.unary(Unary::Sin).sum()),
                &[a, b],
            );
        }
    }
}

#[test]
fn structural_operations() {
    let mut rng = rng(3);
    let cases: Vec<(&str, TensorFn, Vec<Array<f64>>)> = vec![
        (
            "matmul",
            |t| Ok(t[0].matmul(&t[1])?.unary(Unary::Tanh).sum()),
            vec![rng.array(&[3, 4], -1.0, 1.0), rng.array(&[4, 2], -1.0, 1.0)],
        ),
        (
            "batched matmul",
            |t| Ok(t[0].matmul(&t[1])?.unary(Unary::Sin).sum()),
            vec![rng.array(&[2, 3, 4], -1.0, 1.0), rng.array(&[2, 4, 1], -1.0, 1.0)],
        ),
        (
            "sum_axis 0",
            |t| Ok(t[0].sum_axis(0)?.unary(Unary::Exp).sum()),
            vec![rng.array(&[3, 2, 2], -1.0, 1.0)],
        ),
        (
            "sum_axis 1",
            |t| Ok(t[0].sum_axis(1)?.unary(Unary::Exp).sum()),
            vec![rng.array(&[3, 2, 2], -1.0, 1.0)],
        ),
        (
            "sum_axis 2",
            |t| Ok(t[0].sum_axis(2)?.unary(Unary::Exp).sum()),
            vec![rng.array(&[3, 2, 2], -1.0, 1.0)],
        ),
        (
            "mean",
            |t| Ok(t[0].unary(Unary::Sin).mean()),
            vec![rng.array(&[2, 5], -1.0, 1.0)],
        ),
        (
            "reshape",
            |t| Ok(t[0].reshape(vec![3, 2])?.matmul(&t[1])?.sum()),
            vec![rng.array(&[2, 3], -1.0, 1.0), rng.array(&[2, 2], -1.0, 1.0)],
        ),
        (
            "transpose",
            |t| Ok(t[0].transpose()?.matmul(&t[1])?.unary(Unary::Sin).sum()),
            vec![rng.array(&[3, 2], -1.0, 1.0), rng.array(&[3, 2], -1.0, 1.0)],
        ),
        (
            "log_softmax",
            |t| Ok(t[0].log_softmax().mul(&t[1])?.sum()),
            vec![rng.array(&[3, 4], -2.0, 2.0), rng.array(&[3, 4], 0.0, 1.0)],
        ),
        (
            "softmax",
            |t| Ok(t[0].softmax().mul(&t[1])?.sum()),
            vec![rng.array(&[2, 5], -2.0, 2.0), rng.array(&[2, 5], 0.0, 1.0)],
        ),
        (
            "cross_entropy",
            |t| t[0].cross_entropy(&[2, 0, 3]),
            vec![rng.array(&[3, 4], -2.0, 2.0)],
        ),
        (
            "mse",
            |t| t[0].mse(&t[1]),
            vec![rng.array(&[4, 2], -1.0, 1.0), rng.array(&[4, 2], -1.0, 1.0)],
        ),
        (
            "overlapping slices of a middle axis",
            |t| {
                let (a, b) = (t[0].slice(1, 0, 3)?, t[0].slice(1, 1, 4)?);
                Ok(a.mul(&b)?.unary(Unary::Sin).add(&t[0].slice(1, 2, 3)?)?.sum())
            },
            vec![rng.array(&[2, 4, 3], -1.0, 1.0)],
        ),
        (
            "a tensor with itself",
            |t| {
                let square = t[0].mul(&t[0])?;
                let angle = t[0].binary(Binary::Atan2, &t[0])?;
                Ok(square.add(&angle)?.mul(&t[0].div(&t[0])?)?.unary(Unary::Sin).sum())
            },
            vec![rng.array(&[3, 2], 0.5, 1.5)],
        ),
    ];
    for (name, f, inputs) in cases {
        check(name, f, &inputs);
    }
}

/// Rosenbrock on slices of one array (the `x[1:] - x[:-1]²` form array code
/// writes) against its hand-written gradient.
#[test]
fn rosenbrock_on_slices_matches_the_closed_form() {
    let n = 1000;
    let x: Vec<f64> = (0..n).map(|i| 0.5 + 0.3 * (i as f64 * 0.37).sin()).collect();
    let tape = TensorTape::new();
    let v = tape.input(Array::new(vec![n], x.clone()).unwrap());
    let (head, tail) = (v.slice(0, 0, n - 1).unwrap(), v.slice(0, 1, n).unwrap());
    let a = tail.sub(&head.mul(&head).unwrap()).unwrap();
    let b = head.scale(-1.0).offset(1.0);
    let loss = a.mul(&a).unwrap().scale(100.0).add(&b.mul(&b).unwrap()).unwrap().sum();
    let gradient = tape.backward(&loss).unwrap().of(&v);
    let mut expected = vec![0.0; n];
    for i in 0..n - 1 {
        let (a, b) = (x[i + 1] - x[i] * x[i], 1.0 - x[i]);
        expected[i] += -400.0 * a * x[i] - 2.0 * b;
        expected[i + 1] += 200.0 * a;
    }
    for (got, want) in gradient.data().iter().zip(&expected) {
        assert!(
            (got - want).abs() <= 1e-12 * want.abs().max(1.0),
            "{got} against {want}"
        );
    }
}

/// A 4-3-2 perceptron with tanh and a mean-squared-error loss, written on
/// scalar tape variables.
fn scalar_mlp(params: &[Var<f64>], x: &[f64], y: &[f64]) -> Var<f64> {
    let (w1, rest) = params.split_at(12);
    let (b1, rest) = rest.split_at(3);
    let (w2, b2) = rest.split_at(6);
    let mut loss = Var::constant(0.0);
    for (row, target) in x.chunks(4).zip(y.chunks(2)) {
        let hidden: Vec<Var<f64>> = (0..3)
            .map(|j| ((0..4).map(|i| w1[i * 3 + j] * row[i]).sum::<Var<f64>>() + b1[j]).tanh())
            .collect();
        for k in 0..2 {
            let out = (0..3).map(|j| hidden[j] * w2[j * 2 + k]).sum::<Var<f64>>() + b2[k];
            let d = out - target[k];
            loss += d * d;
        }
    }
    loss / (y.len() as f64)
}

#[test]
fn tensor_and_scalar_tapes_agree_on_a_small_mlp() {
    let mut rng = rng(4);
    let x = rng.array(&[3, 4], -1.0, 1.0);
    let y = rng.array(&[3, 2], -1.0, 1.0);
    let w1 = rng.array(&[4, 3], -0.5, 0.5);
    let b1 = rng.array(&[3], -0.5, 0.5);
    let w2 = rng.array(&[3, 2], -0.5, 0.5);
    let b2 = rng.array(&[2], -0.5, 0.5);

    let tape = TensorTape::new();
    let [tx, ty, tw1, tb1, tw2, tb2] = [&x, &y, &w1, &b1, &w2, &b2].map(|a| tape.input(a.clone()));
    let hidden = tx.matmul(&tw1).unwrap().add(&tb1).unwrap().unary(Unary::Tanh);
    let out = hidden.matmul(&tw2).unwrap().add(&tb2).unwrap();
    let loss = out.mse(&ty).unwrap();
    let grads = tape.backward(&loss).unwrap();

    let params: Vec<f64> = [&w1, &b1, &w2, &b2].iter().flat_map(|a| a.data().to_vec()).collect();
    let rec = Recording::<f64>::new();
    let vars = rec.inputs(&params);
    let scalar_loss = scalar_mlp(&vars, x.data(), y.data());
    let scalar_grad = rec.gradient(scalar_loss).unwrap();

    assert!((scalar_loss.value() - loss.value().data()[0]).abs() <= 1e-12);
    let tensor_grad: Vec<f64> = [&tw1, &tb1, &tw2, &tb2]
        .iter()
        .flat_map(|t| grads.of(t).data().to_vec())
        .collect();
    for (k, (a, b)) in scalar_grad.iter().zip(&tensor_grad).enumerate() {
        assert!(
            (a - b).abs() <= 1e-12 * a.abs().max(1.0),
            "parameter {k}: scalar {a} vs tensor {b}"
        );
    }
}

#[test]
fn shape_errors_name_both_shapes() {
    let tape = TensorTape::<f64>::new();
    let a = tape.input(Array::zeros(vec![2, 3]));
    let b = tape.input(Array::zeros(vec![2]));
    let err = a.add(&b).err().unwrap();
    assert_eq!(err.to_string(), "+: shapes [2, 3] and [2] do not fit together");
    let err = a.matmul(&a).err().unwrap();
    assert_eq!(err.to_string(), "matmul: shapes [2, 3] and [2, 3] do not fit together");
    assert_eq!(
        a.cross_entropy(&[0, 5]).err(),
        Some(TensorError::ClassOutOfRange { class: 5, classes: 3 })
    );
    assert!(matches!(
        a.cross_entropy(&[0]).err(),
        Some(TensorError::ShapeMismatch { left, right, .. }) if left == [2, 3] && right == [1]
    ));
    let err = tape.backward(&a).err().unwrap();
    assert_eq!(
        err,
        TensorError::NotScalar {
            op: "backward",
            shape: vec![2, 3]
        }
    );
    assert!(err.to_string().contains("scalar output"), "{err}");
    assert!(a.reshape(vec![4]).is_err());
    assert!(b.transpose().is_err());
    let err = a.slice(1, 2, 5).err().unwrap();
    assert_eq!(err.to_string(), "range 2..5 does not fit axis 1 of shape [2, 3]");
    assert_eq!(
        Tensor::<f64>::concat(&[], 0).err(),
        Some(TensorError::NoParts { op: "concat" })
    );
    let empty = tape.input(Array::zeros(vec![2, 0]));
    assert!(matches!(
        empty.max_axis(1).err(),
        Some(TensorError::EmptyAxis { axis: 1, .. })
    ));
    let err = Tensor::concat(&[a, b], 0).err().unwrap();
    assert_eq!(err.to_string(), "concat: shapes [2, 3] and [2] do not fit together");
    assert!(a.max_axis(3).is_err());
    let other = TensorTape::<f64>::new();
    let c = other.input(Array::zeros(vec![2, 3]));
    assert!(matches!(a.add(&c).err(), Some(TensorError::ForeignTensor { .. })));
    assert_eq!(
        other.backward(&a.sum()).err(),
        Some(TensorError::ForeignTensor { op: "backward" })
    );
}

#[test]
fn f32_tensors_work_too() {
    let tape = TensorTape::<f32>::new();
    let x = tape.input(Array::new(vec![2, 2], vec![1.0f32, 2.0, 3.0, 4.0]).unwrap());
    let loss = x.matmul(&x).unwrap().sum();
    let g = tape.backward(&loss).unwrap().of(&x);
    // d/dX Σ(X·X) = 1·Xᵀ + Xᵀ·1
    assert_eq!(g.data(), &[7.0, 11.0, 9.0, 13.0]);
}

/// Resident memory in KiB, where /proc tells it.
fn resident_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

#[test]
fn ten_thousand_training_steps_do_not_grow_memory() {
    use chainrule::tensor::nn::{Activation, Mlp, Optimizer, Sgd};
    let mut rng = rng(5);
    let x = rng.array(&[16, 8], -1.0, 1.0);
    let labels: Vec<usize> = (0..16).map(|k| k % 3).collect();
    let mut mlp = Mlp::<f64>::new(&[8, 16, 3], Activation::Gelu, 1);
    let mut sgd = Sgd::new(0.05, 0.9);
    let mut tape = TensorTape::new();
    let mut step = |tape: &mut TensorTape<f64>| {
        tape.clear();
        let (logits, params) = mlp.forward(tape, tape.input(x.clone())).unwrap();
        let loss = logits.cross_entropy(&labels).unwrap();
        let grads = tape.backward(&loss).unwrap();
        let grads: Vec<Array<f64>> = params.iter().map(|p| grads.of(p)).collect();
        sgd.step(&mut mlp.parameters_mut(), &grads).unwrap();
        loss.value().data()[0]
    };
    let first = step(&mut tape);
    for _ in 0..1_000 {
        step(&mut tape);
    }
    let after_warm_up = resident_kib();
    let mut last = first;
    for _ in 0..9_000 {
        last = step(&mut tape);
    }
    assert!(last < first, "training lowers the loss ({first} → {last})");
    if let (Some(before), Some(after)) = (after_warm_up, resident_kib()) {
        // Allow allocator noise, not growth per step (9,000 steps of even 100 bytes would be 900 KiB).
        assert!(
            after <= before + 512,
            "resident memory grew from {before} KiB to {after} KiB"
        );
    }
}

#[test]
fn tensor_graphs_can_be_drawn() {
    let tape = TensorTape::<f64>::new();
    let x = tape.input(Array::zeros(vec![4, 3]));
    let w = tape.input(Array::zeros(vec![3, 2]));
    let loss = x.matmul(&w).unwrap().relu().cross_entropy(&[0, 1, 0, 1]).unwrap();
    let _ = loss;
    let dot = tape.to_dot();
    for needle in [
        "matmul(t0, t1)\\nshape [4, 2]",
        "relu(t2)\\nshape [4, 2]",
        "log_softmax(t3)",
        "nll_loss(t4)\\nshape []",
    ] {
        assert!(dot.contains(needle), "{needle} missing from\n{dot}");
    }
}

#[test]
fn constants_get_no_gradient_work() {
    let tape = TensorTape::<f64>::new();
    let data = tape.constant(Array::new(vec![2, 2], vec![1.0, 2.0, 3.0, 4.0]).unwrap());
    let w = tape.input(Array::new(vec![2, 1], vec![0.5, -1.0]).unwrap());
    let loss = data.matmul(&w).unwrap().sum();
    let grads = tape.backward(&loss).unwrap();
    assert_eq!(grads.of(&w).data(), &[4.0, 6.0]); // column sums of the data
    assert_eq!(
        grads.of(&data).data(),
        &[0.0; 4],
        "a constant's gradient is not computed"
    );
}

#[test]
fn tensor_graphs_draw_as_svg() {
    use chainrule::tensor::nn::{Activation, Mlp};
    let tape = TensorTape::<f32>::new();
    let mlp = Mlp::<f32>::new(&[4, 3, 2], Activation::Relu, 0);
    let (logits, _) = mlp.forward(&tape, tape.constant(Array::zeros(vec![5, 4]))).unwrap();
    let loss = logits.cross_entropy(&[0, 1, 0, 1, 1]).unwrap();
    let svg = tape.to_svg(&[loss]);
    assert!(svg.starts_with("<svg") && svg.ends_with("</svg>\n"));
    for needle in [
        "t0 = constant",
        "t1 = input",
        "matmul(t0, t1)",
        "shape [5, 3]",
        "relu(",
        "nll_loss(",
    ] {
        assert!(svg.contains(needle), "{needle} missing");
    }
    assert_eq!(svg.matches("<rect x=").count(), tape.len());
    std::fs::create_dir_all(concat!(env!("CARGO_MANIFEST_DIR"), "/target")).unwrap();
    std::fs::write(
        concat!(env!("CARGO_MANIFEST_DIR"), "/target/tensor_graph_test.svg"),
        svg,
    )
    .unwrap();
}

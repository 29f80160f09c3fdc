//! Custom elementary functions (`Elementary`, `apply`) in every mode,
//! against the same function written with built-in operations, closed
//! forms and finite differences.

use chainrule::program::record;
use chainrule::{
    Dual, DualN, Elementary, Error, Real, Recording, apply, derivative, grad, hessian, hvp, jacfwd, jacrev, jvp,
};

/// ln(e^a + e^b), stable for large arguments.
#[derive(Clone)]
struct LogAddExp;

impl Elementary<2> for LogAddExp {
    const NAME: &'static str = "logaddexp";
    fn value<T: Real>(&self, [a, b]: [T; 2]) -> T {
        let m = a.max(b);
        m + ((a - m).exp() + (b - m).exp()).ln()
    }
    fn partials<T: Real>(&self, [a, b]: [T; 2]) -> [T; 2] {
        [(a - b).sigmoid(), (b - a).sigmoid()]
    }
}

/// The same with built-in operations only.
fn log_add_exp_composed<T: Real>(a: T, b: T) -> T {
    (a.exp() + b.exp()).ln()
}

/// a·b·c with its product-rule partials: three arguments, some of them
/// constants in the tests.
#[derive(Clone)]
struct Product3;

impl Elementary<3> for Product3 {
    const NAME: &'static str = "product3";
    fn value<T: Real>(&self, [a, b, c]: [T; 3]) -> T {
        a * b * c
    }
    fn partials<T: Real>(&self, [a, b, c]: [T; 3]) -> [T; 3] {
        [b * c, a * c, a * b]
    }
}

/// The real root y of y³ + y = x, by Newton's method, differentiated by
/// the implicit function theorem: dy/dx = 1 / (3y² + 1).
#[derive(Clone)]
struct CubicRoot;

impl Elementary<1> for CubicRoot {
    const NAME: &'static str = "cubic_root";
    fn value<T: Real>(&self, [x]: [T; 1]) -> T {
        let mut y = x / (x.abs() + T::one()).cbrt();
        for _ in 0..60 {
            let step = (y * y * y + y - x) / (T::from(3.0).unwrap() * y * y + T::one());
            y -= step;
        }
        y
    }
    fn partials<T: Real>(&self, [x]: [T; 1]) -> [T; 1] {
        let y = self.value([x]);
        [(T::from(3.0).unwrap() * y * y + T::one()).recip()]
    }
}

fn custom<T: Real>(v: &[T]) -> T {
    apply(&LogAddExp, [v[0] * v[1], v[2].sin()]) + apply(&Product3, [v[0], v[2], T::from(1.5).unwrap()])
}

fn composed<T: Real>(v: &[T]) -> T {
    log_add_exp_composed(v[0] * v[1], v[2].sin()) + v[0] * v[2] * T::from(1.5).unwrap()
}

const POINTS: [[f64; 3]; 3] = [[0.3, -1.2, 0.8], [1.7, 0.4, -2.1], [-0.9, 2.2, 0.05]];

fn assert_close(what: &str, a: &[f64], b: &[f64], tolerance: f64) {
    assert_eq!(a.len(), b.len(), "{what}");
    for (x, y) in a.iter().zip(b) {
        assert!(
            (x - y).abs() <= tolerance * x.abs().max(y.abs()).max(1.0),
            "{what}: {a:?} vs {b:?}"
        );
    }
}

#[test]
fn every_mode_agrees_with_the_composed_function() {
    for x in POINTS {
        let expected = grad(composed, &x).unwrap();
        assert_close("reverse", &grad(custom, &x).unwrap(), &expected, 1e-12);
        let forward = jacfwd(|v| vec![custom(v)], &x).unwrap();
        assert_close("jacfwd", forward.as_slice(), &expected, 1e-12);
        let reverse = jacrev(|v| vec![custom(v)], &x).unwrap();
        assert_close("jacrev", reverse.as_slice(), &expected, 1e-12);
        let direction = [0.5, -1.0, 2.0];
        let along: f64 = expected.iter().zip(direction).map(|(g, d)| g * d).sum();
        assert_close(
            "jvp",
            &jvp(|v| vec![custom(v)], &x, &direction).unwrap().1,
            &[along],
            1e-12,
        );
        let h = hessian(custom, &x).unwrap();
        assert_close(
            "hessian",
            h.as_slice(),
            hessian(composed, &x).unwrap().as_slice(),
            1e-12,
        );
        assert_close(
            "hvp",
            &hvp(custom, &x, &direction).unwrap(),
            &hvp(composed, &x, &direction).unwrap(),
            1e-12,
        );
        // Values are the custom form's own, equal to the composed one here.
        assert_close("value", &[custom(&x)], &[composed(&x)], 1e-15);
    }
}

#[test]
fn forward_and_reverse_agree_with_finite_differences() {
    for x in POINTS {
        let g = grad(custom, &x).unwrap();
        for k in 0..3 {
            let h = 1e-6;
            let (mut up, mut down) = (x, x);
            up[k] += h;
            down[k] -= h;
            let central = (custom(&up) - custom(&down)) / (2.0 * h);
            assert!((g[k] - central).abs() < 1e-7, "∂/∂x{k}: {} vs {central}", g[k]);
        }
    }
}

#[test]
fn constants_and_lanes_that_do_not_move_are_skipped() {
    // Only the middle argument moves: ∂(a·b·c)/∂b = a·c.
    let b = DualN::<f64, 4>::variable(2.0, 3);
    let y = apply(&Product3, [DualN::constant(3.0), b, DualN::constant(-0.5)]);
    assert_eq!((y.value, *y.tangents()), (-3.0, [0.0, 0.0, 0.0, -1.5]));
    let c = apply(
        &Product3,
        [
            DualN::<f64, 2>::constant(1.0),
            DualN::constant(2.0),
            DualN::constant(3.0),
        ],
    );
    assert_eq!((c.value, *c.tangents()), (6.0, [0.0, 0.0]));
    // On the tape, constant arguments get no edge.
    let g = grad(
        |v| apply(&Product3, [v[0], chainrule::Var::constant(4.0), v[1]]),
        &[2.0, 5.0],
    )
    .unwrap();
    assert_eq!(g, vec![20.0, 8.0]);
}

#[test]
fn an_implicit_function_is_differentiated_by_its_stated_rule() {
    for x in [-3.0_f64, -0.2, 0.0, 0.7, 10.0] {
        let y = apply(&CubicRoot, [x]);
        assert!((y * y * y + y - x).abs() < 1e-12, "root of y³ + y = {x}");
        let slope = 1.0 / (3.0 * y * y + 1.0);
        assert!((derivative(|v: Dual<f64>| apply(&CubicRoot, [v]), x) - slope).abs() < 1e-14);
        assert!((grad(|v| apply(&CubicRoot, [v[0]]), &[x]).unwrap()[0] - slope).abs() < 1e-14);
        // y'' = −6·y·y'³ (differentiate 3y²y' + y' = 1), from the partials on duals.
        let curvature = -6.0 * y * slope.powi(3);
        let second = Dual::variable(Dual::variable(x));
        let nested = apply(&CubicRoot, [second]);
        assert!((nested.tangent.tangent - curvature).abs() < 1e-12, "{x}");
        assert!((hessian(|v| apply(&CubicRoot, [v[0]]), &[x]).unwrap()[(0, 0)] - curvature).abs() < 1e-12);
    }
}

#[test]
fn recorded_programs_run_custom_functions_in_every_mode() {
    // Recorded at one point, evaluated and differentiated at the others.
    let program = record(custom, &POINTS[0]).unwrap();
    let text = program.to_string();
    assert!(text.contains("logaddexp(") && text.contains("product3("), "{text}");
    for x in POINTS {
        let (value, gradient) = program.value_and_gradient(&x).unwrap();
        assert_eq!(value, custom(&x), "the program's value is the function's, bit for bit");
        assert_close("program gradient", &gradient, &grad(custom, &x).unwrap(), 1e-15);
        let direction = [0.5, -1.0, 2.0];
        let (_, tangent) = program.jvp(&x, &direction).unwrap();
        let along: f64 = gradient.iter().zip(direction).map(|(g, d)| g * d).sum();
        assert_close("program jvp", &tangent, &[along], 1e-14);
        assert_close(
            "program jacobian",
            program.jacobian(&x).unwrap().as_slice(),
            &gradient,
            1e-15,
        );
        let h = hessian(custom, &x).unwrap();
        assert_close(
            "program hessian",
            program.hessian(&x).unwrap().as_slice(),
            h.as_slice(),
            1e-14,
        );
        let sparse = program.sparse_hessian(&x).unwrap().to_dense().unwrap();
        assert_close("program sparse hessian", sparse.as_slice(), h.as_slice(), 1e-14);
        assert_close(
            "program hvp",
            &program.hvp(&x, &direction).unwrap(),
            &hvp(custom, &x, &direction).unwrap(),
            1e-14,
        );
    }
    // Stated second partials are what a program's Hessian uses too.
    let wrong = CubeStated { scale: 2.0 };
    let cube = record(move |v: &[chainrule::Var<f64>]| apply(&wrong, [v[0]]), &[1.0]).unwrap();
    assert_eq!(cube.hessian(&[1.5]).unwrap()[(0, 0)], 2.0 * 6.0 * 1.5);
}

#[test]
fn program_passes_keep_custom_functions_and_their_arguments() {
    use chainrule::program::{Op, Passes, record_with};
    // Five arguments (more than any built-in operation), one of them a
    // constant; the same application twice is not merged (its rule runs at
    // every point, whatever it does); an unused one is dropped.
    let f = |v: &[chainrule::Var<f64>]| {
        let five = [
            v[0],
            v[1],
            v[0] * v[1],
            chainrule::Var::constant(2.0),
            num_traits::Float::exp(v[1]),
        ];
        let _unused = apply(&LogSumExp5, [v[1], v[0], v[0], v[0], v[0]]);
        apply(&LogSumExp5, five) + apply(&LogSumExp5, five)
    };
    let x = [0.3, -0.8];
    for passes in [Passes::ALL, Passes::NONE] {
        let program = record_with(passes, f, &x).unwrap();
        let customs: Vec<usize> = (0..program.len())
            .filter(|&i| matches!(program.ops()[i], Op::Custom(_)))
            .collect();
        assert_eq!(customs.len(), if passes == Passes::ALL { 2 } else { 3 }, "{program}");
        assert_eq!(program.args(customs[0]).len(), 5);
        let at = [1.1, 0.2];
        let (value, gradient) = program.value_and_gradient(&at).unwrap();
        let (value0, gradient0) = chainrule::value_and_grad(f, &at).unwrap();
        assert_eq!(value, value0);
        assert_close("gradient through five arguments", &gradient, &gradient0, 1e-15);
        let pattern = program.hessian_sparsity();
        assert_eq!(
            pattern.len(),
            4,
            "dense 2 × 2: the custom function is nonlinear in all arguments"
        );
    }
}

/// ln Σ e^xᵢ over five arguments.
#[derive(Clone)]
struct LogSumExp5;

impl Elementary<5> for LogSumExp5 {
    const NAME: &'static str = "logsumexp5";
    fn value<T: Real>(&self, x: [T; 5]) -> T {
        let m = x.iter().copied().fold(T::neg_infinity(), T::max);
        m + x.iter().map(|&v| (v - m).exp()).sum::<T>().ln()
    }
    fn partials<T: Real>(&self, x: [T; 5]) -> [T; 5] {
        let m = x.iter().copied().fold(T::neg_infinity(), T::max);
        let shifted = x.map(|v| (v - m).exp());
        let total: T = shifted.iter().copied().sum();
        shifted.map(|e| e / total)
    }
}

#[test]
fn graph_captures_refuse_custom_functions() {
    let rec = Recording::<f64>::traced();
    let x = rec.inputs(&[1.0, 2.0]);
    let y = apply(&LogAddExp, [x[0], x[1]]);
    let captured = chainrule::graph::Graph::from_recording(&rec, &[y]);
    assert_eq!(captured.unwrap_err(), Error::NotRecordable { operation: "logaddexp" });
    assert!(
        Error::NotRecordable { operation: "logaddexp" }
            .to_string()
            .contains("`logaddexp`"),
        "the message names the function"
    );
}

#[test]
fn the_tensor_tape_applies_custom_functions_elementwise() {
    use chainrule::tensor::{Array, TensorTape};
    let tape = TensorTape::new();
    let data = vec![-3.0, -0.2, 0.0, 0.7, 10.0, 2.0];
    let x = tape.input(Array::new(vec![2, 3], data.clone()).unwrap());
    let w = tape.input(Array::new(vec![2, 3], vec![1.0, 2.0, -1.0, 0.5, 3.0, -2.0]).unwrap());
    // Σ w·y(x): ∂/∂x = w·y'(x), ∂/∂w = y(x), y the root of y³ + y = x.
    let roots = x.map_elementary(&CubicRoot);
    let loss = roots.mul(&w).unwrap().sum();
    let gradients = tape.backward(&loss).unwrap();
    for (i, &xi) in data.iter().enumerate() {
        let y = apply(&CubicRoot, [xi]);
        assert_eq!(roots.value().data()[i], y);
        let slope = grad(|v| apply(&CubicRoot, [v[0]]), &[xi]).unwrap()[0];
        assert_eq!(gradients.of(&x).data()[i], w.value().data()[i] * slope);
        assert_eq!(gradients.of(&w).data()[i], y);
    }
}

/// x³ with its stated second derivative scaled by `scale`: with `scale` 1
/// the true 6x, otherwise a deliberately wrong one that shows where the
/// stated second derivative is used.
#[derive(Clone)]
struct CubeStated {
    scale: f64,
}

impl Elementary<1> for CubeStated {
    const NAME: &'static str = "cube_stated";
    fn value<T: Real>(&self, [x]: [T; 1]) -> T {
        x * x * x
    }
    fn partials<T: Real>(&self, [x]: [T; 1]) -> [T; 1] {
        [T::from(3.0).unwrap() * x * x]
    }
    fn second_partials<T: Real>(&self, [x]: [T; 1]) -> Option<[[T; 1]; 1]> {
        Some([[T::from(6.0 * self.scale).unwrap() * x]])
    }
}

/// The product a·b with its (constant) stated second partials.
#[derive(Clone)]
struct ProductStated;

impl Elementary<2> for ProductStated {
    const NAME: &'static str = "product_stated";
    fn value<T: Real>(&self, [a, b]: [T; 2]) -> T {
        a * b
    }
    fn partials<T: Real>(&self, [a, b]: [T; 2]) -> [T; 2] {
        [b, a]
    }
    fn second_partials<T: Real>(&self, _: [T; 2]) -> Option<[[T; 2]; 2]> {
        Some([[T::zero(), T::one()], [T::one(), T::zero()]])
    }
}

#[test]
fn stated_second_partials_give_every_second_order_mode() {
    let x = 1.5;
    for scale in [1.0, 2.0] {
        let rule = CubeStated { scale };
        let second = 6.0 * scale * x;
        // Reverse over DualN (hessian), reverse over Dual (hvp), Dual over Dual.
        let h = hessian(|v| apply(&rule, [v[0]]), &[x]).unwrap()[(0, 0)];
        let hv = hvp(|v| apply(&rule, [v[0]]), &[x], &[1.0]).unwrap()[0];
        assert_eq!([h, hv], [second, second], "scale {scale}");
        let nested = {
            let inner = Dual::new(Dual::new(x, 1.0), Dual::new(1.0, 0.0));
            apply(&rule, [inner]).tangent.tangent
        };
        assert_eq!(nested, second, "Dual<Dual> at scale {scale}");
        // First derivatives never use the stated second partials.
        assert_eq!(grad(|v| apply(&rule, [v[0]]), &[x]).unwrap(), vec![3.0 * x * x]);
    }
    // Third derivative: the stated second partials run on dual numbers.
    let rule = CubeStated { scale: 1.0 };
    let third = Dual::new(
        Dual::new(Dual::new(x, 1.0), Dual::new(1.0, 0.0)),
        Dual::new(Dual::new(1.0, 0.0), Dual::constant(0.0)),
    );
    assert_eq!(apply(&rule, [third]).tangent.tangent.tangent, 6.0);
}

#[test]
fn stated_second_partials_of_two_arguments_match_the_composed_hessian() {
    let f = |v: &[chainrule::Var<DualN<f64, 8>>]| apply(&ProductStated, [num_traits::Float::sin(v[0]), v[1] * v[0]]);
    let composed = |v: &[chainrule::Var<DualN<f64, 8>>]| num_traits::Float::sin(v[0]) * (v[1] * v[0]);
    let x = [0.4_f64, -1.3];
    let (h, h0) = (hessian(f, &x).unwrap(), hessian(composed, &x).unwrap());
    for i in 0..2 {
        for j in 0..2 {
            let (a, b): (f64, f64) = (h[(i, j)], h0[(i, j)]);
            assert!((a - b).abs() < 1e-15, "H[{i}, {j}] = {} vs {}", h[(i, j)], h0[(i, j)]);
        }
    }
}

//! Every way of nesting chainrule's numbers gives the same second
//! derivatives: forward over forward (`Dual<Dual>`, `DualN<DualN>`), reverse
//! over forward (`Dual<Var>`, `DualN<Var>`), forward over reverse (`Var<Dual>`,
//! `Var<DualN>`, as `hvp` and `hessian` use). Tested where strong zeros and
//! edge conventions matter: at exactly 0, ±0, ±1, and at ±∞ and NaN.

use chainrule::{Dual, DualN, Real, Recording, Var, hessian, hvp};
use num_traits::Float;

/// A named function of one variable.
type Named<T> = (&'static str, fn(T) -> T);

/// Functions of one variable, generic over every number type.
fn functions<T: Real>() -> Vec<Named<T>> {
    vec![
        ("x·x", |x| x * x),
        ("exp(−x²)", |x| (-x * x).exp()),
        ("x·sin(x)", |x| x * x.sin()),
        ("sqrt(x² + 1)", |x| (x * x + T::one()).sqrt()),
        ("x³", |x| x.powi(3)),
        ("x / (1 + x²)", |x| x / (T::one() + x * x)),
        ("tanh(x)", |x| x.tanh()),
        ("|x|·x", |x| x.abs() * x),
        ("max(x, 0)·x", |x| x.max(T::zero()) * x),
        ("atan2(x, 1)", |x| x.atan2(T::one())),
        ("hypot(x, 2)", |x| x.hypot(T::one() + T::one())),
        ("sqrt(x)", |x| x.sqrt()),
        ("x·sqrt(x)", |x| x * x.sqrt()),
        ("0·sqrt(x)", |x| T::zero() * x.sqrt()),
        ("x^2.5", |x| x.powf(T::from(2.5).unwrap())),
        ("exp(x)·x²", |x| x.exp() * x * x),
        ("sigmoid(x)", |x| x.sigmoid()),
        ("softplus(x)", |x| x.softplus()),
        ("softplus(x)·x", |x| x.softplus() * x),
        ("max(x, 0.5)·x", |x| x.max(T::from(0.5).unwrap()) * x),
        ("ln(1 + x²)", |x| (T::one() + x * x).ln()),
        ("x·x·x / (x·x + 1)", |x| x * x * x / (x * x + T::one())),
        ("fma(x, x, x)", |x| x.mul_add(x, x)),
        ("cbrt(x)", |x| x.cbrt()),
        ("1/x", |x| x.recip()),
    ]
}

const POINTS: [f64; 11] = [
    0.0,
    -0.0,
    1.0,
    -1.0,
    0.5,
    -2.0,
    3.0,
    1e-200,
    f64::INFINITY,
    f64::NEG_INFINITY,
    f64::NAN,
];

/// (value, first, second derivative) of `f` at `x` in each nesting.
fn all_nestings(k: usize, x: f64) -> Vec<(&'static str, [f64; 3])> {
    let mut out = Vec::new();

    let f = functions::<Dual<f64>>()[k].1;
    let first = f(Dual::variable(x));

    let f = functions::<Dual<Dual<f64>>>()[k].1;
    let y = f(Dual::new(Dual::new(x, 1.0), Dual::new(1.0, 0.0)));
    out.push(("Dual<Dual>", [y.value.value, y.value.tangent, y.tangent.tangent]));
    out.push(("Dual", [first.value, first.tangent, y.tangent.tangent]));

    let f = functions::<DualN<DualN<f64, 2>, 2>>()[k].1;
    let inner = DualN::<f64, 2>::variable(x, 1);
    let y = f(DualN::new(inner, [DualN::constant(0.0), DualN::constant(1.0)]));
    out.push((
        "DualN<DualN>",
        [y.value.value, y.value.tangents()[1], y.tangents()[1].tangents()[1]],
    ));

    let f = functions::<Dual<Var<f64>>>()[k].1;
    let rec = Recording::<f64>::new();
    let v = rec.input(x);
    let y = f(Dual::new(v, Var::constant(1.0)));
    let second = rec.gradient(y.tangent).unwrap()[0];
    let first_again = rec.gradient(y.value).unwrap()[0];
    out.push(("Dual<Var>", [y.value.value(), y.tangent.value(), second]));
    out.push(("Dual<Var> first by reverse", [y.value.value(), first_again, second]));
    drop(rec);

    let f = functions::<DualN<Var<f64>, 2>>()[k].1;
    let rec = Recording::<f64>::new();
    let v = rec.input(x);
    let y = f(DualN::new(v, [Var::constant(0.0), Var::constant(1.0)]));
    let second = rec.gradient(y.tangents()[1]).unwrap()[0];
    out.push(("DualN<Var>", [y.value.value(), y.tangents()[1].value(), second]));
    drop(rec);

    let f = functions::<Var<Dual<f64>>>()[k].1;
    let rec = Recording::<Dual<f64>>::new();
    let v = rec.input(Dual::new(x, 1.0));
    let y = f(v);
    let g = rec.gradient(y).unwrap()[0];
    out.push(("Var<Dual>", [y.value().value, g.value, g.tangent]));
    drop(rec);

    let f = functions::<Var<DualN<f64, 8>>>()[k].1;
    let rec = Recording::<DualN<f64, 8>>::new();
    let v = rec.input(DualN::variable(x, 5));
    let y = f(v);
    let g = rec.gradient(y).unwrap()[0];
    out.push(("Var<DualN>", [y.value().value, g.value, g.tangents()[5]]));
    drop(rec);

    let f = functions::<Var<DualN<f64, 8>>>()[k].1;
    let h = hessian(|v| f(v[0]), &[x]).unwrap();
    let f = functions::<Var<Dual<f64>>>()[k].1;
    let hv = hvp(|v| f(v[0]), &[x], &[1.0]).unwrap();
    out.push(("hessian / hvp", [out[0].1[0], out[0].1[1], h[(0, 0)]]));
    out.push(("hvp", [out[0].1[0], out[0].1[1], hv[0]]));
    out
}

/// Equal as IEEE values (NaN equal to NaN, 0 equal to −0), or within a few
/// rounding errors: the nestings order their sums differently.
fn agree(a: f64, b: f64) -> bool {
    (a.is_nan() && b.is_nan()) || a == b || (a - b).abs() <= 1e-13 * a.abs().max(b.abs())
}

#[test]
fn every_nesting_gives_the_same_value_slope_and_curvature() {
    let mut failures = Vec::new();
    for (k, (name, _)) in functions::<f64>().into_iter().enumerate() {
        for x in POINTS {
            let results = all_nestings(k, x);
            let (reference_name, reference) = results[0];
            let plain = functions::<f64>()[k].1(x);
            if !agree(plain, reference[0]) {
                failures.push(format!(
                    "{name} at {x}: plain value {plain}, {reference_name} {}",
                    reference[0]
                ));
            }
            for (nesting, result) in &results[1..] {
                for order in 0..3 {
                    if !agree(result[order], reference[order]) {
                        failures.push(format!(
                            "{name} at {x}: derivative {order} is {} in {nesting}, {} in {reference_name}",
                            result[order], reference[order]
                        ));
                    }
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} disagreements:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

fn rosenbrock<T: Real>(x: &[T]) -> T {
    let hundred = T::from(100.0).unwrap();
    x.windows(2)
        .map(|w| (T::one() - w[0]).powi(2) + hundred * (w[1] - w[0] * w[0]).powi(2))
        .sum()
}

/// H·v by reverse over forward: the gradient of the directional derivative.
fn hvp_reverse_over_forward(x: &[f64], v: &[f64]) -> Vec<f64> {
    let rec = Recording::<f64>::new();
    let inputs: Vec<Dual<Var<f64>>> = x
        .iter()
        .zip(v)
        .map(|(&xi, &vi)| Dual::new(rec.input(xi), Var::constant(vi)))
        .collect();
    rec.gradient(rosenbrock(&inputs).tangent).unwrap()
}

#[test]
fn hessian_vector_products_agree_in_every_nesting_at_the_minimum() {
    for x in [[1.0, 1.0, 1.0, 1.0], [0.0, 0.0, 0.0, 0.0], [-1.0, 0.0, 1.0, 0.0]] {
        let h = hessian(rosenbrock, &x).unwrap();
        for j in 0..4 {
            let mut v = [0.0; 4];
            v[j] = 1.0;
            let column: Vec<f64> = (0..4).map(|i| h[(i, j)]).collect();
            assert_eq!(hvp_reverse_over_forward(&x, &v), column, "column {j} at {x:?}");
            assert_eq!(hvp(rosenbrock, &x, &v).unwrap(), column, "column {j} at {x:?}");
        }
    }
    // At (1, 1, 1, 1): H = tridiagonal with 802 (1002 inside), −400 off the diagonal, 200 last.
    let h = hessian(rosenbrock, &[1.0; 4]).unwrap();
    assert_eq!(h.to_rows()[1], vec![-400.0, 1002.0, -400.0, 0.0]);
}

#[test]
fn a_tape_variable_at_zero_is_not_a_constant_zero() {
    // d²(x·x)/dx² = 2 at x = 0, by reverse over forward.
    let rec = Recording::<f64>::new();
    let x = rec.input(0.0);
    let d = Dual::new(x, Var::constant(1.0));
    assert_eq!(rec.gradient((d * d).tangent).unwrap(), vec![2.0]);
    // d²/dx² exp(−x²) = −2 at 0.
    let e = (-d * d).exp();
    assert_eq!(rec.gradient(e.tangent).unwrap(), vec![-2.0]);
}

#[test]
fn reverse_over_forward_records_no_throwaway_nodes() {
    // x·y along (1, 0): value x·y, tangent 1·y + 0·x → one product node, one
    // scaled edge, one sum: three nodes, as the chain rule needs.
    let rec = Recording::<f64>::new();
    let x = Dual::new(rec.input(2.0), Var::constant(1.0));
    let y = Dual::new(rec.input(3.0), Var::constant(0.0));
    let before = rec.len();
    let p = x * y;
    assert_eq!(rec.len() - before, 3);
    assert_eq!(rec.gradient(p.tangent).unwrap(), vec![0.0, 1.0]);
}

//! Sparsity patterns and colourings of recorded programs: patterns never
//! miss a nonzero, colourings are valid, and sparse derivatives equal dense
//! ones. The colour counts of the classic structures are printed and pinned.

use chainrule::expr::parse;
use chainrule::program::{Colouring, Sparsity, record};
use chainrule::tensor::nn::SplitMix64;
use chainrule::{Matrix, Var};
use num_traits::Float;
use proptest::prelude::*;

fn rosenbrock<T: Float>(x: &[T]) -> T {
    let hundred = T::from(100.0).unwrap();
    x.windows(2).fold(T::zero(), |acc, w| {
        acc + hundred * (w[1] - w[0] * w[0]).powi(2) + (T::one() - w[0]).powi(2)
    })
}

/// Σ (x0·xi)²: an arrow-shaped Hessian (row and column 0, and the diagonal).
fn arrow<T: Float>(x: &[T]) -> T {
    x[1..].iter().fold(T::zero(), |acc, &xi| acc + (x[0] * xi).powi(2))
}

/// A discrete Laplacian energy on an m×m grid, Σ (x_right − x)² + Σ
/// (x_below − x)² + Σ x⁴: the Hessian of the 5-point stencil.
fn stencil<T: Float>(x: &[T]) -> T {
    let m = (x.len() as f64).sqrt() as usize;
    let mut energy = T::zero();
    for i in 0..m {
        for j in 0..m {
            let here = x[i * m + j];
            if j + 1 < m {
                energy = energy + (x[i * m + j + 1] - here).powi(2);
            }
            if i + 1 < m {
                energy = energy + (x[(i + 1) * m + j] - here).powi(2);
            }
            energy = energy + here.powi(4);
        }
    }
    energy
}

/// No two columns of one colour share a row.
fn columns_are_orthogonal(pattern: &Sparsity, colouring: &Colouring) -> bool {
    (0..pattern.rows).all(|i| {
        let mut colours: Vec<usize> = pattern.row(i).iter().map(|&j| colouring.colours[j]).collect();
        colours.sort_unstable();
        colours.windows(2).all(|w| w[0] != w[1])
    })
}

/// Adjacent vertices differ, and every path on four vertices uses at least
/// three colours (checked over all such paths).
fn is_star_colouring(pattern: &Sparsity, colouring: &Colouring) -> bool {
    let c = &colouring.colours;
    let neighbours = |v: usize| pattern.row(v).iter().copied().filter(move |&w| w != v);
    for a in 0..pattern.rows {
        for b in neighbours(a) {
            if c[a] == c[b] {
                return false;
            }
            for d in neighbours(b).filter(|&d| d != a) {
                for e in neighbours(d).filter(|&e| e != a && e != b) {
                    if c[a] == c[d] && c[b] == c[e] {
                        return false;
                    }
                }
            }
        }
    }
    true
}

/// Every nonzero of `dense` is in `pattern`.
fn covers(pattern: &Sparsity, dense: &Matrix<f64>) -> bool {
    (0..dense.rows()).all(|i| (0..dense.cols()).all(|j| dense[(i, j)] == 0.0 || pattern.contains(i, j)))
}

fn close(a: &Matrix<f64>, b: &Matrix<f64>) -> bool {
    a.as_slice()
        .iter()
        .zip(b.as_slice())
        .all(|(x, y)| x == y || (x - y).abs() <= 1e-13 * x.abs().max(y.abs()).max(1.0))
}

#[test]
fn tridiagonal_rosenbrock_needs_three_colours() {
    let x: Vec<f64> = (0..200).map(|i| 0.3 + 0.01 * i as f64).collect();
    let program = record(rosenbrock, &x).unwrap();
    let (pattern, colouring) = program.hessian_colouring();
    println!(
        "rosenbrock n = 200: {} Hessian entries, {} colours",
        pattern.len(),
        colouring.count
    );
    assert_eq!(colouring.count, 3);
    assert_eq!(pattern.len(), 200 + 2 * 199);
    assert!(is_star_colouring(pattern, colouring));
    let dense = program.hessian(&x).unwrap();
    assert_eq!(program.sparse_hessian(&x).unwrap().to_dense().unwrap(), dense);
    assert!(covers(pattern, &dense));
}

#[test]
fn an_arrow_needs_two_colours() {
    let x: Vec<f64> = (0..50).map(|i| 1.0 + 0.1 * i as f64).collect();
    let program = record(arrow, &x).unwrap();
    let (pattern, colouring) = program.hessian_colouring();
    println!(
        "arrow n = 50: {} Hessian entries, {} colours",
        pattern.len(),
        colouring.count
    );
    assert_eq!(colouring.count, 2);
    assert!(is_star_colouring(pattern, colouring));
    assert!(close(
        &program.sparse_hessian(&x).unwrap().to_dense().unwrap(),
        &program.hessian(&x).unwrap()
    ));
}

#[test]
fn a_five_point_stencil_needs_few_colours() {
    let m = 12;
    let x: Vec<f64> = (0..m * m).map(|i| ((i * 7) % 11) as f64 * 0.1 - 0.5).collect();
    let program = record(stencil, &x).unwrap();
    let (pattern, colouring) = program.hessian_colouring();
    println!(
        "5-point stencil {m}×{m}: {} Hessian entries, {} colours",
        pattern.len(),
        colouring.count
    );
    assert!(is_star_colouring(pattern, colouring));
    assert!(colouring.count <= 6, "{} colours", colouring.count);
    let dense = program.hessian(&x).unwrap();
    assert!(covers(pattern, &dense));
    assert!(close(&program.sparse_hessian(&x).unwrap().to_dense().unwrap(), &dense));
}

#[test]
fn banded_jacobians_need_as_many_colours_as_their_band() {
    // y_i = x_{i−1} − 2x_i + x_{i+1} (+ x_i³): three diagonals, three colours.
    let f = |x: &[Var<f64>]| {
        (0..x.len())
            .map(|i| {
                let left = if i > 0 { x[i - 1] } else { Var::constant(0.0) };
                let right = if i + 1 < x.len() { x[i + 1] } else { Var::constant(0.0) };
                left - x[i] * 2.0 + right + x[i].powi(3)
            })
            .collect::<Vec<_>>()
    };
    let x: Vec<f64> = (0..100).map(|i| 0.01 * i as f64).collect();
    let program = record(f, &x).unwrap();
    let (pattern, colouring) = program.jacobian_colouring();
    println!(
        "tridiagonal Jacobian n = 100: {} entries, {} colours",
        pattern.len(),
        colouring.count
    );
    assert_eq!(colouring.count, 3);
    assert!(columns_are_orthogonal(pattern, colouring));
    assert_eq!(
        program.sparse_jacobian(&x).unwrap().to_dense().unwrap(),
        program.jacobian(&x).unwrap()
    );
}

/// Random expressions over 5 variables, some of which each term leaves out.
fn text() -> impl Strategy<Value = String> {
    let leaf = prop_oneof![
        Just("a".to_string()),
        Just("b".to_string()),
        Just("c".to_string()),
        Just("d".to_string()),
        Just("e".to_string()),
        (-2.0..2.0f64).prop_map(|c| format!("{c}")),
    ];
    leaf.prop_recursive(3, 12, 2, |inner| {
        prop_oneof![
            inner.clone().prop_map(|a| format!("sin({a})")),
            inner.clone().prop_map(|a| format!("abs({a})")),
            inner.clone().prop_map(|a| format!("({a})^2")),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("({a}) * ({b})")),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("({a}) + ({b})")),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("({a}) / (2 + ({b})^2)")),
            (inner.clone(), inner).prop_map(|(a, b)| format!("max({a}, {b}) - exp({b})")),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    #[test]
    fn patterns_cover_the_nonzeros_and_sparse_equals_dense(
        texts in prop::collection::vec(text(), 1..4),
        seed in 0u64..1000,
    ) {
        let source = texts.join("; ");
        let parsed = parse(&source).unwrap();
        let f = parsed.bind(&["a", "b", "c", "d", "e"]).unwrap();
        let mut rng = SplitMix64::new(seed);
        let mut point = || -> Vec<f64> { (0..5).map(|_| 2.0 * rng.uniform() - 1.0).collect() };
        let program = record(|v| f.eval(v), &point()).unwrap();
        let scalar = record(|v| f.eval_one(v), &point()).unwrap();
        let (jp, jc) = program.jacobian_colouring();
        let (hp, hc) = scalar.hessian_colouring();
        prop_assert!(columns_are_orthogonal(jp, jc));
        prop_assert!(is_star_colouring(hp, hc));
        for _ in 0..3 {
            let x = point();
            let (Ok(j), Ok(h)) = (program.jacobian(&x), scalar.hessian(&x)) else { continue };
            prop_assert!(covers(jp, &j), "{source}: Jacobian pattern misses a nonzero");
            prop_assert!(covers(hp, &h), "{source}: Hessian pattern misses a nonzero");
            prop_assert!(close(&program.sparse_jacobian(&x).unwrap().to_dense().unwrap(), &j), "{source}");
            prop_assert!(close(&scalar.sparse_hessian(&x).unwrap().to_dense().unwrap(), &h), "{source}");
        }
    }
}

#[test]
fn patterns_of_long_running_sums_take_linear_memory() {
    // Rosenbrock's running sum depends on every input: index sets held at
    // every node of it would need n²/2 entries (5·10⁹ here).
    let n = 100_000;
    let program = record(rosenbrock, &vec![0.5; n]).unwrap();
    let (pattern, colouring) = program.hessian_colouring();
    assert_eq!((pattern.len(), colouring.count), (3 * n - 2, 3));
    let jacobian = program.jacobian_sparsity();
    assert_eq!(jacobian.row(0).len(), n);
}

#[test]
fn the_sparse_hessian_sweeps_also_give_value_and_gradient() {
    let x: Vec<f64> = (0..30).map(|i| 0.1 * i as f64 - 1.0).collect();
    let program = record(rosenbrock, &x).unwrap();
    let (value, gradient, h) = program.value_gradient_sparse_hessian(&x).unwrap();
    assert_eq!((value, gradient), program.value_and_gradient(&x).unwrap());
    assert_eq!(h, program.sparse_hessian(&x).unwrap());
    // A linear function: no colour, yet a value and a gradient.
    let linear = record(|v: &[Var<f64>]| v[0] * 2.0 + v[1], &[1.0, 1.0]).unwrap();
    let (value, gradient, h) = linear.value_gradient_sparse_hessian(&[3.0, 4.0]).unwrap();
    assert_eq!((value, gradient, h.values.len()), (10.0, vec![2.0, 1.0], 0));
}

#[test]
fn a_jacobian_with_a_dense_row_is_compressed_by_rows() {
    // f0 = Σ sin(xj), fi = xi² (i ≥ 1): every column meets row 0, so columns
    // need n colours, while rows need 2 (row 0 alone, the diagonal together).
    let f = |x: &[Var<f64>]| {
        let mut out = vec![x.iter().fold(Var::constant(0.0), |acc, &v| acc + v.sin())];
        out.extend(x[1..].iter().map(|&v| v * v));
        out
    };
    let x: Vec<f64> = (0..40).map(|i| 0.05 * i as f64).collect();
    let program = record(f, &x).unwrap();
    let columns = &program.jacobian_colouring().1;
    let rows = program.jacobian_row_colouring();
    println!(
        "arrow Jacobian n = 40: {} column colours, {} row colours",
        columns.count, rows.count
    );
    assert_eq!((columns.count, rows.count), (40, 2));
    // No two rows of one colour share a column.
    let pattern = &program.jacobian_colouring().0;
    for j in 0..pattern.cols {
        let mut seen = Vec::new();
        for i in 0..pattern.rows {
            if pattern.contains(i, j) {
                assert!(!seen.contains(&rows.colours[i]), "rows of one colour share column {j}");
                seen.push(rows.colours[i]);
            }
        }
    }
    assert_eq!(
        program.sparse_jacobian(&x).unwrap().to_dense().unwrap(),
        program.jacobian(&x).unwrap()
    );
}

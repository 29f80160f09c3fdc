//! Every numbered example and the tour, run as a user runs them, with what
//! they print checked against the library and the closed forms they claim.

use chainrule::api::Sweep;
use chainrule::{derivative, hessian, hvp, jacfwd, value_and_grad};
use num_traits::Float;

/// The features this test was built with, so that the examples build with
/// the same ones and reuse the test run's build of the library.
fn features() -> String {
    let features = [
        ("program", cfg!(feature = "program")),
        ("expr", cfg!(feature = "expr")),
        ("graph", cfg!(feature = "graph")),
        ("tensor", cfg!(feature = "tensor")),
        ("html", cfg!(feature = "html")),
        ("cli", cfg!(feature = "cli")),
        ("serve", cfg!(feature = "serve")),
        ("serde", cfg!(feature = "serde")),
        ("nalgebra", cfg!(feature = "nalgebra")),
        ("nalgebra-sparse", cfg!(feature = "nalgebra-sparse")),
        ("ndarray", cfg!(feature = "ndarray")),
        ("argmin", cfg!(feature = "argmin")),
    ];
    let on: Vec<&str> = features.iter().filter(|(_, on)| *on).map(|(name, _)| *name).collect();
    on.join(",")
}

/// What `cargo run --example name` prints (built with the test profile and
/// the test's features, so the test run's build is reused).
fn run_example(name: &str) -> String {
    let output = std::process::Command::new(env!("CARGO"))
        .args([
            "run",
            "--quiet",
            "--profile",
            "test",
            "--no-default-features",
            "--features",
            &features(),
            "--example",
            name,
            "--manifest-path",
        ])
        .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.toml"))
        .output()
        .expect("cargo runs");
    assert!(
        output.status.success(),
        "example {name} failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

/// The numbers in `line`, in order (`[1, -2.5e-3]`, `f = 11.65, ...`).
fn numbers(line: &str) -> Vec<f64> {
    line.split(|c: char| !(c.is_ascii_digit() || matches!(c, '.' | '-' | 'e' | '+')))
        .filter_map(|word| word.trim_start_matches('+').parse().ok())
        .collect()
}

/// The numbers on the first line of `text` that starts with `start`.
fn numbers_on_line(text: &str, start: &str) -> Vec<f64> {
    let line = text
        .lines()
        .find(|l| l.starts_with(start))
        .unwrap_or_else(|| panic!("a line starting {start:?} in\n{text}"));
    numbers(line)
}

/// The matrix printed on the lines after the line containing `heading`.
fn matrix_after(text: &str, heading: &str) -> Vec<Vec<f64>> {
    text.lines()
        .skip_while(|line| !line.contains(heading))
        .skip(1)
        .take_while(|line| line.trim_start().starts_with('['))
        .map(numbers)
        .collect()
}

fn close(a: f64, b: f64, relative: f64) -> bool {
    (a - b).abs() <= relative * a.abs().max(b.abs()).max(1e-300)
}

fn rosenbrock<T: Float>(v: &[T]) -> T {
    (T::one() - v[0]).powi(2) + T::from(100.0).unwrap() * (v[1] - v[0] * v[0]).powi(2)
}

fn seed<T: Float>(x: T) -> T {
    (-x * x).exp()
}

#[test]
fn example_01_prints_the_library_slope_beside_its_closed_form() {
    let text = run_example("01_derivative");
    let rows: Vec<Vec<f64>> = text.lines().skip(1).take(8).map(numbers).collect();
    assert_eq!(rows.len(), 8, "{text}");
    for row in rows {
        let x = row[0];
        assert!(close(row[2], derivative(seed, x), 1e-15), "{row:?}");
        assert!(close(row[2], row[3], 1e-15), "{row:?}");
    }
    assert!(
        !text.contains("-0.0000000000000000e0"),
        "negative zero printed:\n{text}"
    );
}

#[test]
fn example_02_prints_baydins_gradient_and_a_descending_rosenbrock() {
    let text = run_example("02_gradient");
    let first = numbers(text.lines().next().unwrap());
    let (value, gradient) = value_and_grad(|x| x[0].ln() + x[0] * x[1] - x[1].sin(), &[2.0, 5.0]).unwrap();
    assert!(close(first[2], value, 1e-6) && close(first[3], gradient[0], 1e-6) && close(first[4], gradient[1], 1e-6));
    // "tape: N nodes, B bytes": what a recording of the same function holds.
    let tape = numbers(text.lines().nth(1).unwrap());
    let rec = chainrule::Recording::<f64>::new();
    let x = rec.inputs(&[2.0, 5.0]);
    let _ = x[0].ln() + x[0] * x[1] - x[1].sin();
    assert_eq!(&tape[..2], &[rec.len() as f64, rec.tape_bytes() as f64], "{text}");
    let values: Vec<f64> = text
        .lines()
        .filter(|l| l.starts_with("iteration"))
        .map(|l| numbers(l)[1])
        .collect();
    assert!(
        values.len() >= 5 && values.windows(2).all(|w| w[1] < w[0]),
        "{values:?}"
    );
}

#[test]
fn example_03_prints_equal_jacobians_and_the_mode_auto_chooses() {
    let text = run_example("03_jacobian");
    let closed = matrix_after(&text, "closed form");
    assert_eq!(closed.len(), 2);
    for heading in ["forward", "reverse", "auto"] {
        assert_eq!(matrix_after(&text, heading), closed, "{heading}");
    }
    assert!(text.contains("so reverse") && Sweep::Auto.resolve(3, 2) == Sweep::Reverse);
    let j = jacfwd(
        |v| vec![v[0] * v[1] * v[2], v[0].sin() + v[1] * v[2] * v[2]],
        &[1.0, 2.0, 3.0],
    )
    .unwrap();
    assert_eq!(closed, j.to_rows());
}

#[test]
fn example_04_prints_the_hessian_and_its_product() {
    let text = run_example("04_hessian");
    let h = hessian(rosenbrock, &[1.0, 2.0]).unwrap();
    assert_eq!(matrix_after(&text, "Hessian by chainrule"), h.to_rows());
    assert_eq!(matrix_after(&text, "closed form"), h.to_rows());
    let product = hvp(rosenbrock, &[1.0, 2.0], &[1.0, 1.0]);
    let line = text.lines().find(|l| l.starts_with("H·(1, 1)")).unwrap();
    assert_eq!(numbers(line.split('=').nth(1).unwrap()), product.unwrap());
}

#[test]
fn the_tour_prints_closed_forms_it_matches() {
    let text = run_example("tour");
    let slope = numbers(text.lines().nth(1).unwrap());
    assert_eq!(slope[0], slope[1], "{text}");
    assert!(close(slope[0], -2.0 * 1.5 * (-2.25f64).exp(), 1e-15));
    let hessian_rows: Vec<Vec<f64>> = text
        .lines()
        .skip_while(|l| !l.starts_with("4."))
        .skip(1)
        .take(2)
        .map(numbers)
        .collect();
    assert_eq!(hessian_rows, vec![vec![402.0, -400.0], vec![-400.0, 200.0]]);
}

#[test]
fn example_05_records_once_and_reaches_the_minimum() {
    let text = run_example("05_program");
    let chained = |x: &[chainrule::Var<f64>]| {
        x.windows(2).fold(chainrule::Var::constant(0.0), |acc, w| {
            acc + (w[1] - w[0] * w[0]).powi(2) * 100.0 + (1.0 - w[0]).powi(2)
        })
    };
    let program = chainrule::program::record(chained, &[0.0; 100]).unwrap();
    let first = numbers(text.lines().next().unwrap());
    // Nodes, guards, and a tridiagonal Hessian: 3·100 − 2 nonzeros, 3 colours.
    assert_eq!(first, vec![program.len() as f64, 0.0, 298.0, 3.0], "{text}");
    let last_iteration = numbers(text.lines().rev().find(|l| l.starts_with("iteration")).unwrap());
    assert!(last_iteration[1] < 1e-20 && last_iteration[2] < 1e-9, "{text}");
    assert!(
        text.trim_end()
            .ends_with("minimum at x = (1.000000000000, 1.000000000000, ...)")
    );
}

#[test]
fn example_06_custom_rules() {
    let text = run_example("06_custom_rules");
    let line = |start: &str| numbers_on_line(&text, start);
    // ln(e^1000 + e^1001 + e^999) = 1001 + ln(1 + e^-1 + e^-2), and the
    // composed form overflows.
    let lse = line("logsumexp");
    let expected = 1001.0 + (1.0 + (-1.0f64).exp() + (-2.0f64).exp()).ln();
    assert!((lse.last().unwrap() - expected).abs() < 1e-9, "{text}");
    assert!(text.contains("(composed: inf)"), "{text}");
    // The softmax of (1, 2, 0), printed to 6 places, and its sum.
    let softmax = line("gradient");
    let total = 1.0 + (-1.0f64).exp() + (-2.0f64).exp();
    for (printed, exact) in softmax
        .iter()
        .zip([(-1.0f64).exp() / total, 1.0 / total, (-2.0f64).exp() / total])
    {
        assert!((printed - exact).abs() < 5e-7, "{text}");
    }
    assert!((softmax[3] - 1.0).abs() < 1e-14, "{text}");
    // y(2) = 1, y'(2) = 1/4, y''(2) = −3/32.
    let root = line("root");
    assert_eq!(&root[..1], &[2.0], "{text}");
    assert!(
        root.contains(&1.0) && root.contains(&0.25) && root.contains(&-0.09375),
        "{text}"
    );
    // ∂L/∂w = 2·(w − 3) for w = (1, 2, 6).
    let held = line("∂L/∂w");
    assert!(held.starts_with(&[-4.0, -2.0, 6.0]), "{text}");
    // n = 100: the rule records the 10 100 inputs, 100 outputs and the
    // 200 operations of Σ yᵢ²; the LU every elimination step. The README
    // quotes both counts.
    let solve = line("linear solve");
    assert_eq!(&solve[..3], &[100.0, 10400.0, 701750.0], "{text}");
    assert!(line("largest gradient difference")[0] < 1e-15, "{text}");
}

#[test]
fn example_07_checkpoint() {
    let text = run_example("07_checkpoint");
    let line = |start: &str| numbers_on_line(&text, start);
    // Both schedules give the whole tape's gradient to 1e-12.
    let difference = line("largest relative difference");
    assert!(*difference.last().unwrap() < 1e-12, "{text}");
    // The same final energy, printed twice.
    let energy = line("final energy");
    assert_eq!(energy[0], energy[1], "{text}");
    // Where the system reports peak memory, the checkpointed runs stay far
    // below the whole tape.
    if let Some(peaks) = text.lines().find(|l| l.starts_with("peak memory")).map(numbers) {
        assert!(peaks[1] < 16.0 && peaks[2] > 4.0 * peaks[1], "{text}");
    }
}

#[cfg(feature = "argmin")]
#[test]
fn example_08_argmin_reaches_the_minimum_with_both_solvers() {
    let text = run_example("08_argmin");
    for solver in ["L-BFGS", "Newton-CG"] {
        let line = text
            .lines()
            .find(|l| l.starts_with(solver))
            .unwrap_or_else(|| panic!("no {solver} line in:\n{text}"));
        let distance = line
            .split("max |x - 1| = ")
            .nth(1)
            .and_then(|rest| rest.split_whitespace().next())
            .unwrap();
        let distance: f64 = distance.parse().unwrap();
        assert!(distance < 1e-8, "{line}");
    }
}

//! Shared test oracles: central finite differences and relative comparison.
#![allow(dead_code)]

/// Central difference of `f` at `x`; the step scales with `|x|` so that the
/// truncation (h²) and rounding (ε/h) errors stay near 1e-10 relative.
pub fn central_difference(f: impl Fn(f64) -> f64, x: f64) -> f64 {
    let h = 1e-5 * (1.0 + x.abs());
    (f(x + h) - f(x - h)) / (2.0 * h)
}

/// Central-difference gradient of `f: Rⁿ → R`.
pub fn fd_gradient(f: impl Fn(&[f64]) -> f64, x: &[f64]) -> Vec<f64> {
    (0..x.len())
        .map(|j| {
            central_difference(
                |t| {
                    let mut moved = x.to_vec();
                    moved[j] = t;
                    f(&moved)
                },
                x[j],
            )
        })
        .collect()
}

/// Asserts `|actual − expected| ≤ tolerance · max(1, |expected|)`.
#[track_caller]
pub fn assert_close(actual: f64, expected: f64, tolerance: f64, what: &str) {
    let scale = expected.abs().max(1.0);
    assert!(
        (actual - expected).abs() <= tolerance * scale,
        "{what}: got {actual:e}, expected {expected:e} (tolerance {tolerance:e} relative)"
    );
}

/// Asserts `|actual − expected| ≤ tolerance · |expected|` (pure relative).
#[track_caller]
pub fn assert_relative(actual: f64, expected: f64, tolerance: f64, what: &str) {
    assert!(
        (actual - expected).abs() <= tolerance * expected.abs(),
        "{what}: got {actual:e}, expected {expected:e} (relative tolerance {tolerance:e})"
    );
}

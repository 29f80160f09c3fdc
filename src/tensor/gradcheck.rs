//! [`gradcheck`]: a tensor function's gradient against central differences.

use super::array::{Array, TensorError};
use super::tape::{Tensor, TensorTape};

/// The outcome of [`gradcheck`].
#[derive(Clone, Debug, PartialEq)]
pub struct GradcheckReport {
    /// Whether every element agreed within the tolerance.
    pub passed: bool,
    /// The largest `|analytic − numeric| / (1 + |numeric|)` seen.
    pub max_error: f64,
    /// Where it was: (input, flat element index, analytic, numeric).
    pub worst: Option<(usize, usize, f64, f64)>,
}

/// Compares the reverse-mode gradient of the scalar function `f` at `inputs`
/// with central finite differences, element by element, as PyTorch's
/// `gradcheck` does: passes when `|analytic − numeric| ≤ tolerance·(1 + |numeric|)`
/// everywhere.
///
/// ```
/// use chainrule::tensor::{Array, Tensor, TensorError, gradcheck};
/// use chainrule::rules::Unary;
/// fn f<'t>(x: &[Tensor<'t, f64>]) -> Result<Tensor<'t, f64>, TensorError> {
///     Ok(x[0].matmul(&x[1])?.unary(Unary::Tanh).sum())
/// }
/// let a = Array::new(vec![2, 3], vec![0.1, -0.2, 0.3, 0.4, 0.5, -0.6]).unwrap();
/// let b = Array::new(vec![3, 2], vec![0.7, 0.8, -0.9, 1.0, 1.1, 1.2]).unwrap();
/// assert!(gradcheck(f, &[a, b], 1e-6).unwrap().passed);
/// ```
///
/// # Errors
/// Whatever `f` returns, and [`TensorError::NotScalar`] if its output is
/// not a scalar.
pub fn gradcheck<F>(f: F, inputs: &[Array<f64>], tolerance: f64) -> Result<GradcheckReport, TensorError>
where
    F: for<'t> Fn(&[Tensor<'t, f64>]) -> Result<Tensor<'t, f64>, TensorError>,
{
    let tape = TensorTape::new();
    let tensors: Vec<Tensor<'_, f64>> = inputs.iter().map(|a| tape.input(a.clone())).collect();
    let output = f(&tensors)?;
    let grads = tape.backward(&output)?;
    let evaluate = |values: &[Array<f64>]| -> Result<f64, TensorError> {
        let tape = TensorTape::new();
        let tensors: Vec<Tensor<'_, f64>> = values.iter().map(|a| tape.input(a.clone())).collect();
        let y = f(&tensors)?;
        Ok(y.value().data()[0])
    };
    let mut report = GradcheckReport {
        passed: true,
        max_error: 0.0,
        worst: None,
    };
    let mut moved: Vec<Array<f64>> = inputs.to_vec();
    for (k, tensor) in tensors.iter().enumerate() {
        let analytic = grads.of(tensor);
        for j in 0..inputs[k].len() {
            let x = inputs[k].data()[j];
            let h = 1e-6 * (1.0 + x.abs());
            moved[k].data_mut()[j] = x + h;
            let up = evaluate(&moved)?;
            moved[k].data_mut()[j] = x - h;
            let down = evaluate(&moved)?;
            moved[k].data_mut()[j] = x;
            let numeric = (up - down) / (2.0 * h);
            let error = (analytic.data()[j] - numeric).abs() / (1.0 + numeric.abs());
            if error > report.max_error || error.is_nan() {
                report.max_error = error;
                report.worst = Some((k, j, analytic.data()[j], numeric));
            }
            if error.is_nan() || error > tolerance {
                report.passed = false;
            }
        }
    }
    Ok(report)
}

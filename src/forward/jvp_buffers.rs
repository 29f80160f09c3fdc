//! [`JvpBuffers`]: Jacobian-vector products in a loop without allocating.

use crate::error::{Result, check_len};
use crate::{Dual, Real};

/// Reusable storage for repeated Jacobian-vector products of one function,
/// so that a loop of products allocates nothing after its first pass.
///
/// [`jvp`](crate::jvp) is the one-off form: it builds its dual inputs in a
/// new `Vec`, and `f` returns a new `Vec` of outputs. Here `f` writes its
/// outputs into a slice it is given (as many as the caller's result buffers
/// hold), the dual inputs live in the buffers between calls, and the results
/// go into slices the caller owns.
///
/// ```
/// use chainrule::{Dual, JvpBuffers};
/// use num_traits::Float;
///
/// // f(x, y) = (x·y, sin x), along each axis in turn.
/// let f = |x: &[Dual<f64>], out: &mut [Dual<f64>]| {
///     out[0] = x[0] * x[1];
///     out[1] = x[0].sin();
/// };
/// let mut buffers = JvpBuffers::new();
/// let (mut values, mut tangents) = ([0.0; 2], [0.0; 2]);
/// buffers.jvp_into(f, &[2.0, 3.0], &[1.0, 0.0], &mut values, &mut tangents).unwrap();
/// assert_eq!((values, tangents), ([6.0, 2f64.sin()], [3.0, 2f64.cos()]));
/// // The tangents alone, for a direction along y.
/// buffers.tangents_into(f, &[2.0, 3.0], &[0.0, 1.0], &mut tangents).unwrap();
/// assert_eq!(tangents, [2.0, 0.0]);
/// ```
#[derive(Clone, Debug, Default)]
pub struct JvpBuffers<S> {
    inputs: Vec<Dual<S>>,
    outputs: Vec<Dual<S>>,
}

impl<S: Real> JvpBuffers<S> {
    /// Empty buffers; the first product sizes them.
    pub fn new() -> Self {
        JvpBuffers {
            inputs: Vec::new(),
            outputs: Vec::new(),
        }
    }

    /// `f(x)` into `values` and `J·v` into `tangents`, for `f: Rⁿ → Rᵐ`
    /// written as `f(inputs, outputs)` with `m = values.len()` outputs.
    ///
    /// # Errors
    /// [`Error::LengthMismatch`](crate::Error::LengthMismatch) if `v` and `x`
    /// differ in length, or `tangents` and `values`.
    pub fn jvp_into(
        &mut self,
        f: impl FnOnce(&[Dual<S>], &mut [Dual<S>]),
        x: &[S],
        v: &[S],
        values: &mut [S],
        tangents: &mut [S],
    ) -> Result<()> {
        check_len("tangent buffer", values.len(), tangents.len())?;
        let outputs = self.evaluate(f, x, v, values.len())?;
        for ((y, value), tangent) in outputs.iter().zip(values).zip(tangents) {
            *value = y.value;
            *tangent = y.tangent;
        }
        Ok(())
    }

    /// `J·v` alone into `tangents` (`m = tangents.len()` outputs), for loops
    /// that need no values.
    ///
    /// # Errors
    /// [`Error::LengthMismatch`](crate::Error::LengthMismatch) if `v` and `x`
    /// differ in length.
    pub fn tangents_into(
        &mut self,
        f: impl FnOnce(&[Dual<S>], &mut [Dual<S>]),
        x: &[S],
        v: &[S],
        tangents: &mut [S],
    ) -> Result<()> {
        let outputs = self.evaluate(f, x, v, tangents.len())?;
        for (y, tangent) in outputs.iter().zip(tangents) {
            *tangent = y.tangent;
        }
        Ok(())
    }

    /// Seeds the inputs with `x + v·ε`, clears `outputs` outputs and runs `f`.
    fn evaluate(
        &mut self,
        f: impl FnOnce(&[Dual<S>], &mut [Dual<S>]),
        x: &[S],
        v: &[S],
        outputs: usize,
    ) -> Result<&[Dual<S>]> {
        check_len("tangent vector", x.len(), v.len())?;
        self.inputs.clear();
        self.inputs.extend(x.iter().zip(v).map(|(&x, &v)| Dual::new(x, v)));
        self.outputs.clear();
        self.outputs.resize(outputs, Dual::constant(S::zero()));
        f(&self.inputs, &mut self.outputs);
        Ok(&self.outputs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use num_traits::Float;

    fn f(x: &[Dual<f64>], out: &mut [Dual<f64>]) {
        out[0] = x[0].exp() * x[1];
        out[1] = x[1].powi(3) - x[0];
        out[2] = (x[0] / x[1]).atan();
    }

    #[test]
    fn agrees_with_the_allocating_jvp_bit_for_bit() {
        let mut buffers = JvpBuffers::new();
        let (mut values, mut tangents, mut alone) = ([0.0; 3], [0.0; 3], [0.0; 3]);
        for (x, v) in [([0.3, -1.2], [1.0, 0.5]), ([2.0, 0.7], [-0.25, 3.0])] {
            let allocating = |d: &[Dual<f64>]| {
                let mut out = vec![Dual::constant(0.0); 3];
                f(d, &mut out);
                out
            };
            let (expected_values, expected_tangents) = crate::jvp(allocating, &x, &v).unwrap();
            buffers.jvp_into(f, &x, &v, &mut values, &mut tangents).unwrap();
            buffers.tangents_into(f, &x, &v, &mut alone).unwrap();
            assert_eq!(
                values.map(f64::to_bits).to_vec(),
                expected_values.iter().map(|v| v.to_bits()).collect::<Vec<_>>()
            );
            assert_eq!(tangents.map(f64::to_bits), alone.map(f64::to_bits));
            assert_eq!(tangents.to_vec(), expected_tangents);
        }
    }

    #[test]
    fn outputs_left_unwritten_are_constant_zero() {
        let mut buffers = JvpBuffers::new();
        let (mut values, mut tangents) = ([1.0; 2], [1.0; 2]);
        buffers
            .jvp_into(
                |x, out| out[0] = x[0] * x[0],
                &[3.0],
                &[1.0],
                &mut values,
                &mut tangents,
            )
            .unwrap();
        assert_eq!((values, tangents), ([9.0, 0.0], [6.0, 0.0]));
    }

    #[test]
    fn mismatched_lengths_are_errors() {
        let mut buffers = JvpBuffers::<f64>::new();
        let (mut values, mut tangents) = ([0.0; 2], [0.0; 1]);
        let wrong_direction = buffers.tangents_into(|_, _| {}, &[1.0, 2.0], &[1.0], &mut tangents);
        assert!(matches!(
            wrong_direction,
            Err(crate::Error::LengthMismatch {
                what: "tangent vector",
                ..
            })
        ));
        let wrong_buffer = buffers.jvp_into(|_, _| {}, &[1.0], &[1.0], &mut values, &mut tangents);
        assert!(matches!(
            wrong_buffer,
            Err(crate::Error::LengthMismatch {
                what: "tangent buffer",
                ..
            })
        ));
    }
}

//! A minimal neural-network layer on the tensor tape: `Linear`, an MLP
//! builder, SGD with momentum and Adam, deterministic initialisation.
//!
//! Parameters live outside the tape as plain [`Array`]s. Each training step
//! records them on a fresh (or cleared) [`TensorTape`], sweeps it back, and
//! hands the gradients to an optimizer, so nothing accumulates between steps.

use std::rc::Rc;

use super::array::{Array, Element, TensorError, element_count};
use super::tape::{Tensor, TensorTape};

/// A small deterministic random generator (splitmix64) for initialisation
/// and shuffling: the same seed gives the same network everywhere. It is a
/// [`rand_core::Rng`], and the initialisers take any `Rng` (from the `rand`
/// crate or your own).
#[derive(Clone, Debug)]
pub struct SplitMix64(u64);

impl rand_core::TryRng for SplitMix64 {
    type Error = core::convert::Infallible;

    fn try_next_u32(&mut self) -> Result<u32, Self::Error> {
        Ok((self.next_u64() >> 32) as u32)
    }

    fn try_next_u64(&mut self) -> Result<u64, Self::Error> {
        Ok(self.next_u64())
    }

    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Self::Error> {
        for chunk in dst.chunks_mut(8) {
            let bytes = self.next_u64().to_le_bytes();
            chunk.copy_from_slice(&bytes[..chunk.len()]);
        }
        Ok(())
    }
}

/// Uniform in `[0, 1)` from 53 random bits.
fn uniform<R: rand_core::Rng + ?Sized>(rng: &mut R) -> f64 {
    (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64
}

impl SplitMix64 {
    /// A generator from a seed.
    pub fn new(seed: u64) -> Self {
        SplitMix64(seed)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `[0, 1)`.
    pub fn uniform(&mut self) -> f64 {
        uniform(self)
    }

    /// Shuffles `items` in place (Fisher–Yates).
    pub fn shuffle<X>(&mut self, items: &mut [X]) {
        for i in (1..items.len()).rev() {
            let j = (self.next_u64() % (i as u64 + 1)) as usize;
            items.swap(i, j);
        }
    }
}

/// A fully connected layer `y = x·W + b`, `W: [inputs, outputs]`.
///
/// The parameters are shared (`Rc`) with the tapes that record the layer,
/// not copied onto them; an update through [`Mlp::parameters_mut`] writes
/// in place once no tape holds them (clear or drop the tape first; else
/// the update copies the array, and the tape keeps the old one).
#[derive(Clone, Debug, PartialEq)]
pub struct Linear<T: Element> {
    /// Weights, `[inputs, outputs]`.
    pub weight: Rc<Array<T>>,
    /// Bias, `[outputs]`.
    pub bias: Rc<Array<T>>,
}

impl<T: Element> Linear<T> {
    /// Weights and bias uniform in `±1/√inputs` (PyTorch's default scale),
    /// drawn from any [`rand_core::Rng`] ([`SplitMix64`], or a `rand`
    /// generator).
    ///
    /// # Panics
    /// If `inputs × outputs` weights cannot be addressed (checked before
    /// anything is allocated).
    pub fn new<R: rand_core::Rng + ?Sized>(inputs: usize, outputs: usize, rng: &mut R) -> Self {
        if let Err(error) = element_count::<T>(&[inputs, outputs]) {
            panic!("Linear::new({inputs}, {outputs}): {error}");
        }
        let bound = 1.0 / (inputs.max(1) as f64).sqrt();
        let mut draw = |len: usize| -> Vec<T> {
            (0..len)
                .map(|_| T::from_f64((2.0 * uniform(rng) - 1.0) * bound).unwrap_or_else(T::zero))
                .collect()
        };
        let weight = Array::new(vec![inputs, outputs], draw(inputs * outputs)).expect("shape matches data");
        let bias = Array::new(vec![outputs], draw(outputs)).expect("shape matches data");
        Linear {
            weight: Rc::new(weight),
            bias: Rc::new(bias),
        }
    }
}

/// The nonlinearity between layers of an [`Mlp`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Activation {
    /// `max(x, 0)`.
    Relu,
    /// Hyperbolic tangent.
    Tanh,
    /// GELU (tanh form).
    Gelu,
}

/// A multilayer perceptron: `Linear` layers with an activation between them
/// (none after the last, which gives logits).
///
/// ```
/// use chainrule::tensor::{Array, TensorTape};
/// use chainrule::tensor::nn::{Activation, Adam, Mlp, Optimizer};
///
/// let mut mlp = Mlp::<f64>::new(&[2, 8, 2], Activation::Tanh, 7);
/// let mut adam = Adam::new(0.05);
/// let x = Array::new(vec![4, 2], vec![0.0, 0.0, 0.0, 1.0, 1.0, 0.0, 1.0, 1.0]).unwrap();
/// let labels = [0, 1, 1, 0]; // XOR
/// let mut losses = Vec::new();
/// for _ in 0..300 {
///     let tape = TensorTape::new();
///     let (logits, params) = mlp.forward(&tape, tape.input(x.clone())).unwrap();
///     let loss = logits.cross_entropy(&labels).unwrap();
///     let mut grads = tape.backward(&loss).unwrap();
///     losses.push(loss.value().data()[0]);
///     let grads: Vec<_> = params.iter().map(|p| grads.take(p)).collect();
///     drop(tape); // the parameters are now updated in place, not copied
///     adam.step(&mut mlp.parameters_mut(), &grads).unwrap();
/// }
/// assert!(losses[299] < 0.05 * losses[0]);
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Mlp<T: Element> {
    layers: Vec<Linear<T>>,
    activation: Activation,
}

impl<T: Element> Mlp<T> {
    /// Layers of the given sizes (`sizes[0]` inputs, `sizes[last]` outputs),
    /// initialised from `seed`.
    ///
    /// # Panics
    /// If fewer than two sizes are given (a programming error: an MLP needs
    /// an input and an output size).
    pub fn new(sizes: &[usize], activation: Activation, seed: u64) -> Self {
        Self::with_rng(sizes, activation, &mut SplitMix64::new(seed))
    }

    /// Layers of the given sizes, initialised from any random generator
    /// (a `rand` generator, or your own [`rand_core::Rng`]).
    ///
    /// ```
    /// use chainrule::tensor::nn::{Activation, Mlp, SplitMix64};
    /// // The same generator state gives the same network as a seed does.
    /// let seeded = Mlp::<f64>::new(&[3, 4, 2], Activation::Relu, 9);
    /// let drawn = Mlp::<f64>::with_rng(&[3, 4, 2], Activation::Relu, &mut SplitMix64::new(9));
    /// assert_eq!(seeded, drawn);
    /// ```
    ///
    /// # Panics
    /// If fewer than two sizes are given (a programming error: an MLP needs
    /// an input and an output size).
    pub fn with_rng<R: rand_core::Rng + ?Sized>(sizes: &[usize], activation: Activation, rng: &mut R) -> Self {
        assert!(sizes.len() >= 2, "Mlp::new needs at least an input and an output size");
        let layers = sizes.windows(2).map(|w| Linear::new(w[0], w[1], rng)).collect();
        Mlp { layers, activation }
    }

    /// The layers.
    pub fn layers(&self) -> &[Linear<T>] {
        &self.layers
    }

    /// Every parameter array, in the order [`forward`](Mlp::forward) returns
    /// their tensors (weight, bias, weight, bias, ...), to update in place:
    /// clear or drop the tape that recorded them first, or each one still
    /// shared with it is copied (see [`Linear`]).
    pub fn parameters_mut(&mut self) -> Vec<&mut Array<T>> {
        self.layers
            .iter_mut()
            .flat_map(|l| [Rc::make_mut(&mut l.weight), Rc::make_mut(&mut l.bias)])
            .collect()
    }

    /// Records the network on `tape` for the batch `x` (`[batch, inputs]`):
    /// the logits, and the parameter tensors whose gradients the optimizer needs.
    ///
    /// # Errors
    /// [`TensorError::ShapeMismatch`] if `x` does not have `inputs` columns.
    pub fn forward<'t>(
        &self,
        tape: &'t TensorTape<T>,
        x: Tensor<'t, T>,
    ) -> Result<(Tensor<'t, T>, Vec<Tensor<'t, T>>), TensorError> {
        let mut params = Vec::with_capacity(2 * self.layers.len());
        let mut h = x;
        for (k, layer) in self.layers.iter().enumerate() {
            let w = tape.input(Rc::clone(&layer.weight));
            let b = tape.input(Rc::clone(&layer.bias));
            h = h.matmul(&w)?.add(&b)?;
            if k + 1 < self.layers.len() {
                h = match self.activation {
                    Activation::Relu => h.relu(),
                    Activation::Tanh => h.unary(crate::rules::Unary::Tanh),
                    Activation::Gelu => h.gelu(),
                };
            }
            params.push(w);
            params.push(b);
        }
        Ok((h, params))
    }
}

/// Updates parameters from their gradients.
pub trait Optimizer<T: Element> {
    /// One update of every parameter with its gradient.
    ///
    /// # Errors
    /// [`TensorError::ShapeMismatch`] if a gradient's shape differs from its
    /// parameter's, or [`TensorError::CountMismatch`] if the counts differ.
    fn step(&mut self, params: &mut [&mut Array<T>], grads: &[Array<T>]) -> Result<(), TensorError>;
}

fn check_pairs<T: Element>(params: &[&mut Array<T>], grads: &[Array<T>]) -> Result<(), TensorError> {
    if params.len() != grads.len() {
        return Err(TensorError::CountMismatch {
            what: "gradients (one per parameter)",
            expected: params.len(),
            found: grads.len(),
        });
    }
    for (p, g) in params.iter().zip(grads) {
        if p.shape() != g.shape() {
            return Err(TensorError::ShapeMismatch {
                op: "optimizer step",
                left: p.shape().to_vec(),
                right: g.shape().to_vec(),
            });
        }
    }
    Ok(())
}

/// Stochastic gradient descent with momentum: `v ← μ·v + g`, `p ← p − η·v`.
#[derive(Clone, Debug)]
pub struct Sgd<T> {
    /// Learning rate η.
    pub learning_rate: T,
    /// Momentum μ (0 for plain SGD).
    pub momentum: T,
    velocity: Vec<Vec<T>>,
}

impl<T: Element> Sgd<T> {
    /// SGD with the given learning rate and momentum.
    pub fn new(learning_rate: T, momentum: T) -> Self {
        Sgd {
            learning_rate,
            momentum,
            velocity: Vec::new(),
        }
    }
}

impl<T: Element> Optimizer<T> for Sgd<T> {
    fn step(&mut self, params: &mut [&mut Array<T>], grads: &[Array<T>]) -> Result<(), TensorError> {
        check_pairs(params, grads)?;
        if self.velocity.len() != params.len() {
            self.velocity = params.iter().map(|p| vec![T::zero(); p.len()]).collect();
        }
        for ((p, g), v) in params.iter_mut().zip(grads).zip(&mut self.velocity) {
            for ((p, &g), v) in p.data_mut().iter_mut().zip(g.data()).zip(v.iter_mut()) {
                *v = self.momentum * *v + g;
                *p -= self.learning_rate * *v;
            }
        }
        Ok(())
    }
}

/// Adam (Kingma & Ba, 2015) with bias correction.
#[derive(Clone, Debug)]
pub struct Adam<T> {
    /// Learning rate.
    pub learning_rate: T,
    /// Decay of the first moment (0.9).
    pub beta1: T,
    /// Decay of the second moment (0.999).
    pub beta2: T,
    /// Added to the denominator (1e-8).
    pub epsilon: T,
    steps: i32,
    first: Vec<Vec<T>>,
    second: Vec<Vec<T>>,
}

impl<T: Element> Adam<T> {
    /// Adam with the usual defaults and the given learning rate.
    pub fn new(learning_rate: T) -> Self {
        let lit = |x: f64| T::from_f64(x).unwrap_or_else(T::zero);
        Adam {
            learning_rate,
            beta1: lit(0.9),
            beta2: lit(0.999),
            epsilon: lit(1e-8),
            steps: 0,
            first: Vec::new(),
            second: Vec::new(),
        }
    }
}

impl<T: Element> Optimizer<T> for Adam<T> {
    fn step(&mut self, params: &mut [&mut Array<T>], grads: &[Array<T>]) -> Result<(), TensorError> {
        check_pairs(params, grads)?;
        if self.first.len() != params.len() {
            self.first = params.iter().map(|p| vec![T::zero(); p.len()]).collect();
            self.second = self.first.clone();
        }
        self.steps = self.steps.saturating_add(1);
        let one = T::one();
        let correct1 = one - self.beta1.powi(self.steps);
        let correct2 = one - self.beta2.powi(self.steps);
        let moments = self.first.iter_mut().zip(self.second.iter_mut());
        for ((p, g), (first, second)) in params.iter_mut().zip(grads).zip(moments) {
            // Zipped slices, no indexing: the loop vectorizes (packed
            // divisions and square roots, the same IEEE operations).
            let moments = first.iter_mut().zip(second.iter_mut());
            for ((p, &g), (m, v)) in p.data_mut().iter_mut().zip(g.data()).zip(moments) {
                *m = self.beta1 * *m + (one - self.beta1) * g;
                *v = self.beta2 * *v + (one - self.beta2) * g * g;
                let m_hat = *m / correct1;
                let v_hat = *v / correct2;
                *p -= self.learning_rate * m_hat / (v_hat.sqrt() + self.epsilon);
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn optimizers_refuse_mismatched_lists() {
        let mut p = Array::<f64>::zeros(vec![2]);
        let g = Array::<f64>::zeros(vec![3]);
        let mut sgd = Sgd::new(0.1, 0.0);
        let err = sgd.step(&mut [&mut p], &[]).unwrap_err();
        assert!(matches!(
            err,
            TensorError::CountMismatch {
                expected: 1,
                found: 0,
                ..
            }
        ));
        assert_eq!(err.to_string(), "gradients (one per parameter): 0 given, 1 needed");
        let err = Adam::new(0.1).step(&mut [&mut p], &[g]).unwrap_err();
        assert!(matches!(err, TensorError::ShapeMismatch { .. }), "{err}");
    }

    #[test]
    fn initialisation_is_deterministic() {
        let a = Mlp::<f64>::new(&[4, 3, 2], Activation::Relu, 42);
        let b = Mlp::<f64>::new(&[4, 3, 2], Activation::Relu, 42);
        let c = Mlp::<f64>::new(&[4, 3, 2], Activation::Relu, 43);
        assert_eq!(a, b);
        assert_ne!(a, c);
        assert!(a.layers()[0].weight.data().iter().all(|w| w.abs() <= 0.5));
    }

    #[test]
    fn sgd_follows_the_gradient() {
        let mut p = Array::new(vec![2], vec![1.0_f64, -1.0]).unwrap();
        let g = Array::new(vec![2], vec![0.5, -0.5]).unwrap();
        let mut sgd = Sgd::new(0.1, 0.9);
        sgd.step(&mut [&mut p], std::slice::from_ref(&g)).unwrap();
        assert_eq!(p.data(), &[0.95, -0.95]);
        sgd.step(&mut [&mut p], std::slice::from_ref(&g)).unwrap(); // v = 0.9·0.5 + 0.5
        assert!((p.data()[0] - (0.95 - 0.1 * 0.95)).abs() < 1e-15);
        assert!(sgd.step(&mut [&mut p], &[]).is_err());
    }

    #[test]
    fn adam_first_step_moves_by_the_learning_rate() {
        // With bias correction, the first step is lr·sign(g) (up to ε).
        let mut p = Array::new(vec![2], vec![0.0_f64, 0.0]).unwrap();
        let g = Array::new(vec![2], vec![3.0, -0.01]).unwrap();
        Adam::new(0.1).step(&mut [&mut p], &[g]).unwrap();
        assert!((p.data()[0] + 0.1).abs() < 1e-6 && (p.data()[1] - 0.1).abs() < 1e-4);
    }
}

#[cfg(test)]
mod rng_tests {
    use super::*;

    /// A generator of the user's own: every draw is the same 64 bits.
    struct Constant(u64);

    impl rand_core::TryRng for Constant {
        type Error = core::convert::Infallible;
        fn try_next_u32(&mut self) -> Result<u32, Self::Error> {
            Ok(self.0 as u32)
        }
        fn try_next_u64(&mut self) -> Result<u64, Self::Error> {
            Ok(self.0)
        }
        fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Self::Error> {
            dst.fill(0);
            Ok(())
        }
    }

    #[test]
    fn initialisers_take_any_rng() {
        // Top bit set and the rest clear: uniform draws exactly 1/2, so every
        // weight is (2·½ − 1)·bound = 0.
        let layer = Linear::<f64>::new(4, 3, &mut Constant(1 << 63));
        assert!(layer.weight.data().iter().chain(layer.bias.data()).all(|&w| w == 0.0));
        // All bits clear: uniform draws 0, every weight is −1/√inputs.
        let layer = Linear::<f64>::new(4, 3, &mut Constant(0));
        assert!(layer.weight.data().iter().all(|&w| w == -0.5));
    }

    #[test]
    fn splitmix_fills_bytes_from_its_words() {
        use rand_core::Rng;
        let mut a = SplitMix64::new(3);
        let mut b = SplitMix64::new(3);
        let mut bytes = [0u8; 12];
        a.fill_bytes(&mut bytes);
        assert_eq!(bytes[..8], b.next_u64().to_le_bytes());
        assert_eq!(bytes[8..], b.next_u64().to_le_bytes()[..4]);
    }
}

//! Evaluating and differentiating a [`Program`] at a point: loops over its
//! node list with the rule table, on plain or dual numbers.

use super::Colouring;
use super::scratch::{Scratch, take_scratch};
use super::{Guard, Op, Program};
use crate::api::seeded;
use crate::error::{Error, Result, check_len};
use crate::reverse::{Outcome, TapeScalar};
use crate::rules::{self, chain};
use crate::{Dual, HESSIAN_CHUNK, JACFWD_CHUNK, Matrix, Real};

impl<S: TapeScalar> Program<S> {
    /// The node of each input, in input order: inputs are nodes `0..n`
    /// (recorded first, and kept first by every pass).
    pub(super) fn input_nodes(&self) -> std::ops::Range<u32> {
        debug_assert!(
            self.ops[..self.inputs]
                .iter()
                .enumerate()
                .all(|(k, &op)| op == Op::Input(k as u32))
        );
        0..self.inputs as u32
    }

    /// Every node's value at `x`, on any number type built from `S`; with
    /// `partials`, also each node's local partial derivatives.
    ///
    /// Without partials, each operation runs through the number type's own
    /// arithmetic, so on dual numbers the tangents come from the rules'
    /// stated derivatives, exactly as when the function itself runs on them.
    /// With partials (forward over reverse), the rules run on the numbers
    /// directly, as they do on a tape of dual numbers: the partials' own
    /// tangents are the second derivatives.
    pub(super) fn forward<T: Real + From<S>>(
        &self,
        x: &[T],
        values: &mut Vec<T>,
        partials: Option<&mut Vec<[T; 3]>>,
    ) -> Result<()> {
        check_len("point", self.inputs, x.len())?;
        values.clear();
        values.reserve(self.ops.len());
        let zero = T::zero();
        let constant = |k: u32| <T as From<S>>::from(self.constants[k as usize]);
        match partials {
            None => {
                for (op, args) in self.ops.iter().zip(&self.args) {
                    let arg = |k: usize| values[args[k] as usize];
                    let value = match *op {
                        Op::Input(k) => x[k as usize],
                        Op::Constant(k) => constant(k),
                        Op::Unary(u) => arg(0).apply_unary(u),
                        Op::Binary(b) => arg(0).apply_binary(b, arg(1)),
                        Op::MulAdd => arg(0).mul_add(arg(1), arg(2)),
                    };
                    values.push(value);
                }
            }
            Some(partials) => {
                partials.clear();
                partials.reserve(self.ops.len());
                for (op, args) in self.ops.iter().zip(&self.args) {
                    let arg = |k: usize| values[args[k] as usize];
                    let (value, local) = match *op {
                        Op::Input(k) => (x[k as usize], [zero; 3]),
                        Op::Constant(k) => (constant(k), [zero; 3]),
                        Op::Unary(u) => {
                            let (v, d) = rules::unary(u, arg(0));
                            (v, [d, zero, zero])
                        }
                        Op::Binary(b) => {
                            let (v, da, db) = rules::binary(b, arg(0), arg(1));
                            (v, [da, db, zero])
                        }
                        Op::MulAdd => {
                            let (v, da, db, dc) = rules::mul_add(arg(0), arg(1), arg(2));
                            (v, [da, db, dc])
                        }
                    };
                    values.push(value);
                    partials.push(local);
                }
            }
        }
        self.check_guards(values)
    }

    /// Checks that every recorded comparison comes out as it did.
    fn check_guards<T: Real>(&self, values: &[T]) -> Result<()> {
        for (k, &Guard { left, right, outcome }) in self.guards.iter().enumerate() {
            let (a, b) = (values[left as usize], values[right as usize]);
            let now = match outcome {
                Outcome::Order(_) => Outcome::Order(a.partial_cmp(&b)),
                Outcome::Equal(_) => Outcome::Equal(a == b),
            };
            if now != outcome {
                return Err(Error::BranchChanged {
                    comparison: k,
                    left: left as usize,
                    right: right as usize,
                });
            }
        }
        Ok(())
    }

    /// Backward sweep: adjoints of every node for the seeded outputs.
    pub(super) fn backward<T: Real>(&self, partials: &[[T; 3]], seeds: &[(u32, T)], adjoints: &mut Vec<T>) {
        adjoints.clear();
        adjoints.resize(self.ops.len(), T::zero());
        for &(node, seed) in seeds {
            adjoints[node as usize] += seed;
        }
        for i in (0..self.ops.len()).rev() {
            let adjoint = adjoints[i];
            if adjoint.is_zero() {
                continue;
            }
            let args = self.args[i];
            if adjoint.is_plain_finite() {
                // A finite adjoint times any partial is already the strong-zero product.
                for k in 0..self.ops[i].arity() {
                    let term = partials[i][k] * adjoint;
                    adjoints[args[k] as usize] += term;
                }
            } else {
                for k in 0..self.ops[i].arity() {
                    let term = chain(partials[i][k], adjoint);
                    adjoints[args[k] as usize] += term;
                }
            }
        }
    }

    /// The forward pass with partials, then the backward loop from `seeds`:
    /// values and adjoints land in `scratch`.
    pub(super) fn forward_and_backward<T: Real + From<S>>(
        &self,
        x: &[T],
        seeds: &[(u32, T)],
        scratch: &mut Scratch<T>,
    ) -> Result<()> {
        self.forward(x, &mut scratch.values, Some(&mut scratch.partials))?;
        self.backward(&scratch.partials, seeds, &mut scratch.adjoints);
        Ok(())
    }

    pub(super) fn single_output(&self) -> Result<u32> {
        check_len("outputs of the program (a gradient needs one)", 1, self.outputs.len())?;
        Ok(self.outputs[0])
    }

    /// The function's outputs at `x`.
    ///
    /// # Errors
    /// [`Error::LengthMismatch`] if `x` has the wrong length,
    /// [`Error::BranchChanged`] if a recorded comparison comes out
    /// differently at `x`.
    pub fn eval(&self, x: &[S]) -> Result<Vec<S>> {
        let mut scratch = take_scratch();
        let values = &mut scratch.values;
        self.forward(x, values, None)?;
        Ok(self.outputs.iter().map(|&o| values[o as usize]).collect())
    }

    /// The value and gradient of a scalar program at `x`: one forward pass
    /// and one backward loop.
    ///
    /// # Errors
    /// As [`eval`](Program::eval), and [`Error::LengthMismatch`] unless the
    /// program has one output.
    pub fn value_and_gradient(&self, x: &[S]) -> Result<(S, Vec<S>)> {
        let output = self.single_output()?;
        let mut s = take_scratch();
        self.forward_and_backward(x, &[(output, S::one())], &mut s)?;
        let gradient = self.input_nodes().map(|i| s.adjoints[i as usize]).collect();
        Ok((s.values[output as usize], gradient))
    }

    /// The gradient of a scalar program at `x`.
    ///
    /// # Errors
    /// As [`value_and_gradient`](Program::value_and_gradient).
    pub fn gradient(&self, x: &[S]) -> Result<Vec<S>> {
        self.value_and_gradient(x).map(|(_, g)| g)
    }

    /// The outputs and the vector-Jacobian product `uᵀ·J` at `x`.
    ///
    /// # Errors
    /// As [`eval`](Program::eval), and [`Error::LengthMismatch`] unless `u`
    /// has one entry per output.
    pub fn vjp(&self, x: &[S], u: &[S]) -> Result<(Vec<S>, Vec<S>)> {
        check_len("cotangent vector", self.outputs.len(), u.len())?;
        let seeds: Vec<(u32, S)> = self.outputs.iter().copied().zip(u.iter().copied()).collect();
        let mut s = take_scratch();
        self.forward_and_backward(x, &seeds, &mut s)?;
        let outputs = self.outputs.iter().map(|&o| s.values[o as usize]).collect();
        Ok((outputs, self.input_nodes().map(|i| s.adjoints[i as usize]).collect()))
    }

    /// The outputs and the Jacobian-vector product `J·v` at `x`: one pass on
    /// dual numbers.
    ///
    /// # Errors
    /// As [`eval`](Program::eval), and [`Error::LengthMismatch`] unless `v`
    /// has one entry per input.
    pub fn jvp(&self, x: &[S], v: &[S]) -> Result<(Vec<S>, Vec<S>)> {
        check_len("tangent vector", self.inputs, v.len())?;
        let point: Vec<Dual<S>> = x.iter().zip(v).map(|(&a, &t)| Dual::new(a, t)).collect();
        let mut scratch = take_scratch();
        let values = &mut scratch.values;
        self.forward(&point, values, None)?;
        let outputs = self.outputs.iter().map(|&o| values[o as usize]);
        Ok(outputs.map(|y| (y.value, y.tangent)).unzip())
    }

    /// The Jacobian at `x`, by forward passes on [`DualN`] (8 inputs per
    /// pass) when there are no more inputs than outputs, else by one forward
    /// pass for the partials and one backward loop per output.
    ///
    /// # Errors
    /// As [`eval`](Program::eval).
    pub fn jacobian(&self, x: &[S]) -> Result<Matrix<S>> {
        let (n, m) = (self.inputs, self.outputs.len());
        let mut jacobian = Matrix::zeros(m, n);
        if n <= m {
            let mut scratch = take_scratch();
            let values = &mut scratch.values;
            for start in (0..n).step_by(JACFWD_CHUNK) {
                let end = (start + JACFWD_CHUNK).min(n);
                self.forward(&seeded::<S, JACFWD_CHUNK>(x, start), values, None)?;
                for (i, &o) in self.outputs.iter().enumerate() {
                    for j in start..end {
                        jacobian[(i, j)] = values[o as usize].tangents()[j - start];
                    }
                }
            }
        } else {
            let mut scratch = take_scratch();
            let Scratch {
                values,
                partials,
                adjoints,
            } = &mut *scratch;
            self.forward(x, values, Some(partials))?;
            let inputs = self.input_nodes();
            for (i, &o) in self.outputs.iter().enumerate() {
                self.backward(partials, &[(o, S::one())], adjoints);
                for (j, node) in inputs.clone().enumerate() {
                    jacobian[(i, j)] = adjoints[node as usize];
                }
            }
        }
        Ok(jacobian)
    }

    /// The Hessian of a scalar program at `x`: forward over reverse, the
    /// program's forward pass and backward loop run on [`DualN`] numbers,
    /// 8 directions at a time.
    ///
    /// # Errors
    /// As [`value_and_gradient`](Program::value_and_gradient).
    pub fn hessian(&self, x: &[S]) -> Result<Matrix<S>> {
        let output = self.single_output()?;
        check_len("point", self.inputs, x.len())?;
        // The compressed Hessian with every column its own colour.
        let n = self.inputs;
        let own_colours = Colouring {
            colours: (0..n).collect(),
            count: n,
        };
        let (_, _, entries) = self.compressed_hessian::<HESSIAN_CHUNK>(x, output, &own_colours)?;
        Ok(Matrix::from_row_major(n, n, entries))
    }

    /// The Hessian-vector product `H·v` of a scalar program at `x`, without
    /// forming `H`: the forward pass and backward loop on [`Dual`] numbers.
    ///
    /// # Errors
    /// As [`value_and_gradient`](Program::value_and_gradient), and
    /// [`Error::LengthMismatch`] unless `v` has one entry per input.
    pub fn hvp(&self, x: &[S], v: &[S]) -> Result<Vec<S>> {
        let output = self.single_output()?;
        check_len("direction", self.inputs, v.len())?;
        let point: Vec<Dual<S>> = x.iter().zip(v).map(|(&a, &t)| Dual::new(a, t)).collect();
        let mut s = take_scratch();
        self.forward_and_backward(&point, &[(output, Dual::constant(S::one()))], &mut s)?;
        Ok(self.input_nodes().map(|i| s.adjoints[i as usize].tangent).collect())
    }
}

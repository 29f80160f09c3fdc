//! Evaluating and differentiating a [`Program`] at a point: loops over its
//! node list with the rule table, on plain or dual numbers.

use super::Colouring;
use super::scratch::{Scratch, take_scratch};
use super::step::Step;
use super::{Guard, Op, Program, VectorNode};
use crate::api::seeded;
use crate::custom::erased::{self, Job, Work};
use crate::error::{Error, Result, check_len};
use crate::reverse::{Outcome, TapeScalar};
use crate::rules::{self, Binary, Unary, chain};
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
    /// `partials`, also the local partial derivatives of the operations that
    /// store them ([`Step`]), in node order.
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
        partials: Option<&mut Vec<T>>,
    ) -> Result<()> {
        check_len("point", self.inputs, x.len())?;
        debug_assert!(self.input_nodes().len() == x.len());
        values.clear();
        values.reserve(self.ops.len());
        values.extend_from_slice(x);
        let constant = |k: u32| <T as From<S>>::from(self.constants[k as usize]);
        let (steps, all_args) = (&self.steps[..], &self.args[..self.steps.len()]);
        // A custom function's arguments and results (allocated only if used).
        let mut job = Job::default();
        match partials {
            None => {
                for i in self.inputs..steps.len() {
                    let args = all_args[i];
                    let arg = |k: usize| values[args[k] as usize];
                    let value = match steps[i] {
                        Step::Input => unreachable!("inputs are the first nodes of a program"),
                        Step::Constant(k) => constant(k),
                        Step::Add => arg(0).apply_binary(Binary::Add, arg(1)),
                        Step::Sub => arg(0).apply_binary(Binary::Sub, arg(1)),
                        Step::Mul => arg(0).apply_binary(Binary::Mul, arg(1)),
                        Step::Neg => arg(0).apply_unary(Unary::Neg),
                        Step::MulAdd => arg(0).mul_add(arg(1), arg(2)),
                        Step::Unary(u) => arg(0).apply_unary(u),
                        Step::Binary(b) => arg(0).apply_binary(b, arg(1)),
                        Step::Custom(k) => self.custom_value(k, values, &mut job, None),
                        Step::CustomOutput(call, 0) => {
                            self.vector_value(call, values, &mut job)?;
                            continue;
                        }
                        Step::CustomOutput(..) => continue,
                    };
                    values.push(value);
                }
            }
            Some(partials) => {
                partials.clear();
                for i in self.inputs..steps.len() {
                    let args = all_args[i];
                    let arg = |k: usize| values[args[k] as usize];
                    let value = match steps[i] {
                        Step::Input => unreachable!("inputs are the first nodes of a program"),
                        Step::Constant(k) => constant(k),
                        Step::Add => rules::binary(Binary::Add, arg(0), arg(1)).0,
                        Step::Sub => rules::binary(Binary::Sub, arg(0), arg(1)).0,
                        Step::Mul => rules::binary(Binary::Mul, arg(0), arg(1)).0,
                        Step::Neg => rules::unary(Unary::Neg, arg(0)).0,
                        Step::MulAdd => rules::mul_add(arg(0), arg(1), arg(2)).0,
                        Step::Unary(u) => {
                            let (v, d) = rules::unary(u, arg(0));
                            partials.push(d);
                            v
                        }
                        Step::Binary(b) => {
                            let (v, da, db) = rules::binary(b, arg(0), arg(1));
                            partials.extend([da, db]);
                            v
                        }
                        Step::Custom(k) => self.custom_value(k, values, &mut job, Some(partials)),
                        Step::CustomOutput(call, 0) => {
                            self.vector_value(call, values, &mut job)?;
                            continue;
                        }
                        Step::CustomOutput(..) => continue,
                    };
                    values.push(value);
                }
            }
        }
        self.check_guards(values)
    }

    /// Walks the operations from last to first, handing `visit` each one's
    /// node, argument nodes and local partials: read back from `stored` (as
    /// [`forward`](Self::forward) left them), or asked of the rule table
    /// again from the argument values (see [`Step`]). A custom vector
    /// function, which has no local partials, goes to `on_call` once, at its
    /// last output (when all its outputs' adjoints are final). Both get the
    /// sweep's `state` (its adjoints).
    #[inline(always)]
    pub(super) fn visit_backward<T: Real, State>(
        &self,
        values: &[T],
        stored: &[T],
        state: &mut State,
        mut visit: impl FnMut(&mut State, usize, &[u32], &[T]),
        mut on_call: impl FnMut(&mut State, &VectorNode<S>) -> Result<()>,
    ) -> Result<()> {
        let mut top = stored.len();
        let (steps, all_args) = (&self.steps[..], &self.args[..self.steps.len()]);
        for i in (self.inputs..steps.len()).rev() {
            let args = &all_args[i];
            let value = |k: usize| values[args[k] as usize];
            // Each arm calls `visit` with its own arity, so that the
            // recomputed partials and the arity are constants in each copy.
            match steps[i] {
                Step::Input | Step::Constant(_) => {}
                Step::Add => {
                    let (_, da, db) = rules::binary(Binary::Add, value(0), value(1));
                    visit(state, i, &args[..2], &[da, db]);
                }
                Step::Sub => {
                    let (_, da, db) = rules::binary(Binary::Sub, value(0), value(1));
                    visit(state, i, &args[..2], &[da, db]);
                }
                Step::Mul => {
                    let (_, da, db) = rules::binary(Binary::Mul, value(0), value(1));
                    visit(state, i, &args[..2], &[da, db]);
                }
                Step::Neg => {
                    let (_, d) = rules::unary(Unary::Neg, value(0));
                    visit(state, i, &args[..1], &[d]);
                }
                Step::MulAdd => {
                    let (_, da, db, dc) = rules::mul_add(value(0), value(1), value(2));
                    visit(state, i, args, &[da, db, dc]);
                }
                Step::Unary(_) => {
                    top -= 1;
                    visit(state, i, &args[..1], &stored[top..top + 1]);
                }
                Step::Binary(_) => {
                    top -= 2;
                    visit(state, i, &args[..2], &stored[top..top + 2]);
                }
                Step::Custom(k) => {
                    let args = &self.customs[k as usize].args;
                    top -= args.len();
                    visit(state, i, args, &stored[top..top + args.len()]);
                }
                Step::CustomOutput(call, output) => {
                    let call = &self.vector_calls[call as usize];
                    if output + 1 == call.outputs {
                        on_call(state, call)?;
                    }
                }
            }
        }
        debug_assert_eq!(top, 0, "every stored partial is read back once");
        Ok(())
    }

    /// The value of custom elementary function `k` from the values of its
    /// arguments (gathered into `job`), and its partials appended to
    /// `partials` if asked. Out of line, so the sweeps' loops stay compact
    /// for the built-in steps.
    #[cold]
    #[inline(never)]
    fn custom_value<T: Real>(&self, k: u32, values: &[T], job: &mut Job<T>, partials: Option<&mut Vec<T>>) -> T {
        let custom = &self.customs[k as usize];
        job.x.clear();
        job.x.extend(custom.args.iter().map(|&a| values[a as usize]));
        let work = if partials.is_some() {
            Work::ValueAndPartials
        } else {
            Work::Value
        };
        erased::run(&*custom.rule, work, job);
        if let Some(partials) = partials {
            partials.extend_from_slice(&job.out[1..]);
        }
        job.out[0]
    }

    /// Computes the outputs of custom vector function `call` from the
    /// values of its arguments and appends them to `values`.
    #[cold]
    #[inline(never)]
    fn vector_value<T: Real>(&self, call: u32, values: &mut Vec<T>, job: &mut Job<T>) -> Result<()> {
        let call = &self.vector_calls[call as usize];
        job.x.clear();
        job.x.extend(call.args.iter().map(|&a| values[a as usize]));
        erased::run(&*call.rule, Work::Value, job);
        check_call_length(call, "value", call.outputs as usize, job.out.len())?;
        values.append(&mut job.out);
        Ok(())
    }

    /// The vector-Jacobian product of custom vector function `call` at the
    /// values of its arguments and outputs, for the outputs' adjoints
    /// `y_bar(node)`: into `job.out`, one adjoint per argument. False (and
    /// nothing computed) when every output's adjoint is zero.
    pub(super) fn vector_pullback<T: Real>(
        &self,
        call: &VectorNode<S>,
        values: &[T],
        y_bar: impl Fn(usize) -> T,
        job: &mut Job<T>,
    ) -> Result<bool> {
        job.y_bar.clear();
        job.y_bar.extend(call.output_nodes().map(y_bar));
        if T::all_zero(&job.y_bar) {
            return Ok(false);
        }
        job.x.clear();
        job.x.extend(call.args.iter().map(|&a| values[a as usize]));
        job.y.clear();
        job.y.extend_from_slice(&values[call.output_nodes()]);
        erased::run(&*call.rule, Work::VectorJacobian, job);
        check_call_length(call, "vector-Jacobian product", call.args.len(), job.out.len())?;
        Ok(true)
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

    /// Backward sweep: adjoints of every node for the seeded outputs, from
    /// the values and stored partials of a forward pass.
    pub(super) fn backward<T: Real>(
        &self,
        values: &[T],
        partials: &[T],
        seeds: &[(u32, T)],
        adjoints: &mut Vec<T>,
    ) -> Result<()> {
        adjoints.clear();
        adjoints.resize(self.ops.len(), T::zero());
        for &(node, seed) in seeds {
            adjoints[node as usize] += seed;
        }
        let mut job = Job::default();
        self.visit_backward(
            values,
            partials,
            adjoints,
            |adjoints, i, args, local| {
                let adjoint = adjoints[i];
                if adjoint.is_zero() {
                    return;
                }
                if adjoint.is_plain_finite() {
                    // A finite adjoint times any partial is already the strong-zero product.
                    for (&arg, &partial) in args.iter().zip(local) {
                        adjoints[arg as usize] += partial * adjoint;
                    }
                } else {
                    for (&arg, &partial) in args.iter().zip(local) {
                        adjoints[arg as usize] += chain(partial, adjoint);
                    }
                }
            },
            |adjoints, call| {
                if self.vector_pullback(call, values, |node| adjoints[node], &mut job)? {
                    for (&arg, &pulled) in call.args.iter().zip(&job.out) {
                        adjoints[arg as usize] += pulled;
                    }
                }
                Ok(())
            },
        )
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
        self.backward(&scratch.values, &scratch.partials, seeds, &mut scratch.adjoints)
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

    /// The Jacobian at `x`, by forward passes on [`DualN`](crate::DualN) (8 inputs per
    /// pass) when there are no more inputs than outputs, else by one forward
    /// pass for the partials and one backward loop per output.
    ///
    /// # Errors
    /// As [`eval`](Program::eval).
    pub fn jacobian(&self, x: &[S]) -> Result<Matrix<S>> {
        let (n, m) = (self.inputs, self.outputs.len());
        let mut jacobian = Matrix::try_zeros(m, n)?;
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
                self.backward(values, partials, &[(o, S::one())], adjoints)?;
                for (j, node) in inputs.clone().enumerate() {
                    jacobian[(i, j)] = adjoints[node as usize];
                }
            }
        }
        Ok(jacobian)
    }

    /// The Hessian of a scalar program at `x`: forward over reverse, the
    /// program's forward pass and backward loop run on [`DualN`](crate::DualN) numbers,
    /// 8 directions at a time.
    ///
    /// # Errors
    /// As [`value_and_gradient`](Program::value_and_gradient).
    pub fn hessian(&self, x: &[S]) -> Result<Matrix<S>> {
        self.value_gradient_hessian(x).map(|(_, _, h)| h)
    }

    /// The value, gradient and Hessian of a scalar program at `x`, from the
    /// same sweeps as [`hessian`](Program::hessian).
    ///
    /// # Errors
    /// As [`value_and_gradient`](Program::value_and_gradient).
    pub fn value_gradient_hessian(&self, x: &[S]) -> Result<(S, Vec<S>, Matrix<S>)> {
        let output = self.single_output()?;
        check_len("point", self.inputs, x.len())?;
        // The compressed Hessian with every column its own colour.
        let n = self.inputs;
        let own_colours = Colouring {
            colours: (0..n).collect(),
            count: n,
        };
        let (value, gradient, entries) = self.compressed_hessian::<HESSIAN_CHUNK>(x, output, &own_colours)?;
        Ok((value, gradient, Matrix::from_row_major(n, n, entries)))
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

/// Checks that a custom vector function's value or product has the length
/// its call needs.
pub(super) fn check_call_length<S>(
    call: &VectorNode<S>,
    product: &'static str,
    expected: usize,
    found: usize,
) -> Result<()> {
    if expected == found {
        Ok(())
    } else {
        Err(Error::CallbackLength {
            operation: call.rule.name(),
            product,
            expected,
            found,
        })
    }
}

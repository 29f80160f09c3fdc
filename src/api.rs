//! The functional front door: `grad`, `jacobian`, `hessian`, ... named as in JAX.
//!
//! Each function takes the user's function and a point. Write the function
//! once, generic over [`num_traits::Float`] (or [`Real`]), and pass its name:
//! each call instantiates it at the number type that mode needs ([`Dual`] for
//! forward mode, [`Var`] for reverse mode, `Var<Dual<_>>` for Hessians).
//!
//! | function | mode | cost |
//! |---|---|---|
//! | [`derivative`], [`value_and_derivative`] | forward | 1 evaluation |
//! | [`grad`], [`value_and_grad`] | reverse | 1 recording + 1 backward sweep |
//! | [`jvp`] | forward | 1 evaluation |
//! | [`vjp`] | reverse | 1 recording + 1 backward sweep |
//! | [`jacfwd`] | forward, 8 directions per pass | ⌈n/8⌉ evaluations |
//! | [`jacrev`] | reverse, 8 outputs per sweep | 1 recording + ⌈m/8⌉ backward sweeps |
//! | [`jacobian`], [`value_and_jacobian`] | chosen by shape | 1 recording + ⌈min(n, m)/8⌉ sweeps |
//! | [`hessian`], [`value_grad_hessian`] | forward-over-reverse, 8 directions per pass | ⌈n/8⌉ recordings + sweeps |
//! | [`hvp`] | forward-over-reverse | 1 recording + 1 sweep |

use crate::error::{Result, check_len};
use crate::{Dual, DualN, Matrix, Real, Recording, TapeScalar, Var};

/// How many directions [`jacfwd`] carries per pass.
pub const JACFWD_CHUNK: usize = 8;

/// The derivative of `f: R → R` at `x` (forward mode).
///
/// ```
/// use num_traits::Float;
/// fn f<T: Float>(x: T) -> T { (-x * x).exp() }
/// let x = 1.5_f64;
/// assert!((chainrule::derivative(f, x) - (-2.0 * x * (-x * x).exp())).abs() < 1e-15);
/// ```
pub fn derivative<S: Real>(f: impl Fn(Dual<S>) -> Dual<S>, x: S) -> S {
    value_and_derivative(f, x).1
}

/// `f(x)` and `f'(x)` from one forward evaluation.
///
/// ```
/// let (value, slope) = chainrule::value_and_derivative(|x| x * x, 3.0);
/// assert_eq!((value, slope), (9.0, 6.0));
/// ```
pub fn value_and_derivative<S: Real>(f: impl Fn(Dual<S>) -> Dual<S>, x: S) -> (S, S) {
    let y = f(Dual::variable(x));
    (y.value, y.tangent)
}

/// The gradient of `f: Rⁿ → R` at `x` (reverse mode).
///
/// ```
/// use num_traits::Float;
/// fn rosenbrock<T: Float>(x: &[T]) -> T {
///     let one = T::one();
///     let hundred = T::from(100).unwrap();
///     x.windows(2).map(|w| hundred * (w[1] - w[0] * w[0]).powi(2) + (one - w[0]).powi(2))
///         .fold(T::zero(), |a, b| a + b)
/// }
/// let g = chainrule::grad(rosenbrock, &[1.0, 1.0, 1.0]).unwrap();
/// assert_eq!(g, vec![0.0, 0.0, 0.0]); // the minimum
/// ```
///
/// # Errors
/// [`Error::ForeignVariable`](crate::Error::ForeignVariable) if `f` mixes in variables of another recording,
/// [`Error::TapeFull`](crate::Error::TapeFull) if it records more than the tape holds.
pub fn grad<S: TapeScalar>(f: impl Fn(&[Var<S>]) -> Var<S>, x: &[S]) -> Result<Vec<S>> {
    value_and_grad(f, x).map(|(_, g)| g)
}

/// `f(x)` and its gradient from one recording and one backward sweep.
///
/// ```
/// // Baydin et al. (2018), f(x1, x2) = ln x1 + x1·x2 − sin x2 at (2, 5)
/// use num_traits::Float;
/// let (value, g) = chainrule::value_and_grad(|x| x[0].ln() + x[0] * x[1] - x[1].sin(), &[2.0, 5.0]).unwrap();
/// assert!((value - 11.652071).abs() < 1e-6);
/// assert!((g[0] - 5.5).abs() < 1e-15 && (g[1] - 1.716338).abs() < 1e-6);
/// ```
///
/// # Errors
/// As [`grad`].
pub fn value_and_grad<S: TapeScalar>(f: impl Fn(&[Var<S>]) -> Var<S>, x: &[S]) -> Result<(S, Vec<S>)> {
    let rec = Recording::new();
    let inputs = rec.inputs(x);
    let y = f(&inputs);
    let g = rec.gradient(y)?;
    Ok((y.value(), g))
}

/// Jacobian-vector product of `f: Rⁿ → Rᵐ` at `x` along `v`: `(f(x), J·v)`,
/// one forward evaluation.
///
/// ```
/// use num_traits::Float;
/// let f = |x: &[chainrule::Dual<f64>]| vec![x[0] * x[1], x[0].sin()];
/// let (value, tangent) = chainrule::jvp(f, &[2.0, 3.0], &[1.0, 0.0]).unwrap();
/// assert_eq!(value, vec![6.0, 2f64.sin()]);
/// assert_eq!(tangent, vec![3.0, 2f64.cos()]);
/// ```
///
/// # Errors
/// [`Error::LengthMismatch`](crate::Error::LengthMismatch) if `v` and `x` differ in length.
pub fn jvp<S: Real>(f: impl Fn(&[Dual<S>]) -> Vec<Dual<S>>, x: &[S], v: &[S]) -> Result<(Vec<S>, Vec<S>)> {
    check_len("tangent vector", x.len(), v.len())?;
    let inputs: Vec<Dual<S>> = x.iter().zip(v).map(|(&x, &v)| Dual::new(x, v)).collect();
    let outputs = f(&inputs);
    Ok(outputs.iter().map(|y| (y.value, y.tangent)).unzip())
}

/// Vector-Jacobian product of `f: Rⁿ → Rᵐ` at `x` with cotangent `u`:
/// `(f(x), uᵀ·J)`, one recording and one backward sweep.
///
/// ```
/// use num_traits::Float;
/// let f = |x: &[chainrule::Var<f64>]| vec![x[0] * x[1], x[0].sin()];
/// let (value, cotangent) = chainrule::vjp(f, &[2.0, 3.0], &[1.0, 1.0]).unwrap();
/// assert_eq!(value, vec![6.0, 2f64.sin()]);
/// assert_eq!(cotangent, vec![3.0 + 2f64.cos(), 2.0]);
/// ```
///
/// # Errors
/// [`Error::LengthMismatch`](crate::Error::LengthMismatch) if `u` has not one entry per output of `f`;
/// otherwise as [`grad`].
pub fn vjp<S: TapeScalar>(f: impl Fn(&[Var<S>]) -> Vec<Var<S>>, x: &[S], u: &[S]) -> Result<(Vec<S>, Vec<S>)> {
    let rec = Recording::new();
    let inputs = rec.inputs(x);
    let outputs = f(&inputs);
    let cotangent = rec.vjp(&outputs, u)?;
    Ok((outputs.iter().map(Var::value).collect(), cotangent))
}

/// The Jacobian of `f: Rⁿ → Rᵐ` at `x` by forward mode, [`JACFWD_CHUNK`]
/// input directions per evaluation (see [`jacfwd_chunked`] to choose).
///
/// ```
/// use num_traits::Float;
/// fn f<T: Float>(x: &[T]) -> Vec<T> { vec![x[0] * x[1], x[1].exp()] }
/// let j = chainrule::jacfwd(f, &[2.0, 0.0]).unwrap();
/// assert_eq!(j.to_rows(), vec![vec![0.0, 2.0], vec![0.0, 1.0]]);
/// ```
///
/// # Errors
/// [`Error::LengthMismatch`](crate::Error::LengthMismatch) if `f` returns outputs of different lengths on
/// different passes.
pub fn jacfwd<S: Real>(
    f: impl Fn(&[DualN<S, JACFWD_CHUNK>]) -> Vec<DualN<S, JACFWD_CHUNK>>,
    x: &[S],
) -> Result<Matrix<S>> {
    jacfwd_chunked(f, x)
}

/// [`jacfwd`] with `N` directions per evaluation: `⌈n/N⌉` evaluations.
///
/// ```
/// use num_traits::Float;
/// fn f<T: Float>(x: &[T]) -> Vec<T> { vec![x[0] * x[1] * x[2]] }
/// let j = chainrule::jacfwd_chunked::<f64, 2>(f, &[1.0, 2.0, 3.0]).unwrap();
/// assert_eq!(j.row(0), &[6.0, 3.0, 2.0]);
/// ```
///
/// `N` must be at least 1; `N = 0` is a compile-time error:
///
/// ```compile_fail
/// # use num_traits::Float;
/// # fn f<T: Float>(x: &[T]) -> Vec<T> { vec![x[0]] }
/// let j = chainrule::jacfwd_chunked::<f64, 0>(f, &[1.0]);
/// ```
///
/// # Errors
/// As [`jacfwd`].
pub fn jacfwd_chunked<S: Real, const N: usize>(
    f: impl Fn(&[DualN<S, N>]) -> Vec<DualN<S, N>>,
    x: &[S],
) -> Result<Matrix<S>> {
    value_and_jacfwd(f, x).map(|(_, j)| j)
}

/// `f(x)` and its Jacobian by forward mode, `N` directions per evaluation.
///
/// ```
/// use num_traits::Float;
/// fn f<T: Float>(x: &[T]) -> Vec<T> { vec![x[0].sin(), x[0] * x[1]] }
/// let (values, j) = chainrule::api::value_and_jacfwd::<f64, 4>(f, &[0.0, 2.0]).unwrap();
/// assert_eq!(values, vec![0.0, 0.0]);
/// assert_eq!(j.to_rows(), vec![vec![1.0, 0.0], vec![2.0, 0.0]]);
/// ```
///
/// # Errors
/// As [`jacfwd`].
pub fn value_and_jacfwd<S: Real, const N: usize>(
    f: impl Fn(&[DualN<S, N>]) -> Vec<DualN<S, N>>,
    x: &[S],
) -> Result<(Vec<S>, Matrix<S>)> {
    forward_passes(f, x, None)
}

/// The inputs of forward pass `start / N`: `x` with lanes seeded on inputs
/// `start..start + N`.
pub(crate) fn seeded<S: Real, const N: usize>(x: &[S], start: usize) -> Vec<DualN<S, N>> {
    let seeded = start..(start + N).min(x.len());
    x.iter()
        .enumerate()
        .map(|(j, &v)| {
            if seeded.contains(&j) {
                DualN::variable(v, j - start)
            } else {
                DualN::constant(v)
            }
        })
        .collect()
}

/// [`value_and_jacfwd`], reusing `first`, the outputs of the first pass
/// (`seeded(x, 0)`), when the caller already ran it.
pub(crate) fn forward_passes<S: Real, const N: usize>(
    f: impl Fn(&[DualN<S, N>]) -> Vec<DualN<S, N>>,
    x: &[S],
    mut first: Option<Vec<DualN<S, N>>>,
) -> Result<(Vec<S>, Matrix<S>)> {
    const { assert!(N > 0, "jacfwd_chunked needs at least one direction per pass (N > 0)") };
    let n = x.len();
    let mut inputs: Vec<DualN<S, N>> = x.iter().map(|&v| DualN::constant(v)).collect();
    if n == 0 {
        let values: Vec<S> = f(&inputs).iter().map(|y| y.value).collect();
        let rows = values.len();
        return Ok((values, Matrix::try_zeros(rows, 0)?));
    }
    let mut result: Option<(Vec<S>, Matrix<S>)> = None;
    for start in (0..n).step_by(N) {
        let end = (start + N).min(n);
        for (j, input) in inputs.iter_mut().enumerate().take(end).skip(start) {
            *input = DualN::variable(x[j], j - start);
        }
        let outputs = match first.take() {
            Some(outputs) if start == 0 => outputs,
            _ => f(&inputs),
        };
        if result.is_none() {
            let values = outputs.iter().map(|y| y.value).collect();
            result = Some((values, Matrix::try_zeros(outputs.len(), n)?));
        }
        let (_, jac) = result.as_mut().expect("the first pass made the matrix");
        check_len("output of f (it changed between passes)", jac.rows(), outputs.len())?;
        for (i, y) in outputs.iter().enumerate() {
            for j in start..end {
                jac[(i, j)] = y.tangents()[j - start];
            }
        }
        for (j, input) in inputs.iter_mut().enumerate().take(end).skip(start) {
            *input = DualN::constant(x[j]);
        }
    }
    match result {
        Some(result) => Ok(result),
        None => Ok((Vec::new(), Matrix::try_zeros(0, n)?)),
    }
}

/// The Jacobian of `f: Rⁿ → Rᵐ` at `x` by reverse mode: one recording, then
/// one backward sweep per 8 output rows.
///
/// ```
/// use num_traits::Float;
/// fn f<T: Float>(x: &[T]) -> Vec<T> { vec![x[0] * x[1], x[1].exp()] }
/// let j = chainrule::jacrev(f, &[2.0, 0.0]).unwrap();
/// assert_eq!(j.to_rows(), vec![vec![0.0, 2.0], vec![0.0, 1.0]]);
/// ```
///
/// # Errors
/// As [`grad`].
pub fn jacrev<S: TapeScalar>(f: impl Fn(&[Var<S>]) -> Vec<Var<S>>, x: &[S]) -> Result<Matrix<S>> {
    record_jacobian(f, x, Sweep::Reverse).map(|(_, j)| j)
}

/// The Jacobian of `f: Rⁿ → Rᵐ` at `x`, choosing the mode by shape.
///
/// `f` is recorded once; then the recording is swept **forward** (tangents
/// for 8 inputs per sweep) when `n ≤ m` (tall or square Jacobians) and
/// **backward** (adjoints for 8 outputs per sweep) when `n > m` (wide ones),
/// so the cost is `⌈min(n, m)/8⌉` sweeps.
///
/// ```
/// use num_traits::Float;
/// // f: R³ → R², f(x) = (x0·x1·x2, sin(x0) + x2²)
/// fn f<T: Float>(x: &[T]) -> Vec<T> { vec![x[0] * x[1] * x[2], x[0].sin() + x[2] * x[2]] }
/// let j = chainrule::jacobian(f, &[1.0, 2.0, 3.0]).unwrap();
/// assert_eq!(j.to_rows(), vec![vec![6.0, 3.0, 2.0], vec![1f64.cos(), 0.0, 6.0]]);
/// ```
///
/// # Errors
/// As [`grad`].
pub fn jacobian<S: TapeScalar>(f: impl Fn(&[Var<S>]) -> Vec<Var<S>>, x: &[S]) -> Result<Matrix<S>> {
    value_and_jacobian(f, x).map(|(_, j)| j)
}

/// `f(x)` and its Jacobian, as [`jacobian`] computes them; also says which
/// mode was used.
///
/// ```
/// use num_traits::Float;
/// fn f<T: Float>(x: &[T]) -> Vec<T> { vec![x[0] * x[1], x[0] + x[1], x[0]] }
/// let (values, j) = chainrule::value_and_jacobian(f, &[2.0, 3.0]).unwrap();
/// assert_eq!(values, vec![6.0, 5.0, 2.0]);
/// assert_eq!(j.row(0), &[3.0, 2.0]);
/// ```
///
/// # Errors
/// As [`grad`].
pub fn value_and_jacobian<S: TapeScalar>(f: impl Fn(&[Var<S>]) -> Vec<Var<S>>, x: &[S]) -> Result<(Vec<S>, Matrix<S>)> {
    record_jacobian(f, x, Sweep::Auto)
}

/// Which sweeps compute a Jacobian from one recording.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sweep {
    /// Forward when `n ≤ m`, else reverse.
    Auto,
    /// Forward (tangent) sweeps, 8 inputs per sweep.
    Forward,
    /// Backward (adjoint) sweeps, 8 outputs per sweep.
    Reverse,
}

impl Sweep {
    /// The concrete direction for `n` inputs and `m` outputs.
    pub fn resolve(self, inputs: usize, outputs: usize) -> Sweep {
        match self {
            Sweep::Auto if inputs <= outputs => Sweep::Forward,
            Sweep::Auto => Sweep::Reverse,
            other => other,
        }
    }
}

/// Directions per sweep in [`jacobian`], [`jacrev`] and [`record_jacobian`].
pub const SWEEP_BLOCK: usize = 8;

/// `len` blocks of unit seeds: entry `j` has a 1 in slot `j - start` when `j`
/// is among the `SWEEP_BLOCK` indices from `start`.
fn unit_blocks<S: Real>(len: usize, start: usize) -> Vec<[S; SWEEP_BLOCK]> {
    (0..len)
        .map(|j| {
            let mut block = [S::zero(); SWEEP_BLOCK];
            if (start..start + SWEEP_BLOCK).contains(&j) {
                block[j - start] = S::one();
            }
            block
        })
        .collect()
}

/// Records `f` once and builds its Jacobian with the given sweeps.
///
/// ```
/// use chainrule::api::{record_jacobian, Sweep};
/// use num_traits::Float;
/// fn f<T: Float>(x: &[T]) -> Vec<T> { vec![x[0].powi(3)] }
/// let (_, by_tangents) = record_jacobian(f, &[2.0], Sweep::Forward).unwrap();
/// let (_, by_adjoints) = record_jacobian(f, &[2.0], Sweep::Reverse).unwrap();
/// assert_eq!(by_tangents, by_adjoints);
/// ```
///
/// # Errors
/// As [`grad`].
pub fn record_jacobian<S: TapeScalar>(
    f: impl Fn(&[Var<S>]) -> Vec<Var<S>>,
    x: &[S],
    sweep: Sweep,
) -> Result<(Vec<S>, Matrix<S>)> {
    let rec = Recording::new();
    let inputs = rec.inputs(x);
    let outputs = f(&inputs);
    let values: Vec<S> = outputs.iter().map(Var::value).collect();
    let (n, m) = (x.len(), outputs.len());
    let mut jac = Matrix::try_zeros(m, n)?;
    // Sweeps carry SWEEP_BLOCK directions at a time: one pass over the tape
    // per block of inputs (forward) or outputs (reverse).
    match sweep.resolve(n, m) {
        Sweep::Forward => {
            for start in (0..n).step_by(SWEEP_BLOCK) {
                let directions = unit_blocks::<S>(n, start);
                let columns = rec.jvp_block::<SWEEP_BLOCK>(&directions, &outputs)?;
                for (i, block) in columns.iter().enumerate() {
                    for j in start..(start + SWEEP_BLOCK).min(n) {
                        jac[(i, j)] = block[j - start];
                    }
                }
            }
        }
        _ => {
            for start in (0..m).step_by(SWEEP_BLOCK) {
                let cotangents = unit_blocks::<S>(m, start);
                let rows = rec.vjp_block::<SWEEP_BLOCK>(&outputs, &cotangents)?;
                for (j, block) in rows.iter().enumerate() {
                    for i in start..(start + SWEEP_BLOCK).min(m) {
                        jac[(i, j)] = block[i - start];
                    }
                }
            }
        }
    }
    // Also report problems when there was nothing to sweep.
    if n == 0 || m == 0 {
        rec.vjp(&outputs, &vec![S::zero(); m])?;
    }
    Ok((values, jac))
}

/// How many Hessian columns [`hessian`] computes per recording.
pub const HESSIAN_CHUNK: usize = 8;

/// The Hessian of `f: Rⁿ → R` at `x`, forward-over-reverse: each of
/// `⌈n/8⌉` recordings runs `f` on `Var<DualN<S, 8>>` seeded along 8 inputs,
/// and its backward sweep yields the gradient's derivatives along them,
/// 8 columns of the Hessian.
///
/// ```
/// use num_traits::Float;
/// fn f<T: Float>(x: &[T]) -> T { x[0] * x[0] * x[1] + x[1].sin() }
/// let h = chainrule::hessian(f, &[1.0, 2.0]).unwrap();
/// assert_eq!(h.to_rows(), vec![vec![4.0, 2.0], vec![2.0, -2f64.sin()]]);
/// ```
///
/// # Errors
/// As [`grad`].
pub fn hessian<S>(
    f: impl Fn(&[Var<DualN<S, HESSIAN_CHUNK>>]) -> Var<DualN<S, HESSIAN_CHUNK>>,
    x: &[S],
) -> Result<Matrix<S>>
where
    S: Real,
    DualN<S, HESSIAN_CHUNK>: TapeScalar,
{
    value_grad_hessian(f, x).map(|(_, _, h)| h)
}

/// `f(x)`, its gradient and its Hessian, as [`hessian`] computes them.
///
/// ```
/// use num_traits::Float;
/// fn f<T: Float>(x: &[T]) -> T { x[0].powi(3) }
/// let (value, gradient, h) = chainrule::value_grad_hessian(f, &[2.0]).unwrap();
/// assert_eq!((value, gradient[0], h[(0, 0)]), (8.0, 12.0, 12.0));
/// ```
///
/// # Errors
/// As [`grad`].
pub fn value_grad_hessian<S>(
    f: impl Fn(&[Var<DualN<S, HESSIAN_CHUNK>>]) -> Var<DualN<S, HESSIAN_CHUNK>>,
    x: &[S],
) -> Result<(S, Vec<S>, Matrix<S>)>
where
    S: Real,
    DualN<S, HESSIAN_CHUNK>: TapeScalar,
{
    let n = x.len();
    let mut h = Matrix::try_zeros(n, n)?;
    let mut value_and_gradient = None;
    // At least one recording, also for n = 0, to get the value.
    for start in (0..n.max(1)).step_by(HESSIAN_CHUNK) {
        let end = (start + HESSIAN_CHUNK).min(n);
        let rec = Recording::<DualN<S, HESSIAN_CHUNK>>::new();
        let inputs: Vec<_> = x
            .iter()
            .enumerate()
            .map(|(j, &v)| {
                let seeded = if (start..end).contains(&j) {
                    DualN::variable(v, j - start)
                } else {
                    DualN::constant(v)
                };
                rec.input(seeded)
            })
            .collect();
        let y = f(&inputs);
        let adjoints = rec.gradient(y)?;
        for (i, adjoint) in adjoints.iter().enumerate() {
            for j in start..end {
                h[(i, j)] = adjoint.tangents()[j - start];
            }
        }
        value_and_gradient.get_or_insert_with(|| (y.value().value, adjoints.iter().map(|a| a.value).collect()));
    }
    let (value, gradient) = value_and_gradient.expect("at least one recording ran");
    Ok((value, gradient, h))
}

/// Hessian-vector product `H(x)·v` of `f: Rⁿ → R`, without forming `H`: one
/// forward-over-reverse recording and sweep.
///
/// ```
/// use num_traits::Float;
/// fn f<T: Float>(x: &[T]) -> T { x[0] * x[0] * x[1] }
/// // H = [[2·x1, 2·x0], [2·x0, 0]] at (1, 2)
/// assert_eq!(chainrule::hvp(f, &[1.0, 2.0], &[1.0, 1.0]).unwrap(), vec![6.0, 2.0]);
/// ```
///
/// # Errors
/// [`Error::LengthMismatch`](crate::Error::LengthMismatch) if `v` and `x` differ in length; otherwise as
/// [`grad`].
pub fn hvp<S>(f: impl Fn(&[Var<Dual<S>>]) -> Var<Dual<S>>, x: &[S], v: &[S]) -> Result<Vec<S>>
where
    S: Real,
    Dual<S>: TapeScalar,
{
    check_len("direction vector", x.len(), v.len())?;
    let (_, adjoints) = second_order_sweep(&f, x, v)?;
    Ok(adjoints.iter().map(|a| a.tangent).collect())
}

/// Records `f` at `x` moving along `direction` and sweeps back: the adjoints
/// are `∇f(x) + ε·H(x)·direction`. (Used by [`hvp`].)
fn second_order_sweep<S>(
    f: &impl Fn(&[Var<Dual<S>>]) -> Var<Dual<S>>,
    x: &[S],
    direction: &[S],
) -> Result<(S, Vec<Dual<S>>)>
where
    S: Real,
    Dual<S>: TapeScalar,
{
    let rec = Recording::<Dual<S>>::new();
    let inputs: Vec<Var<Dual<S>>> = x
        .iter()
        .zip(direction)
        .map(|(&x, &d)| rec.input(Dual::new(x, d)))
        .collect();
    let y = f(&inputs);
    let adjoints = rec.gradient(y)?;
    Ok((y.value().value, adjoints))
}

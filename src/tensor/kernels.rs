//! Elementwise kernels, one loop per operation.
//!
//! An array operation applies one elementary function to every element, so
//! the operation is matched once, outside the loop: [`with_unary!`] and
//! [`with_binary!`] have one arm per operation of the [rule table](crate::rules),
//! each handing its caller a closure that applies that operation's rule. The
//! code the caller runs with it is compiled once per operation, as a
//! straight-line loop body (no jump table inside the loop, nothing to stop
//! the compiler from vectorizing it). The rules themselves stay in
//! `rules.rs`: the arms only name them.
//!
//! The chain rule's strong zero (`0 · ∞ = 0`, see [`rules::chain`]) is kept
//! exactly, but tested once per block of elements: a block is first computed
//! with plain products, and only a block holding a NaN (the one sign that a
//! `0 · ∞` may have happened) is computed again with the strong-zero product.

use crate::rules;

use super::pool::{self, Pooled};
use crate::Real;

/// Elements per strong-zero test: small enough to stay in the L1 cache
/// between the plain pass and the test.
const BLOCK: usize = 256;

/// Runs `$body` with `$f` bound to `|x| rules::unary(op, x)` for the
/// operation `$op`, one match arm (and so one compiled copy of `$body`) per
/// operation. The match is exhaustive: a new operation does not compile
/// until it has its arm.
macro_rules! with_unary {
    ($op:expr, |$f:ident| $body:expr) => {{
        use $crate::rules::{Unary as U, unary as rule};
        match $op {
            U::Neg => {
                let $f = |x| rule(U::Neg, x);
                $body
            }
            U::Recip => {
                let $f = |x| rule(U::Recip, x);
                $body
            }
            U::Powi(n) => {
                let $f = move |x| rule(U::Powi(n), x);
                $body
            }
            U::Sqrt => {
                let $f = |x| rule(U::Sqrt, x);
                $body
            }
            U::Cbrt => {
                let $f = |x| rule(U::Cbrt, x);
                $body
            }
            U::Exp => {
                let $f = |x| rule(U::Exp, x);
                $body
            }
            U::Exp2 => {
                let $f = |x| rule(U::Exp2, x);
                $body
            }
            U::ExpM1 => {
                let $f = |x| rule(U::ExpM1, x);
                $body
            }
            U::Ln => {
                let $f = |x| rule(U::Ln, x);
                $body
            }
            U::Log2 => {
                let $f = |x| rule(U::Log2, x);
                $body
            }
            U::Log10 => {
                let $f = |x| rule(U::Log10, x);
                $body
            }
            U::Ln1p => {
                let $f = |x| rule(U::Ln1p, x);
                $body
            }
            U::Sin => {
                let $f = |x| rule(U::Sin, x);
                $body
            }
            U::Cos => {
                let $f = |x| rule(U::Cos, x);
                $body
            }
            U::Tan => {
                let $f = |x| rule(U::Tan, x);
                $body
            }
            U::Asin => {
                let $f = |x| rule(U::Asin, x);
                $body
            }
            U::Acos => {
                let $f = |x| rule(U::Acos, x);
                $body
            }
            U::Atan => {
                let $f = |x| rule(U::Atan, x);
                $body
            }
            U::Sinh => {
                let $f = |x| rule(U::Sinh, x);
                $body
            }
            U::Cosh => {
                let $f = |x| rule(U::Cosh, x);
                $body
            }
            U::Tanh => {
                let $f = |x| rule(U::Tanh, x);
                $body
            }
            U::Asinh => {
                let $f = |x| rule(U::Asinh, x);
                $body
            }
            U::Acosh => {
                let $f = |x| rule(U::Acosh, x);
                $body
            }
            U::Atanh => {
                let $f = |x| rule(U::Atanh, x);
                $body
            }
            U::Abs => {
                let $f = |x| rule(U::Abs, x);
                $body
            }
            U::Sigmoid => {
                let $f = |x| rule(U::Sigmoid, x);
                $body
            }
            U::Softplus => {
                let $f = |x| rule(U::Softplus, x);
                $body
            }
            U::Relu => {
                let $f = |x| rule(U::Relu, x);
                $body
            }
            U::Floor => {
                let $f = |x| rule(U::Floor, x);
                $body
            }
            U::Ceil => {
                let $f = |x| rule(U::Ceil, x);
                $body
            }
            U::Round => {
                let $f = |x| rule(U::Round, x);
                $body
            }
            U::Trunc => {
                let $f = |x| rule(U::Trunc, x);
                $body
            }
            U::Fract => {
                let $f = |x| rule(U::Fract, x);
                $body
            }
            U::Signum => {
                let $f = |x| rule(U::Signum, x);
                $body
            }
            U::Scale(by) => {
                let $f = move |x| rule(U::Scale(by), x);
                $body
            }
            U::StopGradient => {
                let $f = |x| rule(U::StopGradient, x);
                $body
            }
        }
    }};
}

/// [`with_unary!`] for the two-argument operations: `$f` is
/// `|a, b| rules::binary(op, a, b)`.
macro_rules! with_binary {
    ($op:expr, |$f:ident| $body:expr) => {{
        use $crate::rules::{Binary as B, binary as rule};
        match $op {
            B::Add => {
                let $f = |a, b| rule(B::Add, a, b);
                $body
            }
            B::Sub => {
                let $f = |a, b| rule(B::Sub, a, b);
                $body
            }
            B::Mul => {
                let $f = |a, b| rule(B::Mul, a, b);
                $body
            }
            B::Div => {
                let $f = |a, b| rule(B::Div, a, b);
                $body
            }
            B::Rem => {
                let $f = |a, b| rule(B::Rem, a, b);
                $body
            }
            B::Powf => {
                let $f = |a, b| rule(B::Powf, a, b);
                $body
            }
            B::Log => {
                let $f = |a, b| rule(B::Log, a, b);
                $body
            }
            B::Atan2 => {
                let $f = |a, b| rule(B::Atan2, a, b);
                $body
            }
            B::Hypot => {
                let $f = |a, b| rule(B::Hypot, a, b);
                $body
            }
            B::Max => {
                let $f = |a, b| rule(B::Max, a, b);
                $body
            }
            B::Min => {
                let $f = |a, b| rule(B::Min, a, b);
                $body
            }
        }
    }};
}

pub(super) use {with_binary, with_unary};

/// Interleaved lanes of a sum: element `i` goes to lane `i mod LANES`.
const LANES: usize = 16;

/// The sum of an array's elements in a fixed order that vectorizes: element
/// `i` is added to lane `i mod 16`, and the 16 lane totals are then added
/// pairwise. Fed in pieces (each a multiple of 16 long, but the last), it
/// gives the bits of the whole array fed at once.
pub(super) struct LaneSum<T> {
    lanes: [T; LANES],
}

impl<T: Real + Pooled> LaneSum<T> {
    /// An empty sum (each lane −0, the neutral element of IEEE addition).
    pub(super) fn new() -> Self {
        LaneSum {
            lanes: [-T::zero(); LANES],
        }
    }

    /// Adds the next `values`: a multiple of 16 of them, except in the
    /// last piece.
    #[inline(always)]
    pub(super) fn add(&mut self, values: &[T]) {
        let mut chunks = values.chunks_exact(LANES);
        for chunk in &mut chunks {
            for (lane, &x) in self.lanes.iter_mut().zip(chunk) {
                *lane += x;
            }
        }
        for (lane, &x) in self.lanes.iter_mut().zip(chunks.remainder()) {
            *lane += x;
        }
    }

    /// The lane totals added pairwise.
    pub(super) fn total(self) -> T {
        let mut lanes = self.lanes;
        let mut width = LANES;
        while width > 1 {
            width /= 2;
            for i in 0..width {
                lanes[i] = lanes[2 * i] + lanes[2 * i + 1];
            }
        }
        lanes[0]
    }
}

/// Whether any element is NaN, without branches (so the test vectorizes).
#[inline(always)]
fn any_nan<T: Real + Pooled>(values: &[T]) -> bool {
    values.iter().fold(false, |nan, v| nan | v.is_nan())
}

/// `partial(xᵢ) · gᵢ` for every element, with the strong zero: the adjoint
/// of an elementwise function whose partial at `x` is `partial(x)`.
#[inline(always)]
pub(super) fn scaled_by<T: Real + Pooled>(x: &[T], g: &[T], partial: impl Fn(T) -> T) -> Vec<T> {
    debug_assert_eq!(x.len(), g.len());
    by_blocks(x.len(), |out, at| {
        let (x, g) = (&x[at..at + out.len()], &g[at..at + out.len()]);
        product(out, g, |i| partial(x[i]));
    })
}

/// A result of `len` elements filled a block at a time by `fill(block,
/// first index)`: room for each block is made as it is reached (a
/// cache-resident fill), not for the whole result first.
#[inline(always)]
fn by_blocks<T: Real + Pooled>(len: usize, mut fill: impl FnMut(&mut [T], usize)) -> Vec<T> {
    let mut out = pool::take(len);
    for at in (0..len).step_by(BLOCK) {
        out.resize((at + BLOCK).min(len), T::zero());
        fill(&mut out[at..], at);
    }
    out
}

/// `Σᵢ partial(xᵢ) · gᵢ` with the strong zero, summed in order: the adjoint
/// of a single number broadcast against `x`.
#[inline(always)]
pub(super) fn sum_scaled_by<T: Real + Pooled>(x: &[T], g: &[T], partial: impl Fn(T) -> T) -> T {
    x.iter()
        .zip(g)
        .fold(T::zero(), |sum, (&x, &g)| sum + rules::chain(partial(x), g))
}

/// The adjoints of both arguments of an elementwise two-argument function
/// of equal-shaped arrays, `∂f/∂a(aᵢ, cᵢ) · gᵢ` and `∂f/∂c(aᵢ, cᵢ) · gᵢ`,
/// from one evaluation of the rule per element; `None` where not `wanted`.
#[inline(always)]
pub(super) fn binary_adjoints<T: Real + Pooled>(
    a: &[T],
    c: &[T],
    g: &[T],
    wanted: (bool, bool),
    rule: impl Fn(T, T) -> (T, T, T),
) -> (Option<Vec<T>>, Option<Vec<T>>) {
    debug_assert!(a.len() == c.len() && a.len() == g.len());
    let rule = &rule;
    // Both partials at element `i` of the block of `n` elements at `at`.
    let partials = |at: usize, n: usize| {
        let (a, c) = (&a[at..at + n], &c[at..at + n]);
        move |i: usize| {
            let (_, pa, pc) = rule(a[i], c[i]);
            (pa, pc)
        }
    };
    match wanted {
        (false, false) => (None, None),
        (true, false) => {
            let da = by_blocks(a.len(), |out, at| {
                let at_block = partials(at, out.len());
                product(out, &g[at..at + out.len()], |i| at_block(i).0);
            });
            (Some(da), None)
        }
        (false, true) => {
            let dc = by_blocks(a.len(), |out, at| {
                let at_block = partials(at, out.len());
                product(out, &g[at..at + out.len()], |i| at_block(i).1);
            });
            (None, Some(dc))
        }
        (true, true) => {
            let mut dc = pool::take(a.len());
            let da = by_blocks(a.len(), |block_a, at| {
                let n = block_a.len();
                dc.resize(at + n, T::zero());
                products(block_a, &mut dc[at..], &g[at..at + n], partials(at, n));
            });
            (Some(da), Some(dc))
        }
    }
}

/// `∂f/∂a(xᵢ, xᵢ) · gᵢ + ∂f/∂c(xᵢ, xᵢ) · gᵢ` for every element, with the
/// strong zero: the adjoint of `f(x, x)`, summed as the two separate
/// adjoints would be. A plain sum of products that is not NaN equals the
/// strong-zero one (a NaN product makes the sum NaN), so the block test
/// stands here too.
#[inline(always)]
pub(super) fn adjoint_of_square<T: Real + Pooled>(x: &[T], g: &[T], rule: impl Fn(T, T) -> (T, T, T)) -> Vec<T> {
    let mut out = pool::take(x.len());
    for (x, g) in x.chunks(BLOCK).zip(g.chunks(BLOCK)) {
        let start = out.len();
        out.extend(x.iter().zip(g).map(|(&x, &g)| {
            let (_, pa, pc) = rule(x, x);
            pa * g + pc * g
        }));
        let block = &mut out[start..];
        if any_nan(block) {
            for ((o, &x), &g) in block.iter_mut().zip(x).zip(g) {
                let (_, pa, pc) = rule(x, x);
                *o = rules::chain(pa, g) + rules::chain(pc, g);
            }
        }
    }
    out
}

/// `∂(i)·adjoint` at each element of a block, from the partial derivative
/// `partial(i)`, with the chain rule's strong zero tested once for the
/// block: every kernel's adjoint products, fused or not.
#[inline(always)]
pub(super) fn product<T: Real + Pooled>(out: &mut [T], adjoint: &[T], partial: impl Fn(usize) -> T) {
    let n = adjoint.len();
    let out = &mut out[..n];
    let mut nan = false;
    for (i, &g) in adjoint.iter().enumerate() {
        let p = partial(i) * g;
        out[i] = p;
        nan |= p.is_nan();
    }
    if nan {
        for (i, &g) in adjoint.iter().enumerate() {
            out[i] = rules::chain(partial(i), g);
        }
    }
}

/// [`product`] for both arguments of a two-argument function at once, from
/// `partials(i) = (∂₁, ∂₂)`.
#[inline(always)]
pub(super) fn products<T: Real + Pooled>(
    first: &mut [T],
    second: &mut [T],
    adjoint: &[T],
    partials: impl Fn(usize) -> (T, T),
) {
    let n = adjoint.len();
    let (first, second) = (&mut first[..n], &mut second[..n]);
    let mut nan = false;
    for (i, &g) in adjoint.iter().enumerate() {
        let (d1, d2) = partials(i);
        let (p1, p2) = (d1 * g, d2 * g);
        first[i] = p1;
        second[i] = p2;
        nan |= p1.is_nan() | p2.is_nan();
    }
    if nan {
        for (i, &g) in adjoint.iter().enumerate() {
            let (d1, d2) = partials(i);
            first[i] = rules::chain(d1, g);
            second[i] = rules::chain(d2, g);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::{Binary, Unary};

    const SPECIAL: [f64; 10] = [
        0.0,
        -0.0,
        1.0,
        -2.5,
        0.5,
        1e300,
        5e-324,
        f64::INFINITY,
        f64::NEG_INFINITY,
        f64::NAN,
    ];

    /// Bits with every NaN counted as one (IEEE leaves a NaN's sign open).
    fn bits(values: &[f64]) -> Vec<u64> {
        values
            .iter()
            .map(|v| if v.is_nan() { f64::NAN.to_bits() } else { v.to_bits() })
            .collect()
    }

    /// Inputs that put special values in some blocks and none in others.
    fn inputs(len: usize, shift: usize) -> Vec<f64> {
        (0..len)
            .map(|i| {
                if (i / BLOCK) % 2 == 0 {
                    SPECIAL[(i * 7 + shift) % SPECIAL.len()]
                } else {
                    0.3 + 0.001 * i as f64
                }
            })
            .collect()
    }

    #[test]
    fn block_tested_adjoints_equal_the_strong_zero_chain_rule_bit_for_bit() {
        let len = 3 * BLOCK + 17;
        let (a, c, g) = (inputs(len, 0), inputs(len, 3), inputs(len, 5));
        for &op in Unary::ALL {
            let got = with_unary!(op, |f| scaled_by(&a, &g, |x| f(x).1));
            let want: Vec<f64> = a
                .iter()
                .zip(&g)
                .map(|(&x, &g)| rules::chain(rules::unary(op, x).1, g))
                .collect();
            assert_eq!(bits(&got), bits(&want), "{op:?}");
        }
        for &op in Binary::ALL {
            for wanted in [(true, true), (true, false), (false, true)] {
                let (da, dc) = with_binary!(op, |f| binary_adjoints(&a, &c, &g, wanted, f));
                let partials: Vec<(f64, f64, f64)> = a.iter().zip(&c).map(|(&x, &y)| rules::binary(op, x, y)).collect();
                let want_a: Vec<f64> = partials.iter().zip(&g).map(|(p, &g)| rules::chain(p.1, g)).collect();
                let want_c: Vec<f64> = partials.iter().zip(&g).map(|(p, &g)| rules::chain(p.2, g)).collect();
                assert_eq!(da.map(|d| bits(&d)), wanted.0.then(|| bits(&want_a)), "{op:?} ∂a");
                assert_eq!(dc.map(|d| bits(&d)), wanted.1.then(|| bits(&want_c)), "{op:?} ∂c");
            }
            let square = with_binary!(op, |f| adjoint_of_square(&a, &g, f));
            let want: Vec<f64> = a
                .iter()
                .zip(&g)
                .map(|(&x, &g)| {
                    let (_, pa, pc) = rules::binary(op, x, x);
                    rules::chain(pa, g) + rules::chain(pc, g)
                })
                .collect();
            assert_eq!(bits(&square), bits(&want), "{op:?} of a tensor with itself");
        }
    }
}

//! [`Dual`]: a value with one tangent.

use std::fmt;

use crate::Real;
use crate::rules::{self, Binary, Unary, chain};

/// A dual number `value + tangent·ε` with `ε² = 0`: forward-mode AD in one
/// direction.
///
/// Evaluating `f` on `Dual::variable(x)` gives `f(x) + f'(x)·ε`. The scalar
/// `T` may itself be a dual number, so `Dual<Dual<f64>>` carries second
/// derivatives; the nesting order keeps the two perturbations apart.
///
/// Equality and ordering compare the values only.
///
/// ```
/// use chainrule::Dual;
/// use num_traits::Float;
///
/// let x = Dual::variable(2.0);
/// let y = x * x + x.sin();
/// assert_eq!(y.value, 4.0 + 2f64.sin());
/// assert_eq!(y.tangent, 4.0 + 2f64.cos());
/// assert_eq!(format!("{}", Dual::new(2.0, 3.0)), "2 + 3ε");
/// ```
#[derive(Clone, Copy)]
pub struct Dual<T> {
    /// The primal value.
    pub value: T,
    /// The derivative of the value along the seeded direction.
    pub tangent: T,
}

impl<T: Real> Dual<T> {
    /// A dual number with the given value and tangent.
    pub fn new(value: T, tangent: T) -> Self {
        Dual { value, tangent }
    }

    /// The input being differentiated: tangent 1.
    pub fn variable(value: T) -> Self {
        Dual {
            value,
            tangent: T::one(),
        }
    }

    /// A number that does not depend on the input: tangent 0.
    pub fn constant(value: T) -> Self {
        Dual {
            value,
            tangent: T::zero(),
        }
    }

    #[inline(always)]
    fn primal(&self) -> T {
        self.value
    }

    /// Dual numbers keep no record of comparisons (their values may, when
    /// they are tape variables: comparing compares those).
    #[inline(always)]
    fn note_comparison(&self, _other: &Self, _outcome: crate::reverse::Outcome) {}

    #[inline(always)]
    fn is_exact_zero(&self) -> bool {
        self.value.is_zero() && self.tangent.is_zero()
    }

    #[inline(always)]
    fn lift_unary(self, op: Unary) -> Self {
        let (value, slope) = rules::unary(op, self.value);
        // On primitive floats, plain arithmetic first and the strong-zero
        // guard only when a NaN says a 0·∞ may have happened (see
        // `Real::PRIMITIVE`). Composite tangents (tape variables, duals) go
        // straight to the guarded product: computing both would record twice.
        let tangent = if T::PRIMITIVE {
            let plain = slope * self.tangent;
            if plain.is_nan() && !op.has_unit_slope() {
                repaired_unary(slope, self.tangent)
            } else {
                plain
            }
        } else {
            chain(slope, self.tangent)
        };
        Dual { value, tangent }
    }

    #[inline(always)]
    fn lift_binary(self, op: Binary, other: Self) -> Self {
        let (value, da, db) = rules::binary(op, self.value, other.value);
        let tangent = if T::PRIMITIVE {
            let plain = da * self.tangent + db * other.tangent;
            if plain.is_nan() && !op.has_unit_partials() {
                repaired_binary(da, self.tangent, db, other.tangent)
            } else {
                plain
            }
        } else {
            chain(da, self.tangent) + chain(db, other.tangent)
        };
        Dual { value, tangent }
    }

    #[inline(always)]
    fn lift_mul_add(self, a: Self, b: Self) -> Self {
        let (value, d_self, d_a, d_b) = rules::mul_add(self.value, a.value, b.value);
        let tangent = chain(d_self, self.tangent) + chain(d_a, a.tangent) + chain(d_b, b.tangent);
        Dual { value, tangent }
    }

    /// A custom elementary function: value and partials on the values, the
    /// tangent by the chain rule.
    #[inline(always)]
    fn lift_elementary<E: crate::custom::Elementary<K>, const K: usize>(f: &E, args: [Self; K]) -> Self {
        let values = args.map(|a| a.value);
        Self::by_chain_rule(T::apply_elementary(f, values), T::elementary_partials(f, values), args)
    }

    /// The partials of a custom elementary function as numbers of this
    /// type: from the user's second partials when the rule has them,
    /// otherwise by running `partials` on these dual numbers.
    fn lift_elementary_partials<E: crate::custom::Elementary<K>, const K: usize>(f: &E, args: [Self; K]) -> [Self; K] {
        let values = args.map(|a| a.value);
        crate::custom::lifted_partials(f, args, values, |value, partials| {
            Self::by_chain_rule(value, partials, args)
        })
    }

    /// The number with value `value` whose tangent follows from `partials`
    /// with respect to `args` by the chain rule.
    #[inline(always)]
    fn by_chain_rule<const K: usize>(value: T, partials: [T; K], args: [Self; K]) -> Self {
        let mut terms = partials.into_iter().zip(args).map(|(p, a)| chain(p, a.tangent));
        let tangent = match terms.next() {
            Some(first) => terms.fold(first, |sum, term| sum + term),
            None => T::zero(),
        };
        Dual { value, tangent }
    }

    /// A custom vector function: the values by the rule on the values (so
    /// nested numbers apply it again), the tangents by its Jacobian-vector
    /// product, skipped when no argument moves.
    fn lift_vector<F: crate::custom::VectorRule>(f: &F, args: &[Self]) -> Vec<Self> {
        let values: Vec<T> = args.iter().map(|a| a.value).collect();
        let outputs = T::apply_vector(f, &values);
        let tangents: Vec<T> = args.iter().map(|a| a.tangent).collect();
        if T::all_zero(&tangents) {
            return outputs.into_iter().map(Dual::constant).collect();
        }
        let pushed = f.jvp(&values, &outputs, &tangents);
        crate::custom::check_tangents(F::NAME, outputs.len(), pushed.len());
        outputs
            .into_iter()
            .zip(pushed)
            .map(|(value, tangent)| Dual { value, tangent })
            .collect()
    }

    /// The chain rule's strong-zero product (see [`rules::chain`]) on dual
    /// numbers: its value is the strong product of the values, so a nested
    /// derivative's value equals the plain one, and its tangent follows the
    /// product rule.
    #[inline(always)]
    fn lift_strong_mul(self, other: Self) -> Self {
        if self.is_exact_zero() || other.is_exact_zero() {
            return Dual::constant(T::zero());
        }
        Dual {
            value: chain(self.value, other.value),
            tangent: chain(other.value, self.tangent) + chain(self.value, other.tangent),
        }
    }
}

/// The strong-zero tangent of a unary operation, out of line and cold:
/// reached only when the plain product was NaN, so the user's loop keeps
/// just the plain arithmetic and one NaN test per operation. (Inline, the
/// repair's masks sat in every loop; out of line, Rosenbrock's `Dual` loop
/// ran 3.04 → 2.91 µs at n = 10³.) Being opaque, it would hide that a ±1
/// partial never needs it, so the callers skip it for those by operation.
#[cold]
#[inline(never)]
fn repaired_unary<T: Real>(slope: T, tangent: T) -> T {
    chain(slope, tangent)
}

/// The strong-zero tangent of a binary operation, out of line (see
/// [`repaired_unary`]).
#[cold]
#[inline(never)]
fn repaired_binary<T: Real>(da: T, ta: T, db: T, tb: T) -> T {
    chain(da, ta) + chain(db, tb)
}

impl_real_number!([T: Real] Dual<T>, T);

impl<T: fmt::Display + Real> fmt::Display for Dual<T> {
    /// `2 + 3ε`; a negative tangent prints as `2 - 3ε`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.value, f)?;
        if self.tangent.is_sign_negative() && !self.tangent.is_nan() {
            f.write_str(" - ")?;
            fmt::Display::fmt(&-self.tangent, f)?;
        } else {
            f.write_str(" + ")?;
            fmt::Display::fmt(&self.tangent, f)?;
        }
        f.write_str("ε")
    }
}

impl<T: fmt::Debug> fmt::Debug for Dual<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Dual")
            .field("value", &self.value)
            .field("tangent", &self.tangent)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use num_traits::Float;

    #[test]
    fn product_and_quotient_rules() {
        let x = Dual::variable(3.0_f64);
        let c = Dual::constant(2.0);
        // (x·2)' = 2, (x/2)' = 1/2, (2/x)' = -2/x²
        assert_eq!((x * c).tangent, 2.0);
        assert_eq!((x / c).tangent, 0.5);
        assert_eq!((c / x).tangent, -2.0 / 9.0);
        assert_eq!((2.0 * x).tangent, 2.0);
        assert_eq!((x - 1.0).tangent, 1.0);
        assert_eq!((1.0 - x).tangent, -1.0);
    }

    #[test]
    fn display_shows_sign_of_tangent() {
        assert_eq!(Dual::new(1.5, -0.25).to_string(), "1.5 - 0.25ε");
    }

    #[test]
    fn comparisons_look_at_values() {
        assert!(Dual::new(1.0, 5.0) < Dual::new(2.0, -5.0));
        assert_eq!(Dual::new(1.0, 5.0), Dual::new(1.0, 0.0));
    }

    #[test]
    fn constant_sqrt_at_zero_has_zero_tangent() {
        // sqrt'(0) = ∞, but a constant has no tangent to scale: strong zero.
        let c = Dual::constant(0.0_f64).sqrt();
        assert_eq!((c.value, c.tangent), (0.0, 0.0));
    }
}

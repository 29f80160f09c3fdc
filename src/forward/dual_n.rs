//! [`DualN`]: a value with `N` tangents, for chunked Jacobians.

use std::fmt;

use crate::Real;
use crate::rules::{self, Binary, Unary, chain};

/// A value with `N` tangents carried at once: `N` Jacobian-vector products for
/// the price of one evaluation of the function and `N` of its derivatives.
///
/// [`jacfwd`](crate::jacfwd) seeds `N` input directions per pass with it.
/// Equality and ordering compare the values only.
///
/// ```
/// use chainrule::DualN;
///
/// // f(x, y) = x·y at (3, 4), both partials in one pass.
/// let x = DualN::<f64, 2>::variable(3.0, 0);
/// let y = DualN::<f64, 2>::variable(4.0, 1);
/// let f = x * y;
/// assert_eq!(f.value, 12.0);
/// assert_eq!(f.tangents(), &[4.0, 3.0]);
/// assert_eq!(f.to_string(), "12 + [4, 3]ε");
/// ```
#[derive(Clone, Copy)]
pub struct DualN<T, const N: usize> {
    /// The primal value.
    pub value: T,
    /// One derivative per seeded direction.
    tangents: [T; N],
    /// False only when every tangent is known to be zero: then operations
    /// skip their tangent arithmetic with one test. In a chunked Jacobian
    /// most numbers do not move (constants, inputs outside the chunk).
    moving: bool,
}

impl<T: Real, const N: usize> DualN<T, N> {
    /// A number with the given value and tangents.
    pub fn new(value: T, tangents: [T; N]) -> Self {
        DualN {
            value,
            tangents,
            moving: !T::all_zero(&tangents),
        }
    }

    /// The derivatives along the seeded directions.
    pub fn tangents(&self) -> &[T; N] {
        &self.tangents
    }

    /// The `direction`-th input: tangent 1 in slot `direction`, 0 elsewhere.
    ///
    /// # Panics
    /// If `direction >= N` (a programming error: pick a slot below `N`).
    pub fn variable(value: T, direction: usize) -> Self {
        assert!(
            direction < N,
            "DualN::variable: direction {direction} is out of range for {N} tangents"
        );
        let mut tangents = [T::zero(); N];
        tangents[direction] = T::one();
        DualN {
            value,
            tangents,
            moving: true,
        }
    }

    /// A number that does not depend on any input.
    pub fn constant(value: T) -> Self {
        DualN {
            value,
            tangents: [T::zero(); N],
            moving: false,
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
        self.value.is_zero() && self.tangents.iter().all(|t| t.is_zero())
    }

    /// Whether any tangent may be nonzero (one test of a flag).
    #[inline(always)]
    fn moves(&self) -> bool {
        self.moving
    }

    #[inline(always)]
    fn lift_unary(self, op: Unary) -> Self {
        let (value, slope) = rules::unary(op, self.value);
        if !self.moves() {
            return DualN::constant(value);
        }
        DualN {
            value,
            tangents: self.tangents.map(|t| chain(slope, t)),
            moving: true,
        }
    }

    #[inline(always)]
    fn lift_binary(self, op: Binary, other: Self) -> Self {
        let (value, da, db) = rules::binary(op, self.value, other.value);
        let tangents = match (self.moves(), other.moves()) {
            (false, false) => return DualN::constant(value),
            (true, false) => self.tangents.map(|t| chain(da, t)),
            (false, true) => other.tangents.map(|u| chain(db, u)),
            (true, true) => {
                let mut tangents = self.tangents;
                for (t, u) in tangents.iter_mut().zip(other.tangents) {
                    *t = chain(da, *t) + chain(db, u);
                }
                tangents
            }
        };
        DualN {
            value,
            tangents,
            moving: true,
        }
    }

    #[inline(always)]
    fn lift_mul_add(self, a: Self, b: Self) -> Self {
        let (value, d_self, d_a, d_b) = rules::mul_add(self.value, a.value, b.value);
        let tangents = std::array::from_fn(|k| {
            chain(d_self, self.tangents[k]) + chain(d_a, a.tangents[k]) + chain(d_b, b.tangents[k])
        });
        DualN {
            value,
            tangents,
            moving: self.moving | a.moving | b.moving,
        }
    }

    /// A custom elementary function: value and partials on the values, the
    /// tangents by the chain rule from the arguments that move.
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

    /// The number with value `value` whose tangents follow from `partials`
    /// with respect to `args` by the chain rule, from the arguments that move.
    #[inline(always)]
    fn by_chain_rule<const K: usize>(value: T, partials: [T; K], args: [Self; K]) -> Self {
        let mut tangents: Option<[T; N]> = None;
        for (partial, arg) in partials.into_iter().zip(args) {
            if !arg.moves() {
                continue;
            }
            let terms = arg.tangents.map(|t| chain(partial, t));
            tangents = Some(match tangents {
                None => terms,
                Some(sum) => std::array::from_fn(|k| sum[k] + terms[k]),
            });
        }
        match tangents {
            None => DualN::constant(value),
            Some(tangents) => DualN {
                value,
                tangents,
                moving: true,
            },
        }
    }

    /// A custom vector function: the values by the rule on the values (so
    /// nested numbers apply it again), each direction's tangents by one
    /// Jacobian-vector product, skipped for directions in which no argument
    /// moves.
    fn lift_vector<F: crate::custom::VectorRule>(f: &F, args: &[Self]) -> Vec<Self> {
        let values: Vec<T> = args.iter().map(|a| a.value).collect();
        let outputs = T::apply_vector(f, &values);
        let mut tangents = vec![[T::zero(); N]; outputs.len()];
        if args.iter().any(|a| a.moves()) {
            for k in 0..N {
                let lane: Vec<T> = args.iter().map(|a| a.tangents[k]).collect();
                if T::all_zero(&lane) {
                    continue;
                }
                let pushed = f.jvp(&values, &outputs, &lane);
                crate::custom::check_tangents(F::NAME, outputs.len(), pushed.len());
                for (block, tangent) in tangents.iter_mut().zip(pushed) {
                    block[k] = tangent;
                }
            }
        }
        outputs
            .into_iter()
            .zip(tangents)
            .map(|(value, tangents)| DualN::new(value, tangents))
            .collect()
    }

    /// The strong-zero product, as `Dual`'s: value from the values' strong
    /// product, tangents by the product rule, skipping factors that do not move.
    #[inline(always)]
    fn lift_strong_mul(self, other: Self) -> Self {
        let value = chain(self.value, other.value);
        let tangents = match (self.moves(), other.moves()) {
            (false, false) => return DualN::constant(value),
            (true, false) => self.tangents.map(|t| chain(other.value, t)),
            (false, true) => other.tangents.map(|u| chain(self.value, u)),
            (true, true) => {
                std::array::from_fn(|k| chain(other.value, self.tangents[k]) + chain(self.value, other.tangents[k]))
            }
        };
        DualN {
            value,
            tangents,
            moving: true,
        }
    }
}

impl_real_number!([T: Real, const N: usize] DualN<T, N>, T);

impl<T: fmt::Display, const N: usize> fmt::Display for DualN<T, N> {
    /// `12 + [4, 3]ε`
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.value, f)?;
        f.write_str(" + [")?;
        for (k, t) in self.tangents.iter().enumerate() {
            if k > 0 {
                f.write_str(", ")?;
            }
            fmt::Display::fmt(t, f)?;
        }
        f.write_str("]ε")
    }
}

impl<T: fmt::Debug, const N: usize> fmt::Debug for DualN<T, N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DualN")
            .field("value", &self.value)
            .field("tangents", &self.tangents)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use num_traits::Float;

    #[test]
    fn all_directions_in_one_pass() {
        // f(x, y, z) = x·sin(y) + z², gradient (sin y, x cos y, 2z)
        let [x, y, z] = [1.5, 0.7, -2.0];
        let dx = DualN::<f64, 3>::variable(x, 0);
        let dy = DualN::<f64, 3>::variable(y, 1);
        let dz = DualN::<f64, 3>::variable(z, 2);
        let f = dx * dy.sin() + dz.powi(2);
        assert_eq!(f.tangents(), &[y.sin(), x * y.cos(), 2.0 * z]);
    }

    #[test]
    fn strong_zero_products_lane_by_lane() {
        // √ at 0 has slope ∞: the seeded lane gets ∞, the unseeded one the
        // strong zero 0 (not IEEE's ∞·0 = NaN).
        let root = DualN::<f64, 4>::variable(0.0, 1).sqrt();
        assert_eq!(root.tangents(), &[0.0, f64::INFINITY, 0.0, 0.0]);
        // A zero factor silences ∞ and NaN tangents of the other, lane by lane.
        let wild = DualN::new(2.0, [f64::INFINITY, f64::NAN, 1.0, -0.0]);
        let product = wild * DualN::new(0.0, [0.0, 0.0, 3.0, 0.0]);
        assert_eq!(product.tangents(), &[0.0, 0.0, 6.0, 0.0]);
        // Where nothing is NaN, the plain products stand, signs of zero included.
        let signed = DualN::new(-1.0, [0.0, -0.0, 1.0, 2.0]) * DualN::constant(3.0);
        assert_eq!(
            signed.tangents().map(f64::to_bits),
            [0.0, -0.0, 3.0, 6.0].map(f64::to_bits)
        );
    }

    #[test]
    #[should_panic(expected = "out of range")]
    fn variable_slot_must_exist() {
        let _ = DualN::<f64, 2>::variable(1.0, 2);
    }
}

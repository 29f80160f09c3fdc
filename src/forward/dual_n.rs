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
    /// False only when every tangent is `T::zero()`: then operations skip
    /// their tangent arithmetic with one test, and a result that does not
    /// move takes its zero lanes from an argument that does not move either
    /// (no new zeros to write, nothing to select). In a chunked Jacobian
    /// most numbers do not move (constants, inputs outside the chunk).
    moving: bool,
}

impl<T: Real, const N: usize> DualN<T, N> {
    /// A number with the given value and tangents. Tangents that are all
    /// zero are stored as `+0` (a `−0` among them becomes `+0`): such a
    /// number does not move.
    ///
    /// ```
    /// use chainrule::DualN;
    /// let still = DualN::<f64, 2>::new(1.0, [-0.0, 0.0]);
    /// assert!(still.tangents().iter().all(|t| t.to_bits() == 0));
    /// ```
    pub fn new(value: T, tangents: [T; N]) -> Self {
        if T::all_zero(&tangents) {
            return DualN::constant(value);
        }
        DualN {
            value,
            tangents,
            moving: true,
        }
    }

    /// A number that does not move, with value `value`: its lanes are those
    /// of `still`, which does not move either, so they are `T::zero()`
    /// already.
    #[inline(always)]
    fn still_like(value: T, still: &Self) -> Self {
        debug_assert!(!still.moving);
        DualN {
            value,
            tangents: still.tangents,
            moving: false,
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
            return DualN::still_like(value, &self);
        }
        DualN {
            value,
            tangents: lanes::scaled(slope, &self.tangents),
            moving: true,
        }
    }

    #[inline(always)]
    fn lift_binary(self, op: Binary, other: Self) -> Self {
        let (value, da, db) = rules::binary(op, self.value, other.value);
        let tangents = match (self.moves(), other.moves()) {
            (false, false) => return DualN::still_like(value, &self),
            (true, false) => lanes::scaled(da, &self.tangents),
            (false, true) => lanes::scaled(db, &other.tangents),
            (true, true) => lanes::combined(da, &self.tangents, db, &other.tangents),
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
        if !(self.moving || a.moving || b.moving) {
            return DualN::still_like(value, &self);
        }
        let mut tangents = self.tangents;
        for (k, lane) in tangents.iter_mut().enumerate() {
            *lane = chain(d_self, *lane) + chain(d_a, a.tangents[k]) + chain(d_b, b.tangents[k]);
        }
        DualN {
            value,
            tangents,
            moving: true,
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
            let terms = lanes::scaled(partial, &arg.tangents);
            tangents = Some(match tangents {
                None => terms,
                Some(mut sum) => {
                    for (lane, term) in sum.iter_mut().zip(terms) {
                        *lane += term;
                    }
                    sum
                }
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
            (false, false) => return DualN::still_like(value, &self),
            (true, false) => lanes::scaled(other.value, &self.tangents),
            (false, true) => lanes::scaled(self.value, &other.tangents),
            (true, true) => lanes::combined(other.value, &self.tangents, self.value, &other.tangents),
        };
        DualN {
            value,
            tangents,
            moving: true,
        }
    }
}

/// The chain rule on a block of `N` tangent lanes.
///
/// A partial that is a finite nonzero primitive float makes the plain
/// product equal the strong-zero one in every lane, bit for bit (its product
/// with a NaN lane is NaN either way, and no other lane can make a NaN), so
/// then the lanes are plain arithmetic: a straight-line loop the compiler
/// turns into packed SIMD, and for the ±1 partials of sums and differences
/// no multiplication at all. The test is on the partials, once per
/// operation, not on the lanes. A zero or non-finite partial (rare), or
/// composite lanes (tape variables, duals: computing both forms would record
/// twice), take the strong-zero products.
///
/// Loops over indices, not `array::map`: `map` is not always inlined when a
/// crate is split into several codegen units, and then the lanes are built
/// one call at a time.
mod lanes {
    use crate::Real;
    use crate::rules::chain;

    /// `slope · t` in every lane.
    #[inline(always)]
    pub(super) fn scaled<T: Real, const N: usize>(slope: T, t: &[T; N]) -> [T; N] {
        let mut out = *t;
        if T::PRIMITIVE && slope.is_finite_nonzero() {
            for lane in out.iter_mut() {
                *lane = slope * *lane;
            }
        } else {
            for lane in out.iter_mut() {
                *lane = chain(slope, *lane);
            }
        }
        out
    }

    /// `da · t + db · u` in every lane.
    #[inline(always)]
    pub(super) fn combined<T: Real, const N: usize>(da: T, t: &[T; N], db: T, u: &[T; N]) -> [T; N] {
        let mut out = *t;
        if T::PRIMITIVE && da.is_finite_nonzero() && db.is_finite_nonzero() {
            for (lane, &u) in out.iter_mut().zip(u) {
                *lane = da * *lane + db * u;
            }
        } else {
            for (lane, &u) in out.iter_mut().zip(u) {
                *lane = chain(da, *lane) + chain(db, u);
            }
        }
        out
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

    /// Special values for values, partials and lanes: zeros of both signs,
    /// ±1, ordinary, tiny and huge numbers, ±∞ and NaN.
    const SPECIAL: [f64; 12] = [
        0.0,
        -0.0,
        1.0,
        -1.0,
        2.5,
        -0.75,
        5e-324,
        1e300,
        f64::INFINITY,
        f64::NEG_INFINITY,
        f64::NAN,
        -3.0,
    ];

    fn lanes_from(start: usize) -> [f64; 4] {
        std::array::from_fn(|k| SPECIAL[(start + 5 * k) % SPECIAL.len()])
    }

    /// The lanes' bits, signs of zero included; every NaN counts as one
    /// (IEEE arithmetic leaves a NaN's sign and payload open).
    fn bits(lanes: &[f64; 4]) -> [u64; 4] {
        lanes.map(|lane| {
            if lane.is_nan() {
                f64::NAN.to_bits()
            } else {
                lane.to_bits()
            }
        })
    }

    /// The fast lanes (plain arithmetic when the partials are finite and
    /// nonzero) equal the strong-zero chain rule lane by lane, bit for bit,
    /// for every operation of the rule table, at values and lanes that hit
    /// every special case.
    #[test]
    fn plain_lanes_equal_the_strong_zero_chain_rule_bit_for_bit() {
        for (i, &a) in SPECIAL.iter().enumerate() {
            for (j, &b) in SPECIAL.iter().enumerate() {
                let (t, u) = (lanes_from(i), lanes_from(j + 3));
                let x = DualN::new(a, t);
                let y = DualN::new(b, u);
                for &op in Binary::ALL {
                    let (_, da, db) = rules::binary(op, a, b);
                    let expected: [f64; 4] = match (x.moves(), y.moves()) {
                        (false, false) => [0.0; 4],
                        (true, false) => t.map(|t| chain(da, t)),
                        (false, true) => u.map(|u| chain(db, u)),
                        (true, true) => std::array::from_fn(|k| chain(da, t[k]) + chain(db, u[k])),
                    };
                    let got = x.lift_binary(op, y);
                    assert_eq!(bits(got.tangents()), bits(&expected), "{op:?} at ({a}, {b})");
                }
                let product = x.lift_strong_mul(y);
                let expected: [f64; 4] = std::array::from_fn(|k| chain(b, t[k]) + chain(a, u[k]));
                assert_eq!(
                    bits(product.tangents()),
                    bits(&expected),
                    "strong product at ({a}, {b})"
                );
            }
            let x = DualN::new(a, lanes_from(i));
            for &op in Unary::ALL {
                let (_, slope) = rules::unary(op, a);
                let expected = lanes_from(i).map(|t| chain(slope, t));
                assert_eq!(bits(x.lift_unary(op).tangents()), bits(&expected), "{op:?} at {a}");
            }
        }
    }

    /// A number that does not move has `+0` lanes, whichever way it was
    /// made, so results that take their lanes from such an argument are the
    /// zeros a constant has, bit for bit.
    #[test]
    fn numbers_that_do_not_move_have_positive_zero_lanes() {
        let positive_zeros = |x: DualN<f64, 3>| x.tangents().iter().all(|t| t.to_bits() == 0);
        let still = DualN::new(-2.0, [-0.0, 0.0, -0.0]);
        assert!(!still.moves() && positive_zeros(still));
        let other = DualN::constant(3.0);
        for result in [
            still.sin(),
            -still,
            still * other,
            still - other,
            still.mul_add(other, still),
            still.powf(other),
        ] {
            assert!(!result.moves(), "{result:?}");
            assert!(positive_zeros(result), "{result:?}");
        }
        // Moving numbers keep their lanes as given, signs of zero included.
        let moving = DualN::<f64, 3>::new(1.0, [-0.0, 1.0, 0.0]);
        assert_eq!(moving.tangents()[0].to_bits(), (-0.0f64).to_bits());
    }

    #[test]
    #[should_panic(expected = "out of range")]
    fn variable_slot_must_exist() {
        let _ = DualN::<f64, 2>::variable(1.0, 2);
    }
}

//! Forward and reverse Jacobians agree on random compositions R³ → R².

use chainrule::rules::{Binary, Unary};
use chainrule::{Real, jacfwd, jacobian, jacrev};
use proptest::prelude::*;

/// A random expression over three inputs, built from smooth operations whose
/// domains are all of R (so every random point is a fair test).
#[derive(Clone, Debug)]
enum Expr {
    Input(usize),
    Constant(f64),
    Unary(Unary, Box<Expr>),
    Binary(Binary, Box<Expr>, Box<Expr>),
    /// a / (1 + b²): division with a denominator that never vanishes.
    SafeDiv(Box<Expr>, Box<Expr>),
}

impl Expr {
    fn eval<T: Real>(&self, x: &[T]) -> T {
        match self {
            Expr::Input(i) => x[*i],
            Expr::Constant(c) => T::from_f64(*c).unwrap(),
            Expr::Unary(op, a) => a.eval(x).apply_unary(*op),
            Expr::Binary(op, a, b) => a.eval(x).apply_binary(*op, b.eval(x)),
            Expr::SafeDiv(a, b) => {
                let b = b.eval(x);
                a.eval(x) / (T::one() + b * b)
            }
        }
    }
}

fn expr() -> impl Strategy<Value = Expr> {
    let leaf = prop_oneof![
        (0..3usize).prop_map(Expr::Input),
        (-2.0..2.0f64).prop_map(Expr::Constant)
    ];
    leaf.prop_recursive(5, 40, 2, |inner| {
        let unary = prop_oneof![
            Just(Unary::Sin),
            Just(Unary::Cos),
            Just(Unary::Tanh),
            Just(Unary::Atan),
            Just(Unary::Sigmoid),
            Just(Unary::Softplus),
            Just(Unary::Asinh),
            Just(Unary::Neg),
            Just(Unary::Powi(2)),
            Just(Unary::Powi(3)),
        ];
        let binary = prop_oneof![
            Just(Binary::Add),
            Just(Binary::Sub),
            Just(Binary::Mul),
            Just(Binary::Hypot)
        ];
        prop_oneof![
            (unary, inner.clone()).prop_map(|(op, a)| Expr::Unary(op, Box::new(a))),
            (binary, inner.clone(), inner.clone()).prop_map(|(op, a, b)| Expr::Binary(op, Box::new(a), Box::new(b))),
            (inner.clone(), inner).prop_map(|(a, b)| Expr::SafeDiv(Box::new(a), Box::new(b))),
        ]
    })
}

fn close(a: f64, b: f64) -> bool {
    // 1e-12 relative to max(|a|, |b|, 1): relative for entries of size 1 and
    // more; smaller entries (often left by cancellation, which the two modes
    // sum in different orders) get an absolute 1e-12.
    (a - b).abs() <= 1e-12 * a.abs().max(b.abs()).max(1.0) || (a.is_nan() && b.is_nan())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn forward_and_reverse_jacobians_agree(
        first in expr(),
        second in expr(),
        x in prop::array::uniform3(-1.5..1.5f64),
    ) {
        let f = |v: &[_]| vec![first.eval(v), second.eval(v)];
        let forward = jacfwd(|v| vec![first.eval(v), second.eval(v)], &x).unwrap();
        let reverse = jacrev(|v| vec![first.eval(v), second.eval(v)], &x).unwrap();
        let auto = jacobian(f, &x).unwrap();
        prop_assert_eq!((forward.rows(), forward.cols()), (2, 3));
        for i in 0..2 {
            for j in 0..3 {
                let (a, b, c) = (forward[(i, j)], reverse[(i, j)], auto[(i, j)]);
                prop_assert!(close(a, b), "J[{}][{}]: forward {:e} vs reverse {:e}", i, j, a, b);
                prop_assert!(close(a, c), "J[{}][{}]: forward {:e} vs auto {:e}", i, j, a, c);
            }
        }
    }
}

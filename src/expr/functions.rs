//! The functions the expression language knows, mapped onto the rule table.

use crate::rules::{Binary, ScaleBy, Unary};

/// A callable function of the expression language.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Function {
    /// One argument.
    Unary(Unary),
    /// Two arguments.
    Binary(Binary),
}

impl Function {
    /// How many arguments it takes.
    pub fn arity(self) -> usize {
        match self {
            Function::Unary(_) => 1,
            Function::Binary(_) => 2,
        }
    }
}

/// Every function name, as users write it. `log` is the natural logarithm
/// with one argument; the parser also accepts `log(x, base)`, the logarithm
/// in a base, as the library's `Float::log(self, base)`.
pub const FUNCTIONS: &[(&str, Function)] = &[
    ("sin", Function::Unary(Unary::Sin)),
    ("cos", Function::Unary(Unary::Cos)),
    ("tan", Function::Unary(Unary::Tan)),
    ("asin", Function::Unary(Unary::Asin)),
    ("acos", Function::Unary(Unary::Acos)),
    ("atan", Function::Unary(Unary::Atan)),
    ("sinh", Function::Unary(Unary::Sinh)),
    ("cosh", Function::Unary(Unary::Cosh)),
    ("tanh", Function::Unary(Unary::Tanh)),
    ("asinh", Function::Unary(Unary::Asinh)),
    ("acosh", Function::Unary(Unary::Acosh)),
    ("atanh", Function::Unary(Unary::Atanh)),
    ("exp", Function::Unary(Unary::Exp)),
    ("exp2", Function::Unary(Unary::Exp2)),
    ("expm1", Function::Unary(Unary::ExpM1)),
    ("ln", Function::Unary(Unary::Ln)),
    ("log", Function::Unary(Unary::Ln)),
    ("log2", Function::Unary(Unary::Log2)),
    ("log10", Function::Unary(Unary::Log10)),
    ("log1p", Function::Unary(Unary::Ln1p)),
    ("sqrt", Function::Unary(Unary::Sqrt)),
    ("cbrt", Function::Unary(Unary::Cbrt)),
    ("abs", Function::Unary(Unary::Abs)),
    ("sigmoid", Function::Unary(Unary::Sigmoid)),
    ("softplus", Function::Unary(Unary::Softplus)),
    ("stop_gradient", Function::Unary(Unary::StopGradient)),
    ("recip", Function::Unary(Unary::Recip)),
    ("relu", Function::Unary(Unary::Relu)),
    ("floor", Function::Unary(Unary::Floor)),
    ("ceil", Function::Unary(Unary::Ceil)),
    ("round", Function::Unary(Unary::Round)),
    ("trunc", Function::Unary(Unary::Trunc)),
    ("fract", Function::Unary(Unary::Fract)),
    ("signum", Function::Unary(Unary::Signum)),
    ("to_degrees", Function::Unary(Unary::Scale(ScaleBy::ToDegrees))),
    ("to_radians", Function::Unary(Unary::Scale(ScaleBy::ToRadians))),
    ("pow", Function::Binary(Binary::Powf)),
    ("atan2", Function::Binary(Binary::Atan2)),
    ("hypot", Function::Binary(Binary::Hypot)),
    ("max", Function::Binary(Binary::Max)),
    ("min", Function::Binary(Binary::Min)),
    ("rem", Function::Binary(Binary::Rem)),
];

/// Named constants.
pub const CONSTANTS: &[(&str, f64)] = &[("pi", std::f64::consts::PI), ("e", std::f64::consts::E)];

/// The function called `name`, if any.
///
/// ```
/// use chainrule::expr::{lookup_function, Function};
/// use chainrule::rules::Unary;
/// assert_eq!(lookup_function("log"), Some(Function::Unary(Unary::Ln)));
/// assert_eq!(lookup_function("sine"), None);
/// ```
pub fn lookup_function(name: &str) -> Option<Function> {
    FUNCTIONS.iter().find(|(n, _)| *n == name).map(|&(_, f)| f)
}

/// The value of the constant called `name`, if any.
pub fn lookup_constant(name: &str) -> Option<f64> {
    CONSTANTS.iter().find(|(n, _)| *n == name).map(|&(_, v)| v)
}

/// The known function name nearest to `name`, if it is near enough to be a
/// likely typo (edit distance at most 2, and less than the name's length).
///
/// ```
/// assert_eq!(chainrule::expr::suggest_function("sni"), Some("sin"));
/// assert_eq!(chainrule::expr::suggest_function("sqr"), Some("sqrt"));
/// assert_eq!(chainrule::expr::suggest_function("frobnicate"), None);
/// ```
pub fn suggest_function(name: &str) -> Option<&'static str> {
    let lower = name.to_ascii_lowercase();
    FUNCTIONS
        .iter()
        // Optimal string alignment: insertions, deletions, substitutions and
        // swaps of neighbours each cost 1 (so `sni` is one step from `sin`).
        .map(|&(known, _)| (strsim::osa_distance(&lower, known), known))
        .filter(|&(d, _)| d <= 2 && d < name.chars().count())
        .min_by_key(|&(d, _)| d)
        .map(|(_, known)| known)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggestions_prefer_the_nearest() {
        assert_eq!(suggest_function("tanhh"), Some("tanh"));
        assert_eq!(suggest_function("SIN"), Some("sin"));
        assert_eq!(suggest_function("lg"), Some("ln"));
        assert_eq!(suggest_function("x"), None);
        assert_eq!(suggest_function("sni"), Some("sin")); // a swap of neighbours is one step
        assert_eq!(suggest_function("sinhh"), Some("sinh"));
    }

    /// Operations written with operators or special forms instead of a
    /// function name: `-x`, `x^n`, `+ - * /`, `log(x, base)`.
    fn written_otherwise(f: Function) -> bool {
        matches!(
            f,
            Function::Unary(Unary::Neg | Unary::Powi(_))
                | Function::Binary(Binary::Add | Binary::Sub | Binary::Mul | Binary::Div | Binary::Log)
        )
    }

    #[test]
    fn every_operation_of_the_rule_table_can_be_written() {
        let named = |f: Function| FUNCTIONS.iter().any(|&(_, g)| g == f);
        let all = Unary::ALL
            .iter()
            .map(|&u| Function::Unary(u))
            .chain(Binary::ALL.iter().map(|&b| Function::Binary(b)));
        for f in all {
            assert!(
                named(f) != written_otherwise(f),
                "{f:?}: give it a name in FUNCTIONS (and the README's and --help's lists), or list it as written otherwise"
            );
        }
    }
}

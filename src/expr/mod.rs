//! The expression language of the command line: parse a formula once,
//! evaluate and differentiate it in every mode.
//!
//! A parsed [`Program`] is bound to named inputs and evaluated generically
//! over any [`Real`](crate::Real) number type (`f64`, duals, tape variables),
//! using the library's own rule table: no symbolic differentiation, no second
//! copy of the derivative rules.
//!
//! # Syntax
//!
//! - Numbers: `2`, `2.5`, `.5`, `3.`, `1e-3`, `1.5E+2`. Constants `pi`, `e`.
//! - Variables: `[A-Za-z_][A-Za-z0-9_]*`, e.g. `x`, `x1`, `w_2`.
//! - Operators: `+ - * /`, `^` (power, right-associative, tighter than unary
//!   minus: `-x^2` is `-(x^2)`, `2^-x` is `2^(-x)`), unary `-` and `+`,
//!   parentheses. No implicit multiplication: `2x` is an error.
//! - Functions of one argument: `sin cos tan asin acos atan sinh cosh tanh
//!   asinh acosh atanh exp exp2 expm1 ln log log2 log10 log1p sqrt cbrt abs
//!   sigmoid softplus` (`log(x)` is the natural logarithm); of two: `pow
//!   atan2 hypot max min`, and `log(x, base)`, the logarithm in a base (the
//!   library's `Float::log(x, base)`).
//! - Several outputs are separated by `;`.
//!
//! # Untrusted input
//!
//! Parsing never panics, and every error names its character column. Limits:
//! at most [`MAX_LENGTH`] characters, and parentheses and function calls
//! nested at most [`MAX_DEPTH`] deep. Within them, long sums, long chains of
//! signs or powers work: evaluating, differentiating and dropping a program
//! are loops, never recursion.
//!
//! ```
//! use chainrule::expr::parse;
//! let program = parse("ln(x1) + x1*x2 - sin(x2)")?;
//! let f = program.bind(&["x1", "x2"])?;
//! let (value, gradient) = chainrule::value_and_grad(|x| f.eval_one(x), &[2.0_f64, 5.0]).unwrap();
//! assert!((value - 11.652071).abs() < 1e-6);
//! assert_eq!(gradient[0], 5.5);
//!
//! let error = parse("sni(x)").unwrap_err();
//! assert_eq!(error.to_string(), "unknown function 'sni' (did you mean 'sin'?)");
//! # Ok::<(), chainrule::expr::ExprError>(())
//! ```

mod error;
mod functions;
mod lexer;
mod parser;
mod program;

pub use error::{ExprError, ExprErrorKind, MAX_QUOTED, printable};
pub use functions::{CONSTANTS, FUNCTIONS, Function, lookup_constant, lookup_function, suggest_function};
pub use parser::parse;
pub use program::{Bound, Node, Program};

/// The longest expression accepted, in characters.
pub const MAX_LENGTH: usize = 1_000_000;

/// The deepest nesting of parentheses and function calls accepted.
pub const MAX_DEPTH: usize = 200;

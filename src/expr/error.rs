//! Errors in expressions, located by character column.

use std::fmt;

/// What is wrong with an expression.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum ExprErrorKind {
    /// A character that starts no token, e.g. `×` or `$`.
    UnexpectedCharacter(char),
    /// A number that does not parse, e.g. `1e` or `1e+`.
    MalformedNumber(String),
    /// A number too large for an `f64`, e.g. `1e400`.
    NumberOutOfRange(String),
    /// The input is empty (or only white space).
    Empty,
    /// An operand was expected (after an operator, an opening parenthesis or a
    /// comma) but something else came.
    ExpectedOperand {
        /// What came instead, e.g. `')'`.
        found: String,
    },
    /// The input ended where an operand was needed, e.g. after a trailing `+`.
    UnexpectedEnd {
        /// The operator or token left dangling, e.g. `'+'`.
        after: String,
    },
    /// Two operands follow each other without an operator, e.g. `2x` or `x y`.
    MissingOperator {
        /// The second operand.
        found: String,
    },
    /// An opening parenthesis is never closed.
    UnclosedParenthesis,
    /// A closing parenthesis has no opening one.
    UnmatchedClosingParenthesis,
    /// A name followed by `(` that is not a known function.
    UnknownFunction {
        /// The name used.
        name: String,
        /// The nearest known function name, if one is near.
        suggestion: Option<&'static str>,
    },
    /// A function called with the wrong number of arguments.
    WrongArgumentCount {
        /// The function.
        name: String,
        /// How many arguments it takes.
        expected: usize,
        /// How many it got.
        found: usize,
    },
    /// A function name used without an argument list, e.g. `sin + 1`.
    FunctionWithoutArguments(String),
    /// A constant or variable followed by `(`, e.g. `x(2)`.
    NotAFunction(String),
    /// Parentheses and function calls nested deeper than [`MAX_DEPTH`](super::MAX_DEPTH).
    TooDeep {
        /// The limit.
        limit: usize,
    },
    /// The input is longer than [`MAX_LENGTH`](super::MAX_LENGTH) characters.
    TooLong {
        /// The limit.
        limit: usize,
        /// The input's length in characters.
        length: usize,
    },
    /// An empty output between `;` separators.
    EmptyOutput,
    /// A variable used in the expression has no value.
    UnboundVariable(String),
}

/// An error in an expression: what is wrong and where.
///
/// `column` counts characters (not bytes) from 1; `width` is how many
/// characters the offending token spans.
///
/// ```
/// use chainrule::expr::parse;
/// let error = parse("sin(x)×2").unwrap_err();
/// assert_eq!(error.column, 7);
/// assert_eq!(error.to_string(), "unexpected character '×'");
/// assert_eq!(error.render("sin(x)×2"), "unexpected character '×'\n  sin(x)×2\n        ^");
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct ExprError {
    /// What is wrong.
    pub kind: ExprErrorKind,
    /// 1-based character column of the offending token.
    pub column: usize,
    /// Width of the offending token in characters (at least 1).
    pub width: usize,
}

impl ExprError {
    pub(crate) fn new(kind: ExprErrorKind, column: usize, width: usize) -> Self {
        ExprError {
            kind,
            column,
            width: width.max(1),
        }
    }

    /// The message, then the source line with carets under the offending
    /// token. Long inputs are shown as a window around the column.
    pub fn render(&self, source: &str) -> String {
        const WINDOW: usize = 60;
        // One column per character, so the carets stay aligned: characters
        // that would act on the terminal show as spaces.
        let chars: Vec<char> = source
            .chars()
            .map(|c| if acts_on_terminal(c) { ' ' } else { c })
            .collect();
        let at = self.column.saturating_sub(1).min(chars.len());
        let start = at.saturating_sub(WINDOW / 2);
        let end = (start + WINDOW).min(chars.len());
        let prefix = if start > 0 { "…" } else { "" };
        let suffix = if end < chars.len() { "…" } else { "" };
        let shown: String = chars[start..end].iter().collect();
        let pad = " ".repeat(at - start + prefix.chars().count());
        let width = self.width.min(end.saturating_sub(at)).max(1);
        format!("{self}\n  {prefix}{shown}{suffix}\n  {pad}{}", "^".repeat(width))
    }
}

/// Whether `c` would act on a terminal or reorder text rather than print:
/// control characters (ESC starts escape sequences) and the invisible
/// formatting characters of Unicode (bidirectional overrides such as U+202E,
/// zero-width characters, the byte-order mark).
fn acts_on_terminal(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2060}'..='\u{206F}' | '\u{FEFF}' | '\u{061C}')
}

/// The longest piece of user input a message quotes, in characters.
pub const MAX_QUOTED: usize = 60;

/// User input as a message may quote it: characters that would act on the
/// terminal escaped as `\u{1b}`, and at most [`MAX_QUOTED`] characters, the
/// middle elided with `…`.
///
/// ```
/// use chainrule::expr::printable;
/// assert_eq!(printable("x\u{1b}[2J"), "x\\u{1b}[2J");
/// assert_eq!(printable(&"a".repeat(1000)).chars().count(), 61);
/// ```
pub fn printable(text: &str) -> String {
    let count = text.chars().count();
    let half = MAX_QUOTED / 2;
    let mut out = String::new();
    for (k, c) in text.chars().enumerate() {
        if count > MAX_QUOTED && k >= half && k < count - half {
            if k == half {
                out.push('…');
            }
            continue;
        }
        if acts_on_terminal(c) {
            out.push_str(&format!("\\u{{{:x}}}", c as u32));
        } else {
            out.push(c);
        }
    }
    out
}

impl fmt::Display for ExprError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use ExprErrorKind::*;
        let p = printable;
        match &self.kind {
            UnexpectedCharacter(c) => write!(f, "unexpected character '{}'", p(&c.to_string())),
            MalformedNumber(text) => write!(f, "malformed number '{}'", p(text)),
            NumberOutOfRange(text) => write!(f, "number '{}' is too large for a 64-bit float", p(text)),
            Empty => f.write_str("empty expression"),
            ExpectedOperand { found } => write!(f, "expected a number, variable, function or '(' but found {found}"),
            UnexpectedEnd { after } => write!(f, "the expression ends after {after}: an operand is missing"),
            MissingOperator { found } => write!(
                f,
                "missing operator before {found} (there is no implicit multiplication: write 2*x, not 2x)"
            ),
            UnclosedParenthesis => f.write_str("unclosed parenthesis: this '(' has no matching ')'"),
            UnmatchedClosingParenthesis => f.write_str("unmatched ')': there is no '(' to close"),
            UnknownFunction {
                name,
                suggestion: Some(near),
            } => {
                write!(f, "unknown function '{}' (did you mean '{near}'?)", p(name))
            }
            UnknownFunction { name, suggestion: None } => write!(f, "unknown function '{}'", p(name)),
            WrongArgumentCount { name, expected, found } => write!(
                f,
                "'{}' takes {expected} argument{}, but {found} {} given",
                p(name),
                if *expected == 1 { "" } else { "s" },
                if *found == 1 { "was" } else { "were" }
            ),
            FunctionWithoutArguments(name) => {
                write!(
                    f,
                    "function '{}' needs its arguments in parentheses, e.g. {}(x)",
                    p(name),
                    p(name)
                )
            }
            NotAFunction(name) => write!(f, "'{}' is not a function, so it cannot be called", p(name)),
            TooDeep { limit } => write!(
                f,
                "parentheses and function calls are nested deeper than {limit} levels"
            ),
            TooLong { limit, length } => {
                write!(f, "the expression is {length} characters long; the limit is {limit}")
            }
            EmptyOutput => f.write_str("empty output between ';' separators"),
            UnboundVariable(name) => {
                let name = p(name);
                write!(f, "variable '{name}' has no value (give it one with --at {name}=...)")
            }
        }
    }
}

impl std::error::Error for ExprError {}

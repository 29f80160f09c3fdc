//! Recursive descent over the tokens, with loops wherever the input can
//! repeat without nesting (sums, products, chains of signs and powers), so
//! only parentheses and function calls recurse, and those are limited to
//! [`MAX_DEPTH`] levels.
//!
//! Grammar (lowest precedence first):
//!
//! ```text
//! program  = sum { ";" sum } [ ";" ]
//! sum      = product { ("+" | "-") product }
//! product  = unary { ("*" | "/") unary }
//! unary    = { "+" | "-" } power
//! power    = primary [ "^" { "+" | "-" } primary [ "^" ... ] ]   (right-associative)
//! primary  = number | constant | variable | function "(" args ")" | "(" sum ")"
//! ```
//!
//! `^` binds tighter than unary minus: `-x^2` is `-(x^2)` and `2^-x` is
//! `2^(-x)`.

use std::collections::HashMap;

use super::error::{ExprError, ExprErrorKind};
use super::functions::{CONSTANTS, Function, lookup_constant, lookup_function, suggest_function};
use super::lexer::{Token, TokenKind, tokenize};
use super::program::{Node, Program};
use super::{MAX_DEPTH, MAX_LENGTH};
use crate::rules::{Binary, Unary};

/// Parses an expression, or several separated by `;`.
///
/// ```
/// use chainrule::expr::parse;
/// let f = parse("-x^2 + 2^-y")?;
/// let bound = f.bind(&["x", "y"])?;
/// assert_eq!(bound.eval_one(&[3.0, 1.0]), -9.0 + 0.5);
/// # Ok::<(), chainrule::expr::ExprError>(())
/// ```
///
/// # Errors
/// An [`ExprError`] naming what is wrong and its character column.
pub fn parse(source: &str) -> Result<Program, ExprError> {
    let length = source.chars().count();
    if length > MAX_LENGTH {
        return Err(ExprError::new(
            ExprErrorKind::TooLong {
                limit: MAX_LENGTH,
                length,
            },
            1,
            1,
        ));
    }
    let tokens = tokenize(source)?;
    let mut parser = Parser {
        tokens: &tokens,
        pos: 0,
        end_column: length + 1,
        depth: 0,
        variable_index: HashMap::new(),
        program: Program {
            nodes: Vec::new(),
            spans: Vec::new(),
            outputs: Vec::new(),
            variables: Vec::new(),
        },
    };
    parser.program()?;
    Ok(parser.program)
}

struct Parser<'t> {
    tokens: &'t [Token],
    pos: usize,
    /// Index of each variable seen so far in `program.variables`: a hash
    /// lookup keeps parsing linear in the number of distinct variables.
    variable_index: HashMap<String, usize>,
    /// Column just past the last character, where "unexpected end" points.
    end_column: usize,
    depth: usize,
    program: Program,
}

type Parsed = Result<usize, ExprError>;

impl Parser<'_> {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.pos)
    }

    fn peek_kind(&self) -> Option<&TokenKind> {
        self.peek().map(|t| &t.kind)
    }

    fn advance(&mut self) -> Option<Token> {
        let token = self.tokens.get(self.pos).cloned();
        self.pos += 1;
        token
    }

    fn push(&mut self, node: Node, column: usize, width: usize) -> usize {
        self.program.nodes.push(node);
        self.program.spans.push((column, width));
        self.program.nodes.len() - 1
    }

    fn error(kind: ExprErrorKind, token: &Token) -> ExprError {
        ExprError::new(kind, token.column, token.width)
    }

    /// The error for a token that cannot follow a complete operand.
    fn unexpected_after_operand(&self, token: &Token) -> ExprError {
        match token.kind {
            TokenKind::Close => Self::error(ExprErrorKind::UnmatchedClosingParenthesis, token),
            TokenKind::Number(_) | TokenKind::Name(_) | TokenKind::Open => Self::error(
                ExprErrorKind::MissingOperator {
                    found: token.describe(),
                },
                token,
            ),
            _ => Self::error(
                ExprErrorKind::ExpectedOperand {
                    found: token.describe(),
                },
                token,
            ),
        }
    }

    fn program(&mut self) -> Result<(), ExprError> {
        if self.tokens.is_empty() {
            return Err(ExprError::new(ExprErrorKind::Empty, 1, 1));
        }
        loop {
            if let Some(token) = self.peek().filter(|t| t.kind == TokenKind::Semicolon) {
                return Err(Self::error(ExprErrorKind::EmptyOutput, token));
            }
            let output = self.sum()?;
            self.program.outputs.push(output);
            match self.advance() {
                None => return Ok(()),
                Some(Token {
                    kind: TokenKind::Semicolon,
                    ..
                }) if self.peek().is_none() => return Ok(()),
                Some(Token {
                    kind: TokenKind::Semicolon,
                    ..
                }) => continue,
                Some(token) => return Err(self.unexpected_after_operand(&token)),
            }
        }
    }

    fn sum(&mut self) -> Parsed {
        let mut lhs = self.product()?;
        while let Some(op) = match self.peek_kind() {
            Some(TokenKind::Plus) => Some(Binary::Add),
            Some(TokenKind::Minus) => Some(Binary::Sub),
            _ => None,
        } {
            let token = self.advance().expect("peeked");
            let rhs = self.product()?;
            lhs = self.push(Node::Binary(op, lhs, rhs), token.column, 1);
        }
        Ok(lhs)
    }

    fn product(&mut self) -> Parsed {
        let mut lhs = self.unary()?;
        while let Some(op) = match self.peek_kind() {
            Some(TokenKind::Star) => Some(Binary::Mul),
            Some(TokenKind::Slash) => Some(Binary::Div),
            _ => None,
        } {
            let token = self.advance().expect("peeked");
            let rhs = self.unary()?;
            lhs = self.push(Node::Binary(op, lhs, rhs), token.column, 1);
        }
        Ok(lhs)
    }

    /// Leading signs, collected in a loop (10⁵ minus signs must not recurse).
    fn signs(&mut self) -> Vec<Token> {
        let mut signs = Vec::new();
        while matches!(self.peek_kind(), Some(TokenKind::Plus | TokenKind::Minus)) {
            signs.push(self.advance().expect("peeked"));
        }
        signs
    }

    /// Applies signs, innermost (last) first; `+` changes nothing.
    fn apply_signs(&mut self, signs: &[Token], mut operand: usize) -> usize {
        for sign in signs.iter().rev() {
            if sign.kind == TokenKind::Minus {
                operand = self.push(Node::Unary(Unary::Neg, operand), sign.column, 1);
            }
        }
        operand
    }

    fn unary(&mut self) -> Parsed {
        let signs = self.signs();
        let operand = self.power()?;
        Ok(self.apply_signs(&signs, operand))
    }

    /// `a ^ b ^ -c` = `a ^ (b ^ (-c))`: operands are read in a loop, then
    /// folded from the right.
    fn power(&mut self) -> Parsed {
        let base = self.primary()?;
        let mut chain: Vec<(Token, Vec<Token>, usize)> = Vec::new();
        while self.peek_kind() == Some(&TokenKind::Caret) {
            let caret = self.advance().expect("peeked");
            let signs = self.signs();
            let operand = self.primary()?;
            chain.push((caret, signs, operand));
        }
        let mut exponent: Option<usize> = None;
        for k in (0..chain.len()).rev() {
            let (_, signs, operand) = chain[k].clone();
            let raised = match exponent {
                None => operand,
                Some(e) => self.raise(operand, e, &chain[k + 1].0),
            };
            exponent = Some(self.apply_signs(&signs, raised));
        }
        Ok(match exponent {
            Some(e) => self.raise(base, e, &chain[0].0),
            None => base,
        })
    }

    /// `base ^ exponent`. An integer literal exponent (possibly negated)
    /// becomes `powi`, exact for negative bases; its now unused nodes are the
    /// last ones pushed, so they are removed.
    fn raise(&mut self, base: usize, exponent: usize, caret: &Token) -> usize {
        if let Some(n) = self.integer_literal(exponent) {
            let first = self.first_node_of(exponent);
            self.program.nodes.truncate(first);
            self.program.spans.truncate(first);
            return self.push(Node::Unary(Unary::Powi(n), base), caret.column, 1);
        }
        self.push(Node::Binary(Binary::Powf, base, exponent), caret.column, 1)
    }

    /// The first node index belonging to the exponent sub-expression (its
    /// literal, below any negations).
    fn first_node_of(&self, mut node: usize) -> usize {
        while let Node::Unary(Unary::Neg, inner) = self.program.nodes[node] {
            node = inner;
        }
        node
    }

    /// `Some(n)` if `node` is an integer literal in `i32` range, possibly
    /// negated, and nothing else reads it.
    fn integer_literal(&self, node: usize) -> Option<i32> {
        let mut sign = 1.0;
        let mut current = node;
        while let Node::Unary(Unary::Neg, inner) = self.program.nodes[current] {
            sign = -sign;
            current = inner;
        }
        match self.program.nodes[current] {
            Node::Constant { value, name: None } if value.fract() == 0.0 && value.abs() <= f64::from(i32::MAX) => {
                // The literal and its negations must be exactly the last nodes.
                (node == self.program.nodes.len() - 1).then_some((sign * value) as i32)
            }
            _ => None,
        }
    }

    fn primary(&mut self) -> Parsed {
        let previous = self
            .pos
            .checked_sub(1)
            .and_then(|p| self.tokens.get(p))
            .map(Token::describe);
        let Some(token) = self.advance() else {
            let after = previous.unwrap_or_else(|| "the start".to_string());
            return Err(ExprError::new(
                ExprErrorKind::UnexpectedEnd { after },
                self.end_column,
                1,
            ));
        };
        match &token.kind {
            TokenKind::Number(value) => Ok(self.push(
                Node::Constant {
                    value: *value,
                    name: None,
                },
                token.column,
                token.width,
            )),
            TokenKind::Name(name) => {
                let name = name.clone();
                if self.peek_kind() == Some(&TokenKind::Open) {
                    self.call(&name, &token)
                } else if let Some(&(constant, value)) = CONSTANTS.iter().find(|(c, _)| *c == name) {
                    Ok(self.push(
                        Node::Constant {
                            value,
                            name: Some(constant),
                        },
                        token.column,
                        token.width,
                    ))
                } else if lookup_function(&name).is_some() {
                    Err(Self::error(ExprErrorKind::FunctionWithoutArguments(name), &token))
                } else {
                    let next = self.program.variables.len();
                    let index = *self.variable_index.entry(name).or_insert_with_key(|name| {
                        self.program.variables.push(name.clone());
                        next
                    });
                    Ok(self.push(Node::Variable(index), token.column, token.width))
                }
            }
            TokenKind::Open => {
                self.enter(&token)?;
                let inner = self.sum()?;
                self.close(&token)?;
                self.depth -= 1;
                Ok(inner)
            }
            _ => Err(Self::error(
                ExprErrorKind::ExpectedOperand {
                    found: token.describe(),
                },
                &token,
            )),
        }
    }

    fn enter(&mut self, open: &Token) -> Result<(), ExprError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(Self::error(ExprErrorKind::TooDeep { limit: MAX_DEPTH }, open));
        }
        Ok(())
    }

    /// Expects the `)` matching `open`.
    fn close(&mut self, open: &Token) -> Result<(), ExprError> {
        match self.advance() {
            Some(Token {
                kind: TokenKind::Close, ..
            }) => Ok(()),
            None => Err(Self::error(ExprErrorKind::UnclosedParenthesis, open)),
            Some(token) => Err(self.unexpected_after_operand(&token)),
        }
    }

    fn call(&mut self, name: &str, name_token: &Token) -> Parsed {
        let function = match lookup_function(name) {
            Some(function) => function,
            None if lookup_constant(name).is_some() => {
                return Err(Self::error(ExprErrorKind::NotAFunction(name.to_string()), name_token));
            }
            None => {
                let suggestion = suggest_function(name);
                return Err(Self::error(
                    ExprErrorKind::UnknownFunction {
                        name: name.to_string(),
                        suggestion,
                    },
                    name_token,
                ));
            }
        };
        let open = self.advance().expect("caller peeked '('");
        self.enter(&open)?;
        let mut args = Vec::new();
        if self.peek_kind() == Some(&TokenKind::Close) {
            self.advance();
        } else {
            loop {
                args.push(self.sum()?);
                match self.peek_kind() {
                    Some(TokenKind::Comma) => {
                        self.advance();
                    }
                    _ => {
                        self.close(&open)?;
                        break;
                    }
                }
            }
        }
        self.depth -= 1;
        // `log(x)` is ln(x); `log(x, base)` is the library's `Float::log`.
        let function = match function {
            Function::Unary(Unary::Ln) if name == "log" && args.len() == 2 => Function::Binary(Binary::Log),
            other => other,
        };
        if args.len() != function.arity() {
            let kind = ExprErrorKind::WrongArgumentCount {
                name: name.to_string(),
                expected: function.arity(),
                found: args.len(),
            };
            return Err(Self::error(kind, name_token));
        }
        let node = match function {
            Function::Unary(op) => Node::Unary(op, args[0]),
            Function::Binary(op) => Node::Binary(op, args[0], args[1]),
        };
        Ok(self.push(node, name_token.column, name_token.width))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn value(source: &str, names: &[&str], at: &[f64]) -> f64 {
        parse(source).unwrap().bind(names).unwrap().eval_one(at)
    }

    fn error(source: &str) -> (ExprErrorKind, usize) {
        let e = parse(source).unwrap_err();
        (e.kind, e.column)
    }

    #[test]
    fn precedence_and_associativity() {
        assert_eq!(value("1 + 2 * 3", &[], &[]), 7.0);
        assert_eq!(value("(1 + 2) * 3", &[], &[]), 9.0);
        assert_eq!(value("8 / 4 / 2", &[], &[]), 1.0); // left-associative
        assert_eq!(value("8 - 4 - 2", &[], &[]), 2.0);
        assert_eq!(value("2 ^ 3 ^ 2", &[], &[]), 512.0); // right-associative
        assert_eq!(value("-x^2", &["x"], &[3.0]), -9.0); // -(x^2)
        assert_eq!(value("2^-x", &["x"], &[1.0]), 0.5); // 2^(-x)
        assert_eq!(value("2^-1^2", &[], &[]), 0.5); // 2^(-(1^2))
        assert_eq!(value("-2^2", &[], &[]), -4.0);
        assert_eq!(value("+-+x", &["x"], &[2.0]), -2.0);
        assert_eq!(value("2 * -3", &[], &[]), -6.0);
        assert_eq!(value("x^2^-1", &["x"], &[4.0]), 2.0); // x^(2^-1) = sqrt(x)
    }

    #[test]
    fn numbers_constants_and_functions() {
        assert_eq!(value(".5 + 3. + 1e-3 + 1.5E+2", &[], &[]), 0.5 + 3.0 + 1e-3 + 150.0);
        assert_eq!(value("pi", &[], &[]), std::f64::consts::PI);
        assert_eq!(value("e", &[], &[]), std::f64::consts::E);
        assert_eq!(value("log(e)", &[], &[]), 1.0);
        assert_eq!(
            value("pow(2, 10) + max(1, 2) + min(1, 2) + hypot(3, 4)", &[], &[]),
            1024.0 + 2.0 + 1.0 + 5.0
        );
        assert_eq!(value("atan2(1, 1)", &[], &[]), std::f64::consts::FRAC_PI_4);
        assert_eq!(value("sigmoid(0) + softplus(0)", &[], &[]), 0.5 + 2f64.ln());
        assert_eq!(value("w_2 * x1", &["x1", "w_2"], &[3.0, 2.0]), 6.0);
    }

    #[test]
    fn integer_exponents_are_exact_for_negative_bases() {
        let program = parse("x^3 + x^-2").unwrap();
        assert!(
            program
                .nodes()
                .iter()
                .any(|n| matches!(n, Node::Unary(Unary::Powi(3), _)))
        );
        assert!(
            program
                .nodes()
                .iter()
                .any(|n| matches!(n, Node::Unary(Unary::Powi(-2), _)))
        );
        assert_eq!(program.bind(&["x"]).unwrap().eval_one(&[-2.0]), -8.0 + 0.25);
        // a non-integer exponent stays powf: NaN for a negative base, as IEEE says
        assert!(value("x^0.5", &["x"], &[-4.0]).is_nan());
    }

    #[test]
    fn several_outputs() {
        let program = parse("x; x*2; x^2;").unwrap();
        assert_eq!(program.bind(&["x"]).unwrap().eval(&[3.0]), vec![3.0, 6.0, 9.0]);
    }

    #[test]
    fn every_error_kind_with_its_column() {
        use ExprErrorKind::*;
        assert_eq!(error("sin(x)×2"), (UnexpectedCharacter('×'), 7));
        assert_eq!(error("1 + 2e"), (MalformedNumber("2e".into()), 5));
        assert_eq!(error("   "), (Empty, 1));
        assert_eq!(error("x + )"), (ExpectedOperand { found: "')'".into() }, 5));
        assert_eq!(error("x * * y"), (ExpectedOperand { found: "'*'".into() }, 5));
        assert_eq!(error("x +"), (UnexpectedEnd { after: "'+'".into() }, 4));
        assert_eq!(error("2x"), (MissingOperator { found: "'x'".into() }, 2));
        assert_eq!(error("x y"), (MissingOperator { found: "'y'".into() }, 3));
        assert_eq!(error("(x + 1"), (UnclosedParenthesis, 1));
        assert_eq!(error("sin(x"), (UnclosedParenthesis, 4));
        assert_eq!(error("x + 1)"), (UnmatchedClosingParenthesis, 6));
        assert_eq!(
            error("sni(x)"),
            (
                UnknownFunction {
                    name: "sni".into(),
                    suggestion: Some("sin")
                },
                1
            )
        );
        assert_eq!(
            error("1 + frob(x)"),
            (
                UnknownFunction {
                    name: "frob".into(),
                    suggestion: None
                },
                5
            )
        );
        assert_eq!(
            error("sin(x, y)"),
            (
                WrongArgumentCount {
                    name: "sin".into(),
                    expected: 1,
                    found: 2
                },
                1
            )
        );
        assert_eq!(
            error("x + atan2(x)"),
            (
                WrongArgumentCount {
                    name: "atan2".into(),
                    expected: 2,
                    found: 1
                },
                5
            )
        );
        assert_eq!(
            error("cos()"),
            (
                WrongArgumentCount {
                    name: "cos".into(),
                    expected: 1,
                    found: 0
                },
                1
            )
        );
        assert_eq!(error("sin + 1"), (FunctionWithoutArguments("sin".into()), 1));
        assert_eq!(error("2 * pi(3)"), (NotAFunction("pi".into()), 5));
        assert_eq!(error("x;;y"), (EmptyOutput, 3));
        assert_eq!(error("; x"), (EmptyOutput, 1));
        assert_eq!(error("x, y"), (ExpectedOperand { found: "','".into() }, 2));
    }

    #[test]
    fn unbound_variables_point_at_their_first_use() {
        let program = parse("x * yy + yy").unwrap();
        let e = program.bind(&["x"]).unwrap_err();
        assert_eq!(
            (e.kind, e.column, e.width),
            (ExprErrorKind::UnboundVariable("yy".into()), 5, 2)
        );
    }

    #[test]
    fn limits_are_enforced() {
        let deep = format!("{}x{}", "(".repeat(MAX_DEPTH + 1), ")".repeat(MAX_DEPTH + 1));
        assert_eq!(
            error(&deep),
            (ExprErrorKind::TooDeep { limit: MAX_DEPTH }, MAX_DEPTH + 1)
        );
        let ok = format!("{}x{}", "(".repeat(MAX_DEPTH), ")".repeat(MAX_DEPTH));
        assert_eq!(value(&ok, &["x"], &[2.0]), 2.0);
        let calls = format!("{}x{}", "sin(".repeat(MAX_DEPTH + 1), ")".repeat(MAX_DEPTH + 1));
        assert!(matches!(error(&calls).0, ExprErrorKind::TooDeep { .. }));
        let long = "x".repeat(MAX_LENGTH + 1);
        assert!(matches!(error(&long).0, ExprErrorKind::TooLong { .. }));
    }

    #[test]
    fn hostile_but_legal_inputs_work() {
        let minus = format!("{}x", "-".repeat(100_000));
        assert_eq!(value(&minus, &["x"], &[3.0]), 3.0); // an even number of signs
        let sum = format!("x{}", " + x".repeat(199_999));
        assert_eq!(value(&sum, &["x"], &[1.0]), 200_000.0);
        let powers = format!("x{}", "^1".repeat(100_000));
        assert_eq!(value(&powers, &["x"], &[3.0]), 3.0);
    }

    #[test]
    fn printing_uses_only_the_parentheses_it_needs() {
        for (source, printed) in [
            ("(a+b)*c - -d^2", "(a + b) * c - -d^2"),
            ("a - (b - c)", "a - (b - c)"),
            ("(a - b) - c", "a - b - c"),
            ("(-x)^2 + (x^2)^3 + x^2^3", "(-x)^2 + (x^2)^3 + x^2^3"),
            ("2^-x + x^-2", "2^-x + x^-2"),
            ("a / (b * c) * sin(x + 1)", "a / (b * c) * sin(x + 1)"),
        ] {
            assert_eq!(parse(source).unwrap().to_string(), printed);
        }
        // Deep negations print without a parenthesis each, so they stay within the nesting limit.
        let signs = format!("y{}x", " - ".to_string() + &"-".repeat(MAX_DEPTH * 2));
        assert!(parse(&parse(&signs).unwrap().to_string()).is_ok());
    }

    #[test]
    fn printing_round_trips() {
        for source in [
            "-x^2 + 2^-y",
            "sin(x)/(1 + y^-2)",
            "atan2(x, y) - max(x, 0.1) * pi",
            "--x",
            "x^y^2",
        ] {
            let program = parse(source).unwrap();
            let printed = program.to_string();
            let again = parse(&printed).unwrap_or_else(|e| panic!("{printed}: {e}"));
            let at = [0.7_f64, 1.3];
            let names = ["x", "y"];
            let a = program.bind(&names).unwrap().eval_one(&at);
            let b = again.bind(&names).unwrap().eval_one(&at);
            assert_eq!(a.to_bits(), b.to_bits(), "{source} printed as {printed}");
        }
    }
}

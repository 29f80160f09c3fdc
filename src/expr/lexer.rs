//! Turns expression text into tokens, each with its character column.

use super::error::{ExprError, ExprErrorKind};

/// A token's kind.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum TokenKind {
    Number(f64),
    Name(String),
    Plus,
    Minus,
    Star,
    Slash,
    Caret,
    Open,
    Close,
    Comma,
    Semicolon,
}

/// A token and where it stands: 1-based character column and width.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Token {
    pub kind: TokenKind,
    pub column: usize,
    pub width: usize,
}

impl Token {
    /// How the token reads in a message, e.g. `'+'`, `number 2.5`, `'x'`.
    pub fn describe(&self) -> String {
        match &self.kind {
            TokenKind::Number(v) => format!("number {v}"),
            TokenKind::Name(name) => format!("'{name}'"),
            TokenKind::Plus => "'+'".into(),
            TokenKind::Minus => "'-'".into(),
            TokenKind::Star => "'*'".into(),
            TokenKind::Slash => "'/'".into(),
            TokenKind::Caret => "'^'".into(),
            TokenKind::Open => "'('".into(),
            TokenKind::Close => "')'".into(),
            TokenKind::Comma => "','".into(),
            TokenKind::Semicolon => "';'".into(),
        }
    }
}

/// Splits `source` into tokens. White space separates tokens and is dropped.
pub(crate) fn tokenize(source: &str) -> Result<Vec<Token>, ExprError> {
    let chars: Vec<char> = source.chars().collect();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let column = i + 1;
        if c.is_whitespace() {
            i += 1;
            continue;
        }
        let single = match c {
            '+' => Some(TokenKind::Plus),
            '-' => Some(TokenKind::Minus),
            '*' => Some(TokenKind::Star),
            '/' => Some(TokenKind::Slash),
            '^' => Some(TokenKind::Caret),
            '(' => Some(TokenKind::Open),
            ')' => Some(TokenKind::Close),
            ',' => Some(TokenKind::Comma),
            ';' => Some(TokenKind::Semicolon),
            _ => None,
        };
        if let Some(kind) = single {
            tokens.push(Token { kind, column, width: 1 });
            i += 1;
        } else if c.is_ascii_digit() || c == '.' {
            let end = number_end(&chars, i);
            let text: String = chars[i..end].iter().collect();
            let value = text
                .parse::<f64>()
                .map_err(|_| ExprError::new(ExprErrorKind::MalformedNumber(text.clone()), column, end - i))?;
            if value.is_infinite() {
                return Err(ExprError::new(ExprErrorKind::NumberOutOfRange(text), column, end - i));
            }
            tokens.push(Token {
                kind: TokenKind::Number(value),
                column,
                width: end - i,
            });
            i = end;
        } else if c.is_ascii_alphabetic() || c == '_' {
            let end = (i..chars.len())
                .find(|&k| !(chars[k].is_ascii_alphanumeric() || chars[k] == '_'))
                .unwrap_or(chars.len());
            let name: String = chars[i..end].iter().collect();
            tokens.push(Token {
                kind: TokenKind::Name(name),
                column,
                width: end - i,
            });
            i = end;
        } else {
            return Err(ExprError::new(ExprErrorKind::UnexpectedCharacter(c), column, 1));
        }
    }
    Ok(tokens)
}

/// End of the number starting at `start`: digits, an optional fraction, and
/// an optional exponent `e[+-]digits`. What follows is left for the next
/// token (so `2x` lexes as `2`, `x`, and the parser explains).
fn number_end(chars: &[char], start: usize) -> usize {
    let digits_from = |mut k: usize| {
        while k < chars.len() && chars[k].is_ascii_digit() {
            k += 1;
        }
        k
    };
    let mut end = digits_from(start);
    if end < chars.len() && chars[end] == '.' {
        end = digits_from(end + 1);
    }
    if end < chars.len() && (chars[end] == 'e' || chars[end] == 'E') {
        let after_e = chars.get(end + 1).copied();
        let starts_a_name = after_e.is_some_and(|c| c.is_ascii_alphabetic() || c == '_');
        if !starts_a_name {
            // An exponent: `1e5`, `1e-5`. Without digits (`1e`, `1e+`) the
            // marker still belongs to the number, which then fails to parse
            // and is reported as malformed. `2exp(x)` is left as `2`, `exp`.
            let mut k = end + 1;
            if after_e == Some('+') || after_e == Some('-') {
                k += 1;
            }
            end = digits_from(k);
        }
    }
    end
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(source: &str) -> Vec<TokenKind> {
        tokenize(source).unwrap().into_iter().map(|t| t.kind).collect()
    }

    #[test]
    fn numbers_in_every_spelling() {
        for (text, value) in [
            ("2", 2.0),
            ("2.5", 2.5),
            (".5", 0.5),
            ("3.", 3.0),
            ("1e-3", 1e-3),
            ("1.5E+2", 150.0),
        ] {
            assert_eq!(kinds(text), vec![TokenKind::Number(value)], "{text}");
        }
    }

    #[test]
    fn names_operators_and_columns() {
        let tokens = tokenize("w_2 * sin(x1)").unwrap();
        let columns: Vec<usize> = tokens.iter().map(|t| t.column).collect();
        assert_eq!(columns, vec![1, 5, 7, 10, 11, 13]);
        assert_eq!(tokens[0].kind, TokenKind::Name("w_2".into()));
        assert_eq!(tokens[0].width, 3);
    }

    #[test]
    fn columns_count_characters_not_bytes() {
        let error = tokenize("sin(x)×2").unwrap_err();
        assert_eq!((error.kind, error.column), (ExprErrorKind::UnexpectedCharacter('×'), 7));
        let error = tokenize("é + $").unwrap_err();
        assert_eq!(error.column, 1);
        let error = tokenize("x + $").unwrap_err();
        assert_eq!(error.column, 5);
    }

    #[test]
    fn malformed_numbers() {
        for (text, column) in [("1e", 1), ("x + 2e+", 5), (".", 1), ("3 * 1E-", 5)] {
            let error = tokenize(text).unwrap_err();
            assert!(
                matches!(error.kind, ExprErrorKind::MalformedNumber(_)),
                "{text}: {error:?}"
            );
            assert_eq!(error.column, column, "{text}");
        }
    }

    #[test]
    fn numbers_beyond_f64_are_errors() {
        let error = tokenize("2 * 1E1111").unwrap_err();
        assert_eq!(
            (error.kind, error.column, error.width),
            (ExprErrorKind::NumberOutOfRange("1E1111".into()), 5, 6)
        );
        assert_eq!(
            kinds("1e-400"),
            vec![TokenKind::Number(0.0)],
            "underflow rounds to zero, as IEEE says"
        );
    }

    #[test]
    fn implicit_multiplication_lexes_as_two_tokens() {
        assert_eq!(kinds("2x"), vec![TokenKind::Number(2.0), TokenKind::Name("x".into())]);
    }
}

//! Tokens of an XPath 1.0 expression. Whether `*` multiplies and whether `and`/`div`/... are
//! operators depends on context; the parser decides, so names stay names here.

use crate::Error;

#[derive(Debug, Clone, PartialEq)]
pub(super) enum Token {
    Slash,
    DoubleSlash,
    LParen,
    RParen,
    LBracket,
    RBracket,
    Dot,
    DotDot,
    At,
    Comma,
    ColonColon,
    Pipe,
    Plus,
    Minus,
    Eq,
    NotEq,
    Lt,
    LtEq,
    Gt,
    GtEq,
    Star,
    Dollar,
    Literal(String),
    Number(f64),
    /// An NCName or QName (`a`, `p:a`), or `p:*`.
    Name(String),
}

pub(super) fn tokenize(text: &str) -> Result<Vec<Token>, Error> {
    let chars: Vec<char> = text.chars().collect();
    let mut tokens = Vec::new();
    let mut i = 0;
    while let Some(&c) = chars.get(i) {
        let next = chars.get(i + 1).copied();
        let (token, len) = match c {
            c if c.is_whitespace() => {
                i += 1;
                continue;
            }
            '/' if next == Some('/') => (Token::DoubleSlash, 2),
            '/' => (Token::Slash, 1),
            '(' => (Token::LParen, 1),
            ')' => (Token::RParen, 1),
            '[' => (Token::LBracket, 1),
            ']' => (Token::RBracket, 1),
            '.' if next == Some('.') => (Token::DotDot, 2),
            '.' if next.is_some_and(|n| n.is_ascii_digit()) => number(&chars, i)?,
            '.' => (Token::Dot, 1),
            '@' => (Token::At, 1),
            ',' => (Token::Comma, 1),
            ':' if next == Some(':') => (Token::ColonColon, 2),
            '|' => (Token::Pipe, 1),
            '+' => (Token::Plus, 1),
            '-' => (Token::Minus, 1),
            '=' => (Token::Eq, 1),
            '!' if next == Some('=') => (Token::NotEq, 2),
            '<' if next == Some('=') => (Token::LtEq, 2),
            '<' => (Token::Lt, 1),
            '>' if next == Some('=') => (Token::GtEq, 2),
            '>' => (Token::Gt, 1),
            '*' => (Token::Star, 1),
            '$' => (Token::Dollar, 1),
            '"' | '\'' => {
                let end = chars[i + 1..].iter().position(|&q| q == c).ok_or_else(|| {
                    Error::invalid("the XPath has an unterminated string literal")
                })?;
                let literal: String = chars[i + 1..i + 1 + end].iter().collect();
                (Token::Literal(literal), end + 2)
            }
            c if c.is_ascii_digit() => number(&chars, i)?,
            c if is_name_start(c) => name(&chars, i),
            other => {
                return Err(Error::invalid(format!(
                    "the XPath has an unexpected character '{other}'"
                )));
            }
        };
        tokens.push(token);
        i += len;
    }
    Ok(tokens)
}

fn number(chars: &[char], start: usize) -> Result<(Token, usize), Error> {
    let len = chars[start..]
        .iter()
        .position(|c| !(c.is_ascii_digit() || *c == '.'))
        .unwrap_or(chars.len() - start);
    let text: String = chars[start..start + len].iter().collect();
    let value = text
        .parse::<f64>()
        .map_err(|_| Error::invalid(format!("the XPath has an invalid number '{text}'")))?;
    Ok((Token::Number(value), len))
}

fn is_name_start(c: char) -> bool {
    c.is_alphabetic() || c == '_'
}

fn is_name_char(c: char) -> bool {
    c.is_alphanumeric() || matches!(c, '_' | '-' | '.' | '\u{b7}')
}

/// A name, a `prefix:local` QName or a `prefix:*` test; `::` is left for the axis token.
fn name(chars: &[char], start: usize) -> (Token, usize) {
    let ncname = |from: usize| {
        chars[from..]
            .iter()
            .position(|c| !is_name_char(*c))
            .unwrap_or(chars.len() - from)
    };
    let mut len = ncname(start);
    let colon = start + len;
    if chars.get(colon) == Some(&':') && chars.get(colon + 1) != Some(&':') {
        match chars.get(colon + 1) {
            Some('*') => len += 2,
            Some(&c) if is_name_start(c) => len += 1 + ncname(colon + 1),
            _ => {}
        }
    }
    (Token::Name(chars[start..start + len].iter().collect()), len)
}

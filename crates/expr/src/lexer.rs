//! Turns expression text into tokens with byte spans.
//!
//! The token set is tiny (WDL has no operators): names, single-quoted strings, numbers and
//! punctuation. Spans are byte offsets so error messages can point into the original text.

use crate::{Error, Span};

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Tok {
    Ident(String),
    Str(String),
    Int(i64),
    Float(f64),
    LParen,
    RParen,
    LBracket,
    RBracket,
    Comma,
    Dot,
    /// `?`, only valid directly before `.` or `[` (the parser checks).
    Question,
    Eof,
}

#[derive(Debug, Clone)]
pub(crate) struct Token {
    pub tok: Tok,
    pub span: Span,
}

pub(crate) fn tokenize(text: &str) -> Result<Vec<Token>, Error> {
    let mut out = Vec::new();
    let bytes = text.as_bytes();
    let mut chars = text.char_indices().peekable();
    while let Some(&(start, c)) = chars.peek() {
        if c.is_whitespace() {
            chars.next();
            continue;
        }
        let single = match c {
            '(' => Some(Tok::LParen),
            ')' => Some(Tok::RParen),
            '[' => Some(Tok::LBracket),
            ']' => Some(Tok::RBracket),
            ',' => Some(Tok::Comma),
            '.' => Some(Tok::Dot),
            '?' => Some(Tok::Question),
            _ => None,
        };
        if let Some(tok) = single {
            chars.next();
            out.push(Token {
                tok,
                span: Span {
                    start,
                    end: start + 1,
                },
            });
            continue;
        }
        if c == '\'' {
            chars.next();
            let mut s = String::new();
            let mut closed = false;
            while let Some((i, ch)) = chars.next() {
                if ch == '\'' {
                    // A doubled quote is an escaped quote inside the literal.
                    if bytes.get(i + 1) == Some(&b'\'') {
                        chars.next();
                        s.push('\'');
                        continue;
                    }
                    out.push(Token {
                        tok: Tok::Str(s),
                        span: Span { start, end: i + 1 },
                    });
                    closed = true;
                    break;
                }
                s.push(ch);
            }
            if !closed {
                return Err(Error::syntax(
                    Span {
                        start,
                        end: text.len(),
                    },
                    format!("unterminated string literal starting at position {start}"),
                ));
            }
            continue;
        }
        if c.is_ascii_digit() || c == '-' {
            let end = number_end(bytes, start);
            let literal = &text[start..end];
            let span = Span { start, end };
            let tok = parse_number(literal).ok_or_else(|| {
                Error::syntax(
                    span,
                    format!("'{literal}' is not a valid number (position {start})"),
                )
            })?;
            out.push(Token { tok, span });
            while chars.peek().is_some_and(|&(i, _)| i < end) {
                chars.next();
            }
            continue;
        }
        if c.is_alphabetic() || c == '_' || c == '$' {
            let mut end = start;
            while let Some(&(i, ch)) = chars.peek() {
                if ch.is_alphanumeric() || ch == '_' || ch == '$' {
                    end = i + ch.len_utf8();
                    chars.next();
                } else {
                    break;
                }
            }
            out.push(Token {
                tok: Tok::Ident(text[start..end].to_string()),
                span: Span { start, end },
            });
            continue;
        }
        return Err(Error::syntax(
            Span {
                start,
                end: start + c.len_utf8(),
            },
            format!("unexpected character '{c}' at position {start}"),
        ));
    }
    out.push(Token {
        tok: Tok::Eof,
        span: Span {
            start: text.len(),
            end: text.len(),
        },
    });
    Ok(out)
}

/// End (exclusive) of the number starting at `start`: `-?digits(.digits)?([eE][+-]?digits)?`.
/// Only ASCII bytes are consumed, so the result is always a char boundary.
fn number_end(bytes: &[u8], start: usize) -> usize {
    let mut i = start;
    if bytes.get(i) == Some(&b'-') {
        i += 1;
    }
    while bytes.get(i).is_some_and(u8::is_ascii_digit) {
        i += 1;
    }
    if bytes.get(i) == Some(&b'.') && bytes.get(i + 1).is_some_and(u8::is_ascii_digit) {
        i += 1;
        while bytes.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
    }
    if matches!(bytes.get(i), Some(b'e' | b'E')) {
        let mut j = i + 1;
        if matches!(bytes.get(j), Some(b'+' | b'-')) {
            j += 1;
        }
        if bytes.get(j).is_some_and(u8::is_ascii_digit) {
            while bytes.get(j).is_some_and(u8::is_ascii_digit) {
                j += 1;
            }
            i = j;
        }
    }
    i
}

fn parse_number(literal: &str) -> Option<Tok> {
    let digits = literal.strip_prefix('-').unwrap_or(literal);
    if digits.is_empty() || !digits.starts_with(|c: char| c.is_ascii_digit()) {
        return None;
    }
    if literal.contains(['.', 'e', 'E']) {
        return literal
            .parse::<f64>()
            .ok()
            .filter(|f| f.is_finite())
            .map(Tok::Float);
    }
    // Integers beyond i64 become floats rather than errors, as JSON numbers would.
    match literal.parse::<i64>() {
        Ok(i) => Some(Tok::Int(i)),
        Err(_) => literal
            .parse::<f64>()
            .ok()
            .filter(|f| f.is_finite())
            .map(Tok::Float),
    }
}

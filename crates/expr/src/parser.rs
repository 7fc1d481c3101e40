//! Recursive-descent parser from tokens to the syntax tree.
//!
//! Function names are resolved here (case-insensitively) and argument counts checked, so a
//! definition with `substrng(...)` or `utcNow(1, 2, 3)` fails validation, not a run hours later.

use crate::ast::{Member, Node, NodeKind};
use crate::lexer::{Tok, Token, tokenize};
use crate::limits::{MAX_EXPRESSION_CHARS, MAX_PARSE_DEPTH};
use crate::{Error, ErrorKind, Span, functions};
use serde_json::Value;

pub(crate) fn parse(text: &str) -> Result<Node, Error> {
    if text.chars().count() > MAX_EXPRESSION_CHARS {
        return Err(Error {
            kind: ErrorKind::Limit,
            message: format!("the expression is longer than {MAX_EXPRESSION_CHARS} characters"),
            span: Some(Span {
                start: 0,
                end: text.len(),
            }),
        });
    }
    let tokens = tokenize(text)?;
    let mut p = Parser {
        tokens,
        pos: 0,
        text,
    };
    if p.peek().tok == Tok::Eof {
        return Err(Error::syntax(p.peek().span, "the expression is empty"));
    }
    let node = p.expr(0)?;
    let next = p.peek();
    if next.tok != Tok::Eof {
        return Err(p.unexpected("the end of the expression"));
    }
    Ok(node)
}

struct Parser<'t> {
    tokens: Vec<Token>,
    pos: usize,
    text: &'t str,
}

impl Parser<'_> {
    fn peek(&self) -> &Token {
        // The token list always ends with Eof and `bump` never moves past it.
        let last = self.tokens.len().saturating_sub(1);
        &self.tokens[self.pos.min(last)]
    }

    fn bump(&mut self) -> Token {
        let t = self.peek().clone();
        if t.tok != Tok::Eof {
            self.pos += 1;
        }
        t
    }

    fn unexpected(&self, expected: &str) -> Error {
        let t = self.peek();
        let found = match &t.tok {
            Tok::Eof => "the end of the expression".to_string(),
            _ => format!(
                "'{}'",
                self.text.get(t.span.start..t.span.end).unwrap_or("?")
            ),
        };
        Error::syntax(
            t.span,
            format!(
                "expected {expected} but found {found} at position {}",
                t.span.start
            ),
        )
    }

    fn expect_tok(&mut self, tok: Tok, what: &str) -> Result<Token, Error> {
        if self.peek().tok == tok {
            Ok(self.bump())
        } else {
            Err(self.unexpected(what))
        }
    }

    fn check_depth(&self, depth: usize, span: Span) -> Result<(), Error> {
        if depth >= MAX_PARSE_DEPTH {
            return Err(Error {
                kind: ErrorKind::Limit,
                message: format!(
                    "the expression is nested deeper than {MAX_PARSE_DEPTH} levels (position {})",
                    span.start
                ),
                span: Some(span),
            });
        }
        Ok(())
    }

    /// A primary followed by any number of member accesses. Each access adds a tree level, so
    /// it counts towards the depth limit like a nested call does.
    fn expr(&mut self, depth: usize) -> Result<Node, Error> {
        self.check_depth(depth, self.peek().span)?;
        let mut node = self.primary(depth)?;
        let mut depth = depth;
        loop {
            let null_safe = self.peek().tok == Tok::Question;
            let start = self.peek().span.start;
            if null_safe {
                self.bump();
                if !matches!(self.peek().tok, Tok::Dot | Tok::LBracket) {
                    return Err(self.unexpected("'.' or '[' after '?'"));
                }
            }
            let member = match self.peek().tok {
                Tok::Dot => {
                    self.bump();
                    let t = self.bump();
                    match t.tok {
                        Tok::Ident(name) => Member::Name(name),
                        _ => {
                            self.pos -= usize::from(t.tok != Tok::Eof);
                            return Err(self.unexpected("a property name after '.'"));
                        }
                    }
                }
                Tok::LBracket => {
                    self.bump();
                    let index = self.expr(depth + 1)?;
                    self.expect_tok(Tok::RBracket, "']'")?;
                    Member::Index(Box::new(index))
                }
                _ => break,
            };
            depth += 1;
            let end = self.tokens[self.pos.saturating_sub(1)].span.end;
            let span = Span {
                start: node.span.start,
                end,
            };
            self.check_depth(depth, Span { start, end })?;
            node = Node {
                kind: NodeKind::Access {
                    target: Box::new(node),
                    member,
                    null_safe,
                },
                span,
            };
        }
        Ok(node)
    }

    fn primary(&mut self, depth: usize) -> Result<Node, Error> {
        let t = self.bump();
        let literal = |v: Value| {
            Ok(Node {
                kind: NodeKind::Literal(v),
                span: t.span,
            })
        };
        match &t.tok {
            Tok::Str(s) => literal(Value::String(s.clone())),
            Tok::Int(i) => literal(Value::from(*i)),
            Tok::Float(f) => {
                literal(serde_json::Number::from_f64(*f).map_or(Value::Null, Value::Number))
            }
            Tok::LBracket => {
                let items = self.list(depth, Tok::RBracket, "']'")?;
                let end = self.tokens[self.pos.saturating_sub(1)].span.end;
                Ok(Node {
                    kind: NodeKind::Array(items),
                    span: Span {
                        start: t.span.start,
                        end,
                    },
                })
            }
            Tok::Ident(name) => {
                if self.peek().tok != Tok::LParen {
                    return match name.to_ascii_lowercase().as_str() {
                        "true" => literal(Value::Bool(true)),
                        "false" => literal(Value::Bool(false)),
                        "null" => literal(Value::Null),
                        _ => Err(Error::syntax(
                            t.span,
                            format!(
                                "'{name}' at position {} is not a literal; a function call needs parentheses: '{name}()'",
                                t.span.start
                            ),
                        )),
                    };
                }
                self.bump();
                let func = functions::lookup(name).ok_or_else(|| Error {
                    kind: ErrorKind::UnknownFunction,
                    message: format!(
                        "the template function '{name}' is not defined or not valid (position {})",
                        t.span.start
                    ),
                    span: Some(t.span),
                })?;
                let args = self.list(depth, Tok::RParen, "',' or ')'")?;
                let end = self.tokens[self.pos.saturating_sub(1)].span.end;
                let span = Span {
                    start: t.span.start,
                    end,
                };
                check_arity(func, args.len(), span)?;
                Ok(Node {
                    kind: NodeKind::Call { func, args },
                    span,
                })
            }
            _ => {
                self.pos -= usize::from(t.tok != Tok::Eof);
                Err(self.unexpected("a value or a function call"))
            }
        }
    }

    /// Comma-separated expressions up to and including `close`; the opening token is consumed.
    fn list(&mut self, depth: usize, close: Tok, what: &str) -> Result<Vec<Node>, Error> {
        let mut items = Vec::new();
        if self.peek().tok == close {
            self.bump();
            return Ok(items);
        }
        loop {
            items.push(self.expr(depth + 1)?);
            if self.peek().tok == Tok::Comma {
                self.bump();
                continue;
            }
            self.expect_tok(close.clone(), what)?;
            return Ok(items);
        }
    }
}

fn check_arity(func: &functions::Function, n: usize, span: Span) -> Result<(), Error> {
    let ok = n >= func.min_args && func.max_args.is_none_or(|max| n <= max);
    if ok {
        return Ok(());
    }
    let expected = match func.max_args {
        Some(max) if max == func.min_args => format!("{max}"),
        Some(max) => format!("between {} and {max}", func.min_args),
        None => format!("at least {}", func.min_args),
    };
    Err(Error {
        kind: ErrorKind::Arity,
        message: format!(
            "the template function '{}' expects {expected} argument(s) but was given {n} (position {})",
            func.name, span.start
        ),
        span: Some(span),
    })
}

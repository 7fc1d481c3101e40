//! The XPath 1.0 core function library (without `id()` and `lang()`).

use super::eval::{Context, Evaluator};
use super::parser::Expr;
use super::value::{XValue, str_to_number};
use crate::Error;

impl<'a, 'i> Evaluator<'a, 'i> {
    pub(super) fn call(
        &self,
        name: &str,
        args: &[Expr],
        ctx: Context<'a, 'i>,
    ) -> Result<XValue<'a, 'i>, Error> {
        let arity = |min: usize, max: usize| -> Result<(), Error> {
            if args.len() < min || args.len() > max {
                return Err(Error::invalid(format!(
                    "the XPath function '{name}' takes {min} to {max} arguments, not {}",
                    args.len()
                )));
            }
            Ok(())
        };
        let string =
            |i: usize| -> Result<String, Error> { Ok(self.eval(&args[i], ctx)?.to_string_value()) };
        // The one optional argument of string functions defaults to the context node.
        let string_or_context = || -> Result<String, Error> {
            match args.first() {
                Some(a) => Ok(self.eval(a, ctx)?.to_string_value()),
                None => Ok(ctx.node.string_value()),
            }
        };
        let number = |i: usize| -> Result<f64, Error> { Ok(self.eval(&args[i], ctx)?.to_number()) };
        Ok(match name {
            "last" => {
                arity(0, 0)?;
                XValue::Number(ctx.size as f64)
            }
            "position" => {
                arity(0, 0)?;
                XValue::Number(ctx.position as f64)
            }
            "count" => {
                arity(1, 1)?;
                XValue::Number(self.node_set(&args[0], ctx)?.len() as f64)
            }
            "sum" => {
                arity(1, 1)?;
                let nodes = self.node_set(&args[0], ctx)?;
                XValue::Number(nodes.iter().map(|n| str_to_number(&n.string_value())).sum())
            }
            "name" | "local-name" | "namespace-uri" => {
                arity(0, 1)?;
                let node = match args.first() {
                    Some(a) => self.node_set(a, ctx)?.first().copied(),
                    None => Some(ctx.node),
                };
                XValue::Str(node.map_or_else(String::new, |n| match name {
                    "name" => n.name(),
                    "local-name" => n.local_name(),
                    _ => n.namespace_uri(),
                }))
            }
            "string" => {
                arity(0, 1)?;
                XValue::Str(string_or_context()?)
            }
            "concat" => {
                if args.len() < 2 {
                    return Err(Error::invalid(
                        "the XPath function 'concat' takes 2 or more arguments",
                    ));
                }
                let mut out = String::new();
                for i in 0..args.len() {
                    out.push_str(&string(i)?);
                }
                XValue::Str(out)
            }
            "contains" => {
                arity(2, 2)?;
                XValue::Bool(string(0)?.contains(&string(1)?))
            }
            "starts-with" => {
                arity(2, 2)?;
                XValue::Bool(string(0)?.starts_with(&string(1)?))
            }
            "ends-with" => {
                arity(2, 2)?;
                XValue::Bool(string(0)?.ends_with(&string(1)?))
            }
            "substring-before" => {
                arity(2, 2)?;
                let (s, t) = (string(0)?, string(1)?);
                XValue::Str(
                    s.split_once(&t)
                        .map(|(b, _)| b.to_string())
                        .unwrap_or_default(),
                )
            }
            "substring-after" => {
                arity(2, 2)?;
                let (s, t) = (string(0)?, string(1)?);
                XValue::Str(
                    s.split_once(&t)
                        .map(|(_, a)| a.to_string())
                        .unwrap_or_default(),
                )
            }
            "substring" => {
                arity(2, 3)?;
                let s = string(0)?;
                let start = number(1)?.round();
                let end = if args.len() == 3 {
                    start + number(2)?.round()
                } else {
                    f64::INFINITY
                };
                // Characters at 1-based positions p with start <= p < end (NaN selects none).
                XValue::Str(
                    s.chars()
                        .enumerate()
                        .filter(|(i, _)| {
                            let p = (*i + 1) as f64;
                            p >= start && p < end
                        })
                        .map(|(_, c)| c)
                        .collect(),
                )
            }
            "string-length" => {
                arity(0, 1)?;
                XValue::Number(string_or_context()?.chars().count() as f64)
            }
            "normalize-space" => {
                arity(0, 1)?;
                XValue::Str(
                    string_or_context()?
                        .split_whitespace()
                        .collect::<Vec<_>>()
                        .join(" "),
                )
            }
            "translate" => {
                arity(3, 3)?;
                let (s, from, to) = (string(0)?, string(1)?, string(2)?);
                let from: Vec<char> = from.chars().collect();
                let to: Vec<char> = to.chars().collect();
                XValue::Str(
                    s.chars()
                        .filter_map(|c| match from.iter().position(|&f| f == c) {
                            Some(i) => to.get(i).copied(),
                            None => Some(c),
                        })
                        .collect(),
                )
            }
            "not" => {
                arity(1, 1)?;
                XValue::Bool(!self.eval(&args[0], ctx)?.to_bool())
            }
            "true" | "false" => {
                arity(0, 0)?;
                XValue::Bool(name == "true")
            }
            "boolean" => {
                arity(1, 1)?;
                XValue::Bool(self.eval(&args[0], ctx)?.to_bool())
            }
            "number" => {
                arity(0, 1)?;
                match args.first() {
                    Some(a) => XValue::Number(self.eval(a, ctx)?.to_number()),
                    None => XValue::Number(str_to_number(&ctx.node.string_value())),
                }
            }
            "floor" | "ceiling" | "round" => {
                arity(1, 1)?;
                let x = number(0)?;
                XValue::Number(match name {
                    "floor" => x.floor(),
                    "ceiling" => x.ceil(),
                    // XPath rounds halves towards positive infinity.
                    _ => (x + 0.5).floor(),
                })
            }
            other => {
                return Err(Error::invalid(format!(
                    "the XPath function '{other}()' is not supported"
                )));
            }
        })
    }
}

//! The syntax tree of one expression, produced by the parser and walked by the evaluator.
//!
//! Function calls hold a reference to their table entry, so name lookup and arity checks happen
//! once at parse time and evaluation never searches the table.

use crate::Span;
use crate::functions::Function;
use serde_json::Value;

#[derive(Debug)]
pub(crate) struct Node {
    pub kind: NodeKind,
    pub span: Span,
}

#[derive(Debug)]
pub(crate) enum NodeKind {
    /// A string, number, `true`, `false` or `null` literal.
    Literal(Value),
    /// `[a, b, c]`.
    Array(Vec<Node>),
    /// `name(args)`.
    Call {
        func: &'static Function,
        args: Vec<Node>,
    },
    /// `target.name`, `target?.name`, `target['name']`, `target[0]`, `target?[expr]`.
    Access {
        target: Box<Node>,
        member: Member,
        null_safe: bool,
    },
}

#[derive(Debug)]
pub(crate) enum Member {
    /// `.name`: always a property name.
    Name(String),
    /// `[expr]`: a property name if it evaluates to a string, an index if to an integer.
    Index(Box<Node>),
}

impl Node {
    /// Visits this node and every node below it, parents first, in source order.
    pub fn walk<'a>(&'a self, f: &mut dyn FnMut(&'a Node)) {
        f(self);
        match &self.kind {
            NodeKind::Literal(_) => {}
            NodeKind::Array(items) => items.iter().for_each(|n| n.walk(f)),
            NodeKind::Call { args, .. } => args.iter().for_each(|n| n.walk(f)),
            NodeKind::Access { target, member, .. } => {
                target.walk(f);
                if let Member::Index(index) = member {
                    index.walk(f);
                }
            }
        }
    }
}

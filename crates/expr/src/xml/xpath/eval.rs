//! Evaluates an XPath syntax tree over a parsed document. Every node an axis yields and every
//! function call costs one unit of a budget, so `//*[//*[//*]]` on a big document ends with an
//! error instead of running for minutes.

use super::parser::{Axis, BinOp, Expr, NodeTest, Start, Step};
use super::value::{XNode, XValue};
use crate::Error;
use crate::xml::is_visible;
use roxmltree::{Document, Node};
use std::cell::Cell;

const BUDGET: u64 = 2_000_000;

/// The evaluation context: the node, its position (1-based) and the size of its node-set.
#[derive(Clone, Copy)]
pub(super) struct Context<'a, 'i> {
    pub node: XNode<'a, 'i>,
    pub position: usize,
    pub size: usize,
}

pub(super) struct Evaluator<'a, 'i> {
    pub doc: &'a Document<'i>,
    budget: Cell<u64>,
}

impl<'a, 'i> Evaluator<'a, 'i> {
    pub fn new(doc: &'a Document<'i>) -> Self {
        Evaluator {
            doc,
            budget: Cell::new(BUDGET),
        }
    }

    pub fn charge(&self, units: u64) -> Result<(), Error> {
        let left = self.budget.get();
        if left < units {
            return Err(Error::limit(format!(
                "the XPath evaluation exceeded its budget of {BUDGET} steps"
            )));
        }
        self.budget.set(left - units);
        Ok(())
    }

    pub fn eval(&self, expr: &Expr, ctx: Context<'a, 'i>) -> Result<XValue<'a, 'i>, Error> {
        self.charge(1)?;
        Ok(match expr {
            Expr::Literal(s) => XValue::Str(s.clone()),
            Expr::Number(n) => XValue::Number(*n),
            Expr::Neg(inner) => XValue::Number(-self.eval(inner, ctx)?.to_number()),
            Expr::Binary(op, l, r) => self.binary(*op, l, r, ctx)?,
            Expr::Union(l, r) => {
                let mut nodes = self.node_set(l, ctx)?;
                nodes.extend(self.node_set(r, ctx)?);
                XValue::Nodes(sort_unique(nodes))
            }
            Expr::Call(name, args) => self.call(name, args, ctx)?,
            Expr::Path(start, steps) => {
                let mut nodes = match start {
                    Start::Root => vec![XNode::Tree(self.doc.root())],
                    Start::Context => vec![ctx.node],
                    Start::Filter(primary, predicates) => {
                        let value = self.eval(primary, ctx)?;
                        if predicates.is_empty() && steps.is_empty() {
                            return Ok(value);
                        }
                        let XValue::Nodes(nodes) = value else {
                            return Err(Error::invalid(
                                "the XPath filters or steps from something that is not a node-set",
                            ));
                        };
                        self.filter(nodes, predicates)?
                    }
                };
                for step in steps {
                    nodes = self.step(&nodes, step)?;
                }
                XValue::Nodes(nodes)
            }
        })
    }

    pub fn node_set(&self, expr: &Expr, ctx: Context<'a, 'i>) -> Result<Vec<XNode<'a, 'i>>, Error> {
        match self.eval(expr, ctx)? {
            XValue::Nodes(n) => Ok(n),
            _ => Err(Error::invalid("the XPath expects a node-set here")),
        }
    }

    fn binary(
        &self,
        op: BinOp,
        l: &Expr,
        r: &Expr,
        ctx: Context<'a, 'i>,
    ) -> Result<XValue<'a, 'i>, Error> {
        Ok(match op {
            BinOp::Or => XValue::Bool(self.eval(l, ctx)?.to_bool() || self.eval(r, ctx)?.to_bool()),
            BinOp::And => {
                XValue::Bool(self.eval(l, ctx)?.to_bool() && self.eval(r, ctx)?.to_bool())
            }
            BinOp::Add | BinOp::Sub | BinOp::Mul | BinOp::Div | BinOp::Mod => {
                let a = self.eval(l, ctx)?.to_number();
                let b = self.eval(r, ctx)?.to_number();
                XValue::Number(match op {
                    BinOp::Add => a + b,
                    BinOp::Sub => a - b,
                    BinOp::Mul => a * b,
                    BinOp::Div => a / b,
                    _ => a % b,
                })
            }
            _ => {
                let a = self.eval(l, ctx)?;
                let b = self.eval(r, ctx)?;
                XValue::Bool(self.compare(op, &a, &b)?)
            }
        })
    }

    /// XPath 1.0 §3.4: a node-set compares true when some node in it does.
    fn compare(&self, op: BinOp, a: &XValue, b: &XValue) -> Result<bool, Error> {
        match (a, b) {
            (XValue::Nodes(x), XValue::Nodes(y)) => {
                let ys: Vec<String> = y.iter().map(XNode::string_value).collect();
                self.charge((x.len() * ys.len()) as u64)?;
                Ok(x.iter().any(|n| {
                    let s = n.string_value();
                    ys.iter()
                        .any(|t| atomic(op, &XValue::Str(s.clone()), &XValue::Str(t.clone())))
                }))
            }
            (XValue::Nodes(x), XValue::Bool(_)) => Ok(atomic(op, &XValue::Bool(!x.is_empty()), b)),
            (XValue::Bool(_), XValue::Nodes(y)) => Ok(atomic(op, a, &XValue::Bool(!y.is_empty()))),
            (XValue::Nodes(x), other) => {
                Ok(x.iter().any(|n| atomic(op, &node_as(n, other), other)))
            }
            (other, XValue::Nodes(y)) => {
                Ok(y.iter().any(|n| atomic(op, other, &node_as(n, other))))
            }
            _ => Ok(atomic(op, a, b)),
        }
    }

    fn filter(
        &self,
        nodes: Vec<XNode<'a, 'i>>,
        predicates: &[Expr],
    ) -> Result<Vec<XNode<'a, 'i>>, Error> {
        let mut nodes = nodes;
        for predicate in predicates {
            let size = nodes.len();
            let mut kept = Vec::new();
            for (i, node) in nodes.into_iter().enumerate() {
                let ctx = Context {
                    node,
                    position: i + 1,
                    size,
                };
                let keep = match self.eval(predicate, ctx)? {
                    XValue::Number(n) => n == (i + 1) as f64,
                    other => other.to_bool(),
                };
                if keep {
                    kept.push(node);
                }
            }
            nodes = kept;
        }
        Ok(nodes)
    }

    fn step(&self, input: &[XNode<'a, 'i>], step: &Step) -> Result<Vec<XNode<'a, 'i>>, Error> {
        let mut out = Vec::new();
        for node in input {
            let mut selected = Vec::new();
            self.axis(*node, step.axis, &mut |candidate| {
                if self.matches(&candidate, step)? {
                    selected.push(candidate);
                }
                Ok(())
            })?;
            // Predicates count positions along the axis (nearest first on reverse axes).
            out.extend(self.filter(selected, &step.predicates)?);
        }
        Ok(sort_unique(out))
    }

    /// Calls `f` with every node on `axis` from `node`, in axis order.
    fn axis(
        &self,
        node: XNode<'a, 'i>,
        axis: Axis,
        f: &mut dyn FnMut(XNode<'a, 'i>) -> Result<(), Error>,
    ) -> Result<(), Error> {
        let tree = match node {
            XNode::Tree(n) => n,
            XNode::Attr(owner, _) => {
                // An attribute's parent is its element; it has no children or siblings.
                match axis {
                    Axis::Itself => return f(node),
                    Axis::AncestorOrSelf => f(node)?,
                    _ => {}
                }
                return match axis {
                    Axis::Parent => self.each(std::iter::once(owner), f),
                    Axis::Ancestor | Axis::AncestorOrSelf => self.each(owner.ancestors(), f),
                    Axis::Following => {
                        self.each(owner.descendants().skip(1).chain(following(owner)), f)
                    }
                    Axis::Preceding => self.each(preceding(owner), f),
                    _ => Ok(()),
                };
            }
        };
        match axis {
            Axis::Child => self.each(tree.children(), f),
            Axis::Descendant => self.each(tree.descendants().skip(1), f),
            Axis::DescendantOrSelf => self.each(tree.descendants(), f),
            Axis::Parent => self.each(tree.parent().into_iter(), f),
            Axis::Ancestor => self.each(tree.ancestors().skip(1), f),
            Axis::AncestorOrSelf => self.each(tree.ancestors(), f),
            Axis::FollowingSibling => self.each(tree.next_siblings().skip(1), f),
            Axis::PrecedingSibling => self.each(tree.prev_siblings().skip(1), f),
            Axis::Following => self.each(following(tree), f),
            Axis::Preceding => self.each(preceding(tree), f),
            Axis::Itself => self.each(std::iter::once(tree), f),
            Axis::Attribute => {
                for i in 0..tree.attributes().len() {
                    self.charge(1)?;
                    f(XNode::Attr(tree, i))?;
                }
                Ok(())
            }
        }
    }

    /// Feeds visible tree nodes to `f`, charging one unit each.
    fn each(
        &self,
        nodes: impl Iterator<Item = Node<'a, 'i>>,
        f: &mut dyn FnMut(XNode<'a, 'i>) -> Result<(), Error>,
    ) -> Result<(), Error> {
        for n in nodes {
            self.charge(1)?;
            if is_visible(&n) {
                f(XNode::Tree(n))?;
            }
        }
        Ok(())
    }

    fn matches(&self, node: &XNode<'a, 'i>, step: &Step) -> Result<bool, Error> {
        // The principal node type: attributes on the attribute axis, elements elsewhere.
        let principal = match node {
            XNode::Attr(..) => step.axis == Axis::Attribute,
            XNode::Tree(n) => n.is_element(),
        };
        Ok(match &step.test {
            NodeTest::Node => true,
            NodeTest::Text => matches!(node, XNode::Tree(n) if n.is_text()),
            NodeTest::Comment => matches!(node, XNode::Tree(n) if n.is_comment()),
            NodeTest::Pi(target) => match node {
                XNode::Tree(n) => n
                    .pi()
                    .is_some_and(|p| target.as_deref().is_none_or(|t| t == p.target)),
                XNode::Attr(..) => false,
            },
            NodeTest::Any(None) => principal,
            NodeTest::Any(Some(prefix)) => {
                principal && node.namespace_uri() == self.resolve(prefix)?
            }
            NodeTest::Name(prefix, local) => {
                let uri = match prefix {
                    Some(p) => self.resolve(p)?,
                    None => String::new(),
                };
                principal && node.local_name() == *local && node.namespace_uri() == uri
            }
        })
    }

    /// Prefixes in the XPath resolve against the document element's declarations (there is no
    /// namespace manager to pass in an expression).
    fn resolve(&self, prefix: &str) -> Result<String, Error> {
        self.doc
            .root_element()
            .lookup_namespace_uri(Some(prefix))
            .map(str::to_string)
            .ok_or_else(|| {
                Error::invalid(format!(
                    "the XPath uses the namespace prefix '{prefix}', which the document does not declare"
                ))
            })
    }
}

fn following<'a, 'i>(node: Node<'a, 'i>) -> impl Iterator<Item = Node<'a, 'i>> {
    node.ancestors()
        .flat_map(|a| a.next_siblings().skip(1))
        .flat_map(|s| s.descendants())
}

/// Nearest first (reverse document order), excluding ancestors.
fn preceding<'a, 'i>(node: Node<'a, 'i>) -> impl Iterator<Item = Node<'a, 'i>> {
    node.ancestors()
        .flat_map(|a| a.prev_siblings().skip(1))
        .flat_map(|s| {
            let mut all: Vec<Node<'a, 'i>> = s.descendants().collect();
            all.reverse();
            all
        })
}

/// A node's value as the other operand's type, for comparing with a scalar.
fn node_as<'a, 'i>(node: &XNode<'a, 'i>, other: &XValue) -> XValue<'a, 'i> {
    match other {
        XValue::Number(_) => XValue::Number(super::value::str_to_number(&node.string_value())),
        _ => XValue::Str(node.string_value()),
    }
}

/// Comparison of two non-node-set values.
fn atomic(op: BinOp, a: &XValue, b: &XValue) -> bool {
    match op {
        BinOp::Eq | BinOp::NotEq => {
            let equal = match (a, b) {
                (XValue::Bool(_), _) | (_, XValue::Bool(_)) => a.to_bool() == b.to_bool(),
                (XValue::Number(_), _) | (_, XValue::Number(_)) => a.to_number() == b.to_number(),
                _ => a.to_string_value() == b.to_string_value(),
            };
            equal == (op == BinOp::Eq)
        }
        _ => {
            let (x, y) = (a.to_number(), b.to_number());
            match op {
                BinOp::Lt => x < y,
                BinOp::LtEq => x <= y,
                BinOp::Gt => x > y,
                _ => x >= y,
            }
        }
    }
}

pub(super) fn sort_unique<'a, 'i>(mut nodes: Vec<XNode<'a, 'i>>) -> Vec<XNode<'a, 'i>> {
    nodes.sort_by_key(XNode::order_key);
    nodes.dedup_by_key(|n| n.order_key());
    nodes
}

pub(super) fn root_context<'a, 'i>(doc: &'a Document<'i>) -> Context<'a, 'i> {
    Context {
        node: XNode::Tree(doc.root()),
        position: 1,
        size: 1,
    }
}

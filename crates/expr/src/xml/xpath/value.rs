//! XPath values (node-sets, numbers, strings, booleans), the nodes they hold and the XPath 1.0
//! conversions between them.

use crate::xml::{is_visible, qualified_name};
use roxmltree::{Node, NodeType};

/// A node in a node-set: a tree node, or the `index`-th attribute of an element.
#[derive(Debug, Clone, Copy)]
pub(super) enum XNode<'a, 'i> {
    Tree(Node<'a, 'i>),
    Attr(Node<'a, 'i>, usize),
}

impl<'a, 'i> XNode<'a, 'i> {
    /// Document order: a node, then its attributes, then its children.
    pub fn order_key(&self) -> (usize, usize) {
        match self {
            XNode::Tree(n) => (n.id().get_usize(), 0),
            XNode::Attr(n, i) => (n.id().get_usize(), i + 1),
        }
    }

    pub fn string_value(&self) -> String {
        match self {
            XNode::Attr(n, i) => n
                .attributes()
                .nth(*i)
                .map(|a| a.value().to_string())
                .unwrap_or_default(),
            XNode::Tree(n) => match n.node_type() {
                NodeType::Root | NodeType::Element => n
                    .descendants()
                    .filter(|d| d.is_text() && is_visible(d))
                    .filter_map(|d| d.text())
                    .collect(),
                NodeType::Text | NodeType::Comment => n.text().unwrap_or("").to_string(),
                NodeType::PI => n.pi().and_then(|p| p.value).unwrap_or("").to_string(),
            },
        }
    }

    /// `name()`: the qualified name as written.
    pub fn name(&self) -> String {
        match self {
            XNode::Attr(n, i) => n
                .attributes()
                .nth(*i)
                .map(|a| crate::xml::attribute_name(n, &a).to_string())
                .unwrap_or_default(),
            XNode::Tree(n) if n.is_element() => qualified_name(n).to_string(),
            XNode::Tree(n) => n.pi().map(|p| p.target.to_string()).unwrap_or_default(),
        }
    }

    pub fn local_name(&self) -> String {
        match self {
            XNode::Attr(n, i) => n
                .attributes()
                .nth(*i)
                .map(|a| a.name().to_string())
                .unwrap_or_default(),
            XNode::Tree(n) if n.is_element() => n.tag_name().name().to_string(),
            XNode::Tree(n) => n.pi().map(|p| p.target.to_string()).unwrap_or_default(),
        }
    }

    pub fn namespace_uri(&self) -> String {
        match self {
            XNode::Attr(n, i) => n
                .attributes()
                .nth(*i)
                .and_then(|a| a.namespace())
                .unwrap_or("")
                .to_string(),
            XNode::Tree(n) => n.tag_name().namespace().unwrap_or("").to_string(),
        }
    }
}

#[derive(Debug)]
pub(super) enum XValue<'a, 'i> {
    Nodes(Vec<XNode<'a, 'i>>),
    Number(f64),
    Str(String),
    Bool(bool),
}

impl XValue<'_, '_> {
    pub fn to_bool(&self) -> bool {
        match self {
            XValue::Nodes(n) => !n.is_empty(),
            XValue::Number(x) => *x != 0.0 && !x.is_nan(),
            XValue::Str(s) => !s.is_empty(),
            XValue::Bool(b) => *b,
        }
    }

    pub fn to_number(&self) -> f64 {
        match self {
            XValue::Number(x) => *x,
            XValue::Bool(b) => f64::from(u8::from(*b)),
            other => str_to_number(&other.to_string_value()),
        }
    }

    pub fn to_string_value(&self) -> String {
        match self {
            XValue::Nodes(n) => n.first().map(XNode::string_value).unwrap_or_default(),
            XValue::Number(x) => number_to_string(*x),
            XValue::Str(s) => s.clone(),
            XValue::Bool(b) => b.to_string(),
        }
    }
}

/// XPath's `number()` of a string: optional `-`, digits and one `.`, surrounding whitespace;
/// anything else is NaN.
pub(super) fn str_to_number(s: &str) -> f64 {
    let t = s.trim();
    let digits = t.strip_prefix('-').unwrap_or(t);
    let valid = !digits.is_empty()
        && digits.chars().all(|c| c.is_ascii_digit() || c == '.')
        && digits.chars().filter(|&c| c == '.').count() <= 1
        && digits != ".";
    if valid {
        t.parse().unwrap_or(f64::NAN)
    } else {
        f64::NAN
    }
}

/// XPath's `string()` of a number: integers without a fraction, no exponent.
pub(super) fn number_to_string(x: f64) -> String {
    if x.is_nan() {
        "NaN".to_string()
    } else if x.is_infinite() {
        if x > 0.0 { "Infinity" } else { "-Infinity" }.to_string()
    } else if x.fract() == 0.0 && x.abs() < 1e15 {
        format!("{}", x as i64)
    } else {
        format!("{x}")
    }
}

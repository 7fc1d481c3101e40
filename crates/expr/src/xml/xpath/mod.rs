//! XPath 1.0 for `xpath(xml, expression)`: paths on every axis, predicates, unions, operators
//! and the core function library, over the same tree `xml()` reads.
//!
//! Result shape (as Logic Apps returns it): a node-set is always an array (possibly empty) in
//! which elements, comments and the document are XML content envelopes and text nodes are
//! strings; a number, string or boolean result is that JSON value.
//!
//! Decisions where the reference is silent: attribute nodes come back as their value (a
//! string), which is what `//@id` is wanted for; prefixes in the expression resolve against
//! the document element's namespace declarations; a NaN or infinite number is an error (JSON
//! has no such number).

mod eval;
mod functions;
mod lexer;
mod parser;
mod value;

use crate::Error;
use crate::content::{XML_UTF8, envelope};
use crate::xml::write_subtree;
use roxmltree::{Document, NodeType};
use serde_json::Value;
use value::{XNode, XValue};

/// Longest XPath accepted (it may come from data, not only from the expression text).
const MAX_XPATH_BYTES: usize = 65_536;

/// Evaluates `text` against `doc` and returns the JSON result.
pub(crate) fn evaluate(doc: &Document, text: &str) -> Result<Value, Error> {
    if text.len() > MAX_XPATH_BYTES {
        return Err(Error::limit(format!(
            "the XPath is longer than {MAX_XPATH_BYTES} bytes"
        )));
    }
    let expr = parser::Parser::new(lexer::tokenize(text)?).parse()?;
    let evaluator = eval::Evaluator::new(doc);
    let result = evaluator.eval(&expr, eval::root_context(doc))?;
    Ok(match result {
        XValue::Nodes(nodes) => {
            let items = nodes
                .iter()
                .map(node_value)
                .collect::<Result<Vec<_>, _>>()?;
            Value::Array(items)
        }
        XValue::Number(n) => crate::value::float_value(n)?,
        XValue::Str(s) => Value::String(s),
        XValue::Bool(b) => Value::Bool(b),
    })
}

fn node_value(node: &XNode) -> Result<Value, Error> {
    Ok(match node {
        XNode::Attr(..) => Value::String(node.string_value()),
        XNode::Tree(n) if n.node_type() == NodeType::Text => Value::String(node.string_value()),
        XNode::Tree(n) => envelope(XML_UTF8, write_subtree(n)?.as_bytes()),
    })
}

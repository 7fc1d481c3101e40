//! XML for `xml()`, `json()` and `xpath()`: parsing under limits, naming, and the three
//! conversions (XML text, XML → JSON, JSON → XML) plus an XPath 1.0 evaluator.
//!
//! Parsing is `roxmltree` (pure Rust, read-only tree). DTDs are refused: they are the door to
//! entity-expansion attacks and Logic Apps workflows do not need them. The tree is what .NET's
//! `XmlDocument` shows with `PreserveWhitespace = false`: text nodes holding only whitespace are
//! ignored everywhere (serialising, converting, XPath). `roxmltree` merges CDATA sections into
//! text, so they come out as escaped text.

mod from_json;
mod to_json;
mod write;
pub(crate) mod xpath;

pub(crate) use from_json::json_to_xml;
pub(crate) use to_json::xml_to_json;
pub(crate) use write::{write_document, write_subtree};

use crate::Error;
use roxmltree::{Document, Node, ParsingOptions};

/// Deepest element nesting any conversion walks (the walks are recursive).
pub(crate) const MAX_XML_DEPTH: usize = 256;

/// Most nodes one document may have: bounds the memory a hostile document can take.
const MAX_NODES: u32 = 1_000_000;

pub(crate) fn parse(text: &str) -> Result<Document<'_>, Error> {
    let options = ParsingOptions {
        allow_dtd: false,
        nodes_limit: MAX_NODES,
        ..ParsingOptions::default()
    };
    Document::parse_with_options(text, options)
        .map_err(|e| Error::invalid(format!("the value is not valid XML: {e}")))
}

pub(crate) fn too_deep() -> Error {
    Error::limit(format!(
        "the XML is nested more than {MAX_XML_DEPTH} levels deep"
    ))
}

/// The pseudo-attributes of a leading `<?xml ...?>` declaration, in order (`roxmltree` checks
/// the declaration but does not keep it, and `json()` shows it as `"?xml"`).
pub(crate) fn declaration(text: &str) -> Vec<(String, String)> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let Some(rest) = text.strip_prefix("<?xml") else {
        return Vec::new();
    };
    if !rest.starts_with(|c: char| c.is_ascii_whitespace()) {
        return Vec::new();
    }
    let Some((body, _)) = rest.split_once("?>") else {
        return Vec::new();
    };
    let mut out = Vec::new();
    let mut rest = body.trim_start();
    while let Some((name, after)) = rest.split_once('=') {
        let after = after.trim_start();
        let Some(quote) = after.chars().next().filter(|c| *c == '"' || *c == '\'') else {
            break;
        };
        let Some((value, tail)) = after[1..].split_once(quote) else {
            break;
        };
        out.push((name.trim().to_string(), value.to_string()));
        rest = tail.trim_start();
    }
    out
}

/// Whether the tree shows this node: whitespace-only text is dropped, as in .NET.
pub(crate) fn is_visible(node: &Node) -> bool {
    !node.is_text() || node.text().is_some_and(|t| !t.trim().is_empty())
}

/// An element's name as written in the source, prefix included (`mmm:r`).
pub(crate) fn qualified_name<'i>(node: &Node<'_, 'i>) -> &'i str {
    let source = node.document().input_text();
    let start = node.range().start + 1;
    let tail = source.get(start..).unwrap_or("");
    let end = tail
        .find(|c: char| c.is_whitespace() || c == '>' || c == '/')
        .unwrap_or(tail.len());
    let name = &tail[..end];
    if name.is_empty() {
        node.tag_name().name()
    } else {
        name
    }
}

/// An attribute's name as written (`xml:lang`, `a:id`, `id`).
pub(crate) fn attribute_name<'i>(
    node: &Node<'_, 'i>,
    attr: &roxmltree::Attribute<'_, 'i>,
) -> &'i str {
    node.document()
        .input_text()
        .get(attr.range_qname())
        .unwrap_or_else(|| attr.name())
}

/// Whether an element was written `<e/>` rather than `<e></e>`: .NET keeps the difference, and
/// `json()` shows the first as null and the second as `""`.
pub(crate) fn is_self_closing(node: &Node) -> bool {
    node.document()
        .input_text()
        .get(node.range())
        .is_some_and(|s| s.ends_with("/>"))
}

/// The namespace declarations an element makes itself (`xmlns`, `xmlns:p`), as
/// `(attribute name, uri)`: those in scope here but not on its parent.
pub(crate) fn declared_namespaces(node: &Node) -> Vec<(String, String)> {
    let parent = node.parent_element();
    node.namespaces()
        .filter(|ns| ns.name() != Some("xml"))
        .filter(|ns| {
            parent.is_none_or(|p| {
                !p.namespaces()
                    .any(|q| q.name() == ns.name() && q.uri() == ns.uri())
            })
        })
        .map(|ns| (xmlns_name(ns.name()), ns.uri().to_string()))
        .collect()
}

/// Every namespace in scope on an element, for a subtree written on its own.
pub(crate) fn namespaces_in_scope(node: &Node) -> Vec<(String, String)> {
    node.namespaces()
        .filter(|ns| ns.name() != Some("xml"))
        .map(|ns| (xmlns_name(ns.name()), ns.uri().to_string()))
        .collect()
}

fn xmlns_name(prefix: Option<&str>) -> String {
    match prefix {
        Some(p) => format!("xmlns:{p}"),
        None => "xmlns".to_string(),
    }
}

/// Escapes text content (`&`, `<`, `>`), as .NET's writer does.
pub(crate) fn escape_text(text: &str, out: &mut String) {
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            c => out.push(c),
        }
    }
}

/// Escapes an attribute value written in double quotes.
pub(crate) fn escape_attribute(text: &str, out: &mut String) {
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            c => out.push(c),
        }
    }
}

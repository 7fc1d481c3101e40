//! Writes a parsed tree back as text the way .NET's `XmlDocument.OuterXml` does: no added
//! whitespace, `<e />` for elements written self-closing, double-quoted attributes, and
//! whitespace-only text dropped. `xml('<root/>')` is therefore `<root />`.

use super::{
    MAX_XML_DEPTH, attribute_name, declared_namespaces, escape_attribute, escape_text,
    is_self_closing, is_visible, namespaces_in_scope, qualified_name, too_deep,
};
use crate::Error;
use roxmltree::{Document, Node, NodeType};

/// The whole document: its declaration (if the text had one) and every top-level node.
pub(crate) fn write_document(
    doc: &Document,
    declaration: &[(String, String)],
) -> Result<String, Error> {
    let mut out = String::new();
    if !declaration.is_empty() {
        out.push_str("<?xml");
        for (name, value) in declaration {
            out.push(' ');
            out.push_str(name);
            out.push_str("=\"");
            escape_attribute(value, &mut out);
            out.push('"');
        }
        out.push_str("?>");
    }
    for child in doc.root().children() {
        write_node(&child, false, 0, &mut out)?;
    }
    Ok(out)
}

/// One node and what is under it, standing on its own (an `xpath()` result): an element also
/// declares every namespace in scope, so the text is valid XML by itself.
pub(crate) fn write_subtree(node: &Node) -> Result<String, Error> {
    let mut out = String::new();
    if node.node_type() == NodeType::Root {
        for child in node.children() {
            write_node(&child, false, 0, &mut out)?;
        }
    } else {
        write_node(node, true, 0, &mut out)?;
    }
    Ok(out)
}

fn write_node(node: &Node, standalone: bool, depth: usize, out: &mut String) -> Result<(), Error> {
    if depth > MAX_XML_DEPTH {
        return Err(too_deep());
    }
    match node.node_type() {
        NodeType::Element => write_element(node, standalone, depth, out)?,
        NodeType::Text if is_visible(node) => escape_text(node.text().unwrap_or(""), out),
        NodeType::Text | NodeType::Root => {}
        NodeType::Comment => {
            out.push_str("<!--");
            out.push_str(node.text().unwrap_or(""));
            out.push_str("-->");
        }
        NodeType::PI => {
            if let Some(pi) = node.pi() {
                out.push_str("<?");
                out.push_str(pi.target);
                if let Some(value) = pi.value {
                    out.push(' ');
                    out.push_str(value);
                }
                out.push_str("?>");
            }
        }
    }
    Ok(())
}

fn write_element(
    node: &Node,
    standalone: bool,
    depth: usize,
    out: &mut String,
) -> Result<(), Error> {
    let name = qualified_name(node);
    out.push('<');
    out.push_str(name);
    let namespaces = if standalone {
        namespaces_in_scope(node)
    } else {
        declared_namespaces(node)
    };
    for (attr, uri) in &namespaces {
        out.push(' ');
        out.push_str(attr);
        out.push_str("=\"");
        escape_attribute(uri, out);
        out.push('"');
    }
    for attr in node.attributes() {
        out.push(' ');
        out.push_str(attribute_name(node, &attr));
        out.push_str("=\"");
        escape_attribute(attr.value(), out);
        out.push('"');
    }
    let has_content = node.children().any(|c| is_visible(&c));
    if !has_content && is_self_closing(node) {
        out.push_str(" />");
        return Ok(());
    }
    out.push('>');
    for child in node.children() {
        write_node(&child, false, depth + 1, out)?;
    }
    out.push_str("</");
    out.push_str(name);
    out.push('>');
    Ok(())
}

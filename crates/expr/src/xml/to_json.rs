//! XML → JSON for `json(xml(...))`, following the conversion Logic Apps uses (Json.NET's):
//! the declaration becomes `"?xml": {"@version": ...}`, attributes and namespace declarations
//! `"@name"`, repeated child elements an array, mixed text `"#text"`; an element with only text
//! is that string, `<e/>` is null and `<e></e>` is `""`.
//!
//! Decision: comments and processing instructions are left out (Logic Apps shows comments as
//! an empty `"#comment": []` at best, which carries nothing).

use super::{
    MAX_XML_DEPTH, attribute_name, declared_namespaces, is_self_closing, is_visible,
    qualified_name, too_deep,
};
use crate::Error;
use roxmltree::{Document, Node};
use serde_json::{Map, Value};

pub(crate) fn xml_to_json(
    doc: &Document,
    declaration: &[(String, String)],
) -> Result<Value, Error> {
    let mut map = Map::new();
    if !declaration.is_empty() {
        let decl: Map<String, Value> = declaration
            .iter()
            .map(|(k, v)| (format!("@{k}"), Value::String(v.clone())))
            .collect();
        map.insert("?xml".to_string(), Value::Object(decl));
    }
    let root = doc.root_element();
    map.insert(qualified_name(&root).to_string(), element(&root, 0)?);
    Ok(Value::Object(map))
}

fn element(node: &Node, depth: usize) -> Result<Value, Error> {
    if depth > MAX_XML_DEPTH {
        return Err(too_deep());
    }
    // Members in first-appearance order; a name seen twice collects an array.
    let mut groups: Vec<(String, Vec<Value>)> = Vec::new();
    for (name, uri) in declared_namespaces(node) {
        groups.push((format!("@{name}"), vec![Value::String(uri)]));
    }
    for attr in node.attributes() {
        let name = format!("@{}", attribute_name(node, &attr));
        groups.push((name, vec![Value::String(attr.value().to_string())]));
    }
    let has_attributes = !groups.is_empty();
    let mut only_text = true;
    for child in node.children().filter(is_visible) {
        let (name, value) = if child.is_element() {
            only_text = false;
            (
                qualified_name(&child).to_string(),
                element(&child, depth + 1)?,
            )
        } else if child.is_text() {
            let text = child.text().unwrap_or("").to_string();
            ("#text".to_string(), Value::String(text))
        } else {
            continue;
        };
        match groups.iter_mut().find(|(n, _)| *n == name) {
            Some((_, values)) => values.push(value),
            None => groups.push((name, vec![value])),
        }
    }
    if groups.is_empty() {
        return Ok(if is_self_closing(node) {
            Value::Null
        } else {
            Value::String(String::new())
        });
    }
    if !has_attributes && only_text && groups.len() == 1 {
        return Ok(collapse(groups.swap_remove(0).1));
    }
    Ok(Value::Object(
        groups
            .into_iter()
            .map(|(name, values)| (name, collapse(values)))
            .collect(),
    ))
}

fn collapse(mut values: Vec<Value>) -> Value {
    if values.len() == 1 {
        values.swap_remove(0)
    } else {
        Value::Array(values)
    }
}

//! JSON → XML for `xml(object)`, the reverse of [`super::xml_to_json`]: one root property (an
//! optional `"?xml"` declaration beside it), `"@name"` members become attributes, `"#text"`
//! text, `"#cdata-section"` CDATA, arrays repeated elements, null an empty element.
//!
//! Names that are not valid XML are encoded as .NET's `XmlConvert.EncodeName` does (`a b` →
//! `a_x0020_b`); a prefix no `@xmlns:` member declares is dropped (`ro:ot` → `ot`), as Logic
//! Apps does, so the result is always well-formed.

use super::{MAX_XML_DEPTH, escape_attribute, escape_text, too_deep};
use crate::Error;
use crate::value::to_text;
use serde_json::{Map, Value};

pub(crate) fn json_to_xml(map: &Map<String, Value>) -> Result<String, Error> {
    let mut out = String::new();
    if let Some(Value::Object(decl)) = map.get("?xml") {
        out.push_str("<?xml");
        for (name, value) in decl {
            if let Some(name) = name.strip_prefix('@') {
                out.push(' ');
                out.push_str(&encode_name(name));
                out.push_str("=\"");
                escape_attribute(&to_text(value), &mut out);
                out.push('"');
            }
        }
        out.push_str("?>");
    }
    let roots: Vec<(&String, &Value)> = map
        .iter()
        .filter(|(k, _)| *k != "?xml" && *k != "!DOCTYPE")
        .collect();
    match roots.as_slice() {
        [] => {}
        [(name, value)] if !value.is_array() => {
            write_element(name, value, &mut Vec::new(), 0, &mut out)?;
        }
        _ => {
            return Err(Error::invalid(
                "the JSON object must have exactly one root property, and its value can't be an array",
            ));
        }
    }
    Ok(out)
}

fn write_element(
    name: &str,
    value: &Value,
    prefixes: &mut Vec<String>,
    depth: usize,
    out: &mut String,
) -> Result<(), Error> {
    if depth > MAX_XML_DEPTH {
        return Err(too_deep());
    }
    let map = match value {
        Value::Array(items) => {
            for item in items {
                write_element(name, item, prefixes, depth + 1, out)?;
            }
            return Ok(());
        }
        Value::Object(map) if !is_scalar_object(value) => map,
        Value::Null => {
            let name = element_name(name, prefixes);
            out.push('<');
            out.push_str(&name);
            out.push_str(" />");
            return Ok(());
        }
        scalar => {
            let name = element_name(name, prefixes);
            out.push('<');
            out.push_str(&name);
            out.push('>');
            escape_text(&scalar_text(scalar), out);
            out.push_str("</");
            out.push_str(&name);
            out.push('>');
            return Ok(());
        }
    };
    // Prefixes declared here are in scope for this element's own name and everything below.
    let scope_len = prefixes.len();
    for key in map.keys() {
        if let Some(prefix) = key.strip_prefix("@xmlns:") {
            prefixes.push(prefix.to_string());
        }
    }
    let name = element_name(name, prefixes);
    out.push('<');
    out.push_str(&name);
    for (key, v) in map {
        if let Some(attr) = key.strip_prefix('@') {
            out.push(' ');
            out.push_str(&attribute_name(attr, prefixes));
            out.push_str("=\"");
            escape_attribute(&scalar_text(v), out);
            out.push('"');
        }
    }
    let mut content = String::new();
    for (key, v) in map {
        match key.as_str() {
            k if k.starts_with('@') => {}
            "#text" => for_each_item(v, |item| escape_text(&scalar_text(item), &mut content)),
            "#cdata-section" => {
                let mut result = Ok(());
                for_each_item(v, |item| {
                    let text = scalar_text(item);
                    if text.contains("]]>") {
                        result = Err(Error::invalid("a '#cdata-section' can't contain ']]>'"));
                    }
                    content.push_str("<![CDATA[");
                    content.push_str(&text);
                    content.push_str("]]>");
                });
                result?;
            }
            _ => write_element(key, v, prefixes, depth + 1, &mut content)?,
        }
    }
    prefixes.truncate(scope_len);
    if content.is_empty() {
        out.push_str(" />");
    } else {
        out.push('>');
        out.push_str(&content);
        out.push_str("</");
        out.push_str(&name);
        out.push('>');
    }
    Ok(())
}

fn for_each_item(value: &Value, mut f: impl FnMut(&Value)) {
    match value {
        Value::Array(items) => items.iter().for_each(f),
        other => f(other),
    }
}

/// Decimals and content envelopes are objects in JSON but single values in WDL.
fn is_scalar_object(value: &Value) -> bool {
    crate::value::as_decimal(value).is_some() || crate::content::as_envelope(value).is_some()
}

/// Text of a leaf value; booleans are `true`/`false` as in XML Schema, not `True`.
fn scalar_text(value: &Value) -> String {
    match value {
        Value::Bool(b) => b.to_string(),
        other => to_text(other),
    }
}

fn element_name(name: &str, prefixes: &[String]) -> String {
    match name.split_once(':') {
        Some((prefix, local)) if prefixes.iter().any(|p| p == prefix) && !local.is_empty() => {
            format!("{}:{}", encode_name(prefix), encode_name(local))
        }
        Some((_, local)) if !local.is_empty() => encode_name(local),
        _ => encode_name(name),
    }
}

fn attribute_name(name: &str, prefixes: &[String]) -> String {
    if name == "xmlns" || name.starts_with("xmlns:") {
        return name.to_string();
    }
    element_name(name, prefixes)
}

/// `XmlConvert.EncodeName`: characters not allowed in an XML name become `_xHHHH_`.
fn encode_name(name: &str) -> String {
    if name.is_empty() {
        return "_".to_string();
    }
    let mut out = String::with_capacity(name.len());
    for (i, c) in name.chars().enumerate() {
        let allowed = if i == 0 {
            c.is_alphabetic() || c == '_'
        } else {
            c.is_alphanumeric() || matches!(c, '_' | '-' | '.' | '\u{b7}')
        };
        if allowed {
            out.push(c);
        } else {
            let mut units = [0u16; 2];
            for unit in c.encode_utf16(&mut units) {
                out.push_str(&format!("_x{unit:04X}_"));
            }
        }
    }
    out
}

//! XML functions: `xml` (text or JSON to XML content) and `xpath`. The XML work itself lives in
//! [`crate::xml`]; these are the argument rules.
//!
//! `xml()` returns a content envelope (`application/xml;charset=utf-8`) holding the document as
//! .NET would write it back; interpolating it shows the XML text. Accepted: XML text, an
//! envelope (its bytes are taken as they are, like Logic Apps) or a JSON object with one root
//! property. `xpath()` also accepts XML text directly (lenient: the reference passes
//! `xml(...)`).

use super::Kind::Eager;
use super::{Function, arg, arg_str, f, wrong_type};
use crate::content::{XML_UTF8, as_envelope, envelope, envelope_base64};
use crate::eval::Ctx;
use crate::value::as_decimal;
use crate::xml::{self, declaration, json_to_xml, write_document};
use crate::{Error, Value};

pub(super) const FUNCTIONS: &[Function] = &[
    f("xml", 1, Some(1), Eager(xml_fn)),
    f("xpath", 2, Some(2), Eager(xpath)),
];

fn xml_fn(_: &Ctx, args: &[Value]) -> Result<Value, Error> {
    let value = arg(args, 0);
    if let Some(content) = as_envelope(value) {
        return Ok(envelope_base64(XML_UTF8, content.base64.to_string()));
    }
    match value {
        Value::String(text) => {
            let doc = xml::parse(text)?;
            let written = write_document(&doc, &declaration(text))?;
            Ok(envelope(XML_UTF8, written.as_bytes()))
        }
        Value::Object(map) if as_decimal(value).is_none() => {
            Ok(envelope(XML_UTF8, json_to_xml(map)?.as_bytes()))
        }
        other => Err(wrong_type(0, "value", "XML text or a JSON object", other)),
    }
}

/// The XML text of a value: an envelope's decoded content or a string.
pub(super) fn xml_source(value: &Value, i: usize) -> Result<String, Error> {
    match (as_envelope(value), value) {
        (Some(content), _) => content.text(),
        (None, Value::String(s)) => Ok(s.clone()),
        (None, other) => Err(wrong_type(i, "xml", "XML", other)),
    }
}

fn xpath(_: &Ctx, args: &[Value]) -> Result<Value, Error> {
    let text = xml_source(arg(args, 0), 0)?;
    let expression = arg_str(args, 1, "xpath")?;
    let doc = xml::parse(&text)?;
    xml::xpath::evaluate(&doc, expression)
}

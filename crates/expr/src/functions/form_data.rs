//! Form-data functions: `triggerFormDataValue`, `triggerFormDataMultiValues`,
//! `triggerMultipartBody` and their action twins `formDataValue`, `formDataMultiValues`,
//! `multipartBody`, reading the `body` of the trigger's or action's outputs.
//!
//! A form body may arrive as Logic Apps shapes it (an envelope with `$formdata: [{key, value}]`
//! or `$multipart: [{headers, body}]`), as a raw envelope (`application/x-www-form-urlencoded`
//! or `multipart/form-data; boundary=...`, as hookflow's Request trigger records it), or as
//! URL-encoded text when the outputs' `Content-Type` header says so.
//!
//! Decisions where the reference is silent: keys match exactly (form fields are
//! case-sensitive); `*FormDataValue` with no match is null (more than one is an error, as
//! documented); multipart indexes count from 0.

use super::Kind::Eager;
use super::{Function, arg_int, arg_str, f};
use crate::content::{CONTENT_TYPE_KEY, as_envelope, envelope};
use crate::eval::Ctx;
use crate::multipart::{header_param, parse_multipart, parse_urlencoded};
use crate::value::{find_key, member_ref, to_text};
use crate::{Error, Value};
use serde_json::Map;

pub(super) const FUNCTIONS: &[Function] = &[
    f("triggerFormDataValue", 1, Some(1), Eager(trigger_value)),
    f(
        "triggerFormDataMultiValues",
        1,
        Some(1),
        Eager(trigger_values),
    ),
    f("triggerMultipartBody", 1, Some(1), Eager(trigger_part)),
    f("formDataValue", 2, Some(2), Eager(action_value)),
    f("formDataMultiValues", 2, Some(2), Eager(action_values)),
    f("multipartBody", 2, Some(2), Eager(action_part)),
];

fn trigger_outputs<'a>(ctx: &Ctx<'a>) -> Result<&'a Value, Error> {
    ctx.trigger_path(&["outputs"])
}

fn action_outputs<'a>(ctx: &Ctx<'a>, args: &[Value]) -> Result<&'a Value, Error> {
    ctx.action_path(args, &[])
}

fn trigger_value(ctx: &Ctx, args: &[Value]) -> Result<Value, Error> {
    single(values(trigger_outputs(ctx)?, arg_str(args, 0, "key")?)?)
}

fn trigger_values(ctx: &Ctx, args: &[Value]) -> Result<Value, Error> {
    Ok(Value::Array(values(
        trigger_outputs(ctx)?,
        arg_str(args, 0, "key")?,
    )?))
}

fn trigger_part(ctx: &Ctx, args: &[Value]) -> Result<Value, Error> {
    part_body(trigger_outputs(ctx)?, arg_int(args, 0, "index")?)
}

fn action_value(ctx: &Ctx, args: &[Value]) -> Result<Value, Error> {
    single(values(
        action_outputs(ctx, args)?,
        arg_str(args, 1, "key")?,
    )?)
}

fn action_values(ctx: &Ctx, args: &[Value]) -> Result<Value, Error> {
    Ok(Value::Array(values(
        action_outputs(ctx, args)?,
        arg_str(args, 1, "key")?,
    )?))
}

fn action_part(ctx: &Ctx, args: &[Value]) -> Result<Value, Error> {
    part_body(action_outputs(ctx, args)?, arg_int(args, 1, "index")?)
}

fn single(mut values: Vec<Value>) -> Result<Value, Error> {
    match values.len() {
        0 => Ok(Value::Null),
        1 => Ok(values.swap_remove(0)),
        n => Err(Error::invalid(format!(
            "the key has {n} values; use the MultiValues function to get them all"
        ))),
    }
}

/// A part as WDL shows it: its headers and its body (text for text parts, an envelope for
/// anything else).
struct FormPart {
    headers: Map<String, Value>,
    body: Value,
}

impl FormPart {
    fn field_name(&self) -> Option<String> {
        let disposition = find_key(&self.headers, "Content-Disposition")?;
        header_param(self.headers.get(disposition)?.as_str()?, "name")
    }
}

/// The content type of the outputs: the envelope's, else the `Content-Type` header's.
fn content_type(outputs: &Value, body: &Value) -> String {
    if let Some(Value::String(ct)) = body.as_object().and_then(|m| m.get(CONTENT_TYPE_KEY)) {
        return ct.clone();
    }
    match member_ref(member_ref(outputs, "headers"), "Content-Type") {
        Value::String(ct) => ct.clone(),
        _ => String::new(),
    }
}

fn is_media(content_type: &str, media: &str) -> bool {
    content_type
        .split(';')
        .next()
        .is_some_and(|m| m.trim().eq_ignore_ascii_case(media))
}

fn parts(outputs: &Value) -> Result<Option<Vec<FormPart>>, Error> {
    let body = member_ref(outputs, "body");
    if let Some(Value::Array(items)) = body.as_object().and_then(|m| m.get("$multipart")) {
        let parts = items
            .iter()
            .map(|item| FormPart {
                headers: match member_ref(item, "headers") {
                    Value::Object(h) => h.clone(),
                    _ => Map::new(),
                },
                body: member_ref(item, "body").clone(),
            })
            .collect();
        return Ok(Some(parts));
    }
    let ct = content_type(outputs, body);
    let (Some(content), true) = (as_envelope(body), is_media(&ct, "multipart/form-data")) else {
        return Ok(None);
    };
    let boundary = header_param(&ct, "boundary")
        .ok_or_else(|| Error::invalid("the multipart content type has no boundary"))?;
    let parts = parse_multipart(&content.bytes()?, &boundary)
        .into_iter()
        .map(|p| {
            let part_type = p.header("Content-Type").unwrap_or("text/plain").to_string();
            let body = if part_type.to_ascii_lowercase().starts_with("text/") {
                Value::String(String::from_utf8_lossy(&p.body).into_owned())
            } else {
                envelope(&part_type, &p.body)
            };
            let headers = p
                .headers
                .into_iter()
                .map(|(k, v)| (k, Value::String(v)))
                .collect();
            FormPart { headers, body }
        })
        .collect();
    Ok(Some(parts))
}

fn values(outputs: &Value, key: &str) -> Result<Vec<Value>, Error> {
    let body = member_ref(outputs, "body");
    if let Some(Value::Array(entries)) = body.as_object().and_then(|m| m.get("$formdata")) {
        return Ok(entries
            .iter()
            .filter(|e| member_ref(e, "key").as_str() == Some(key))
            .map(|e| member_ref(e, "value").clone())
            .collect());
    }
    if let Some(parts) = parts(outputs)? {
        return Ok(parts
            .iter()
            .filter(|p| p.field_name().as_deref() == Some(key))
            .map(|p| Value::String(to_text(&p.body)))
            .collect());
    }
    let ct = content_type(outputs, body);
    let text = match (as_envelope(body), body) {
        (Some(content), _) if is_media(&ct, "application/x-www-form-urlencoded") => {
            content.text()?
        }
        (None, Value::String(s)) if is_media(&ct, "application/x-www-form-urlencoded") => s.clone(),
        _ => {
            return Err(Error::invalid(
                "the body is not form data (application/x-www-form-urlencoded or multipart/form-data)",
            ));
        }
    };
    Ok(parse_urlencoded(&text)
        .into_iter()
        .filter(|(k, _)| k == key)
        .map(|(_, v)| Value::String(v))
        .collect())
}

fn part_body(outputs: &Value, index: i64) -> Result<Value, Error> {
    let parts =
        parts(outputs)?.ok_or_else(|| Error::invalid("the body is not multipart content"))?;
    let len = parts.len();
    usize::try_from(index)
        .ok()
        .and_then(|i| parts.into_iter().nth(i))
        .map(|p| p.body)
        .ok_or_else(|| {
            Error::invalid(format!(
                "the index {index} is outside the parts of the body (there are {len})"
            ))
        })
}

//! Encodings and binary content: `base64`, `base64ToString`, `base64ToBinary`, `binary`,
//! `dataUri`, `dataUriToString`, `dataUriToBinary` and the deprecated `decodeBase64`,
//! `decodeDataUri`.
//!
//! Binary results are content envelopes (`{"$content-type", "$content"}`), as in Logic Apps:
//! `binary('hi')` is `{"$content-type": "application/octet-stream", "$content": "aGk="}`;
//! `dataUriToBinary` keeps the data URI's media type. Interpolating an envelope, or passing it
//! where text is expected, gives its decoded text.

use super::Kind::Eager;
use super::{Function, arg, arg_str, arg_text, f, wrong_type};
use crate::content::{OCTET_STREAM, as_envelope, decode_base64, envelope, envelope_base64};
use crate::eval::Ctx;
use crate::value::to_text;
use crate::{Error, Value};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;

pub(super) const FUNCTIONS: &[Function] = &[
    f("base64", 1, Some(1), Eager(base64)),
    f("base64ToString", 1, Some(1), Eager(base64_to_string)),
    f("decodeBase64", 1, Some(1), Eager(base64_to_string)),
    f("base64ToBinary", 1, Some(1), Eager(base64_to_binary)),
    f("binary", 1, Some(1), Eager(binary)),
    f("dataUri", 1, Some(1), Eager(data_uri)),
    f("dataUriToString", 1, Some(1), Eager(data_uri_to_string)),
    f("dataUriToBinary", 1, Some(1), Eager(data_uri_to_binary)),
    f("decodeDataUri", 1, Some(1), Eager(data_uri_to_binary)),
];

/// The bytes of a value: an envelope's content, else its text.
fn bytes_of(args: &[Value], i: usize, what: &str) -> Result<Vec<u8>, Error> {
    match as_envelope(arg(args, i)) {
        Some(content) => content.bytes(),
        None => Ok(arg_text(args, i, what)?.into_bytes()),
    }
}

fn base64(_: &Ctx, args: &[Value]) -> Result<Value, Error> {
    Ok(Value::String(STANDARD.encode(bytes_of(args, 0, "value")?)))
}

fn base64_to_string(_: &Ctx, args: &[Value]) -> Result<Value, Error> {
    let bytes = match as_envelope(arg(args, 0)) {
        Some(content) => content.bytes()?,
        None => decode_base64(arg_str(args, 0, "value")?)?,
    };
    Ok(Value::String(String::from_utf8_lossy(&bytes).into_owned()))
}

fn base64_to_binary(_: &Ctx, args: &[Value]) -> Result<Value, Error> {
    if let Some(content) = as_envelope(arg(args, 0)) {
        return Ok(envelope_base64(OCTET_STREAM, content.base64.to_string()));
    }
    Ok(envelope(
        OCTET_STREAM,
        &decode_base64(arg_str(args, 0, "value")?)?,
    ))
}

fn binary(_: &Ctx, args: &[Value]) -> Result<Value, Error> {
    match arg(args, 0) {
        Value::Null => Err(wrong_type(
            0,
            "value",
            "a value other than null",
            &Value::Null,
        )),
        v => match as_envelope(v) {
            Some(content) => Ok(envelope_base64(OCTET_STREAM, content.base64.to_string())),
            None => Ok(envelope(OCTET_STREAM, to_text(v).as_bytes())),
        },
    }
}

/// Text is `text/plain`, binary keeps its type, anything else is JSON.
fn data_uri(_: &Ctx, args: &[Value]) -> Result<Value, Error> {
    let value = arg(args, 0);
    let (content_type, base64) = match (as_envelope(value), value) {
        (Some(content), _) => (content.content_type.to_string(), content.base64.to_string()),
        (None, Value::Null) => {
            return Err(wrong_type(0, "value", "a value other than null", value));
        }
        (None, Value::String(s)) => ("text/plain;charset=utf-8".to_string(), STANDARD.encode(s)),
        (None, other) => (
            "application/json;charset=utf-8".to_string(),
            STANDARD.encode(to_text(other)),
        ),
    };
    Ok(Value::String(format!(
        "data:{content_type};base64,{base64}"
    )))
}

struct DataUri {
    content_type: String,
    bytes: Vec<u8>,
}

/// `data:[<media type>][;base64],<data>`; an absent media type is `text/plain`, and data not
/// in base64 is URL-decoded (`+` is a space, as .NET's `WebUtility.UrlDecode` has it).
fn parse_data_uri(uri: &str) -> Result<DataUri, Error> {
    let rest = uri
        .get(..5)
        .filter(|p| p.eq_ignore_ascii_case("data:"))
        .and_then(|_| uri.get(5..))
        .ok_or_else(|| {
            Error::invalid("the value is not a data URI (it must start with 'data:')")
        })?;
    let (meta, data) = rest
        .split_once(',')
        .ok_or_else(|| Error::invalid("the data URI has no ',' before its data"))?;
    let mut params: Vec<&str> = meta.split(';').collect();
    let is_base64 = params
        .last()
        .is_some_and(|p| p.eq_ignore_ascii_case("base64"));
    if is_base64 {
        params.pop();
    }
    let mut content_type = params.join(";");
    if content_type.is_empty() {
        content_type = "text/plain".to_string();
    }
    let bytes = if is_base64 {
        decode_base64(data)?
    } else {
        percent_encoding::percent_decode_str(&data.replace('+', " ")).collect()
    };
    Ok(DataUri {
        content_type,
        bytes,
    })
}

fn data_uri_to_string(_: &Ctx, args: &[Value]) -> Result<Value, Error> {
    let uri = parse_data_uri(arg_str(args, 0, "dataURI")?)?;
    Ok(Value::String(
        String::from_utf8_lossy(&uri.bytes).into_owned(),
    ))
}

fn data_uri_to_binary(_: &Ctx, args: &[Value]) -> Result<Value, Error> {
    let uri = parse_data_uri(arg_str(args, 0, "dataURI")?)?;
    Ok(envelope(&uri.content_type, &uri.bytes))
}

//! URI functions: percent-encoding (`uriComponent`, `decodeUriComponent`, `uriComponentToBinary`
//! which returns binary content, ...) and the parts of
//! an absolute URI (`uriHost`, `uriPath`, `uriPort`, ...).
//!
//! The URI parser is deliberately small (scheme, authority, path, query, fragment) instead of a
//! dependency: WDL only needs those parts, and the functions reject anything not absolute.

use super::Kind::Eager;
use super::{Function, arg_text, f};
use crate::eval::Ctx;
use crate::{Error, Value};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, percent_decode_str, utf8_percent_encode};

pub(super) const FUNCTIONS: &[Function] = &[
    f("uriComponent", 1, Some(1), Eager(encode)),
    f("encodeUriComponent", 1, Some(1), Eager(encode)),
    f("uriComponentToString", 1, Some(1), Eager(decode)),
    f("decodeUriComponent", 1, Some(1), Eager(decode)),
    f("uriComponentToBinary", 1, Some(1), Eager(decode_binary)),
    f("uriHost", 1, Some(1), Eager(host)),
    f("uriPath", 1, Some(1), Eager(path)),
    f("uriPathAndQuery", 1, Some(1), Eager(path_and_query)),
    f("uriPort", 1, Some(1), Eager(port)),
    f("uriQuery", 1, Some(1), Eager(query)),
    f("uriScheme", 1, Some(1), Eager(scheme)),
];

/// RFC 3986 unreserved characters stay as they are, like .NET's `Uri.EscapeDataString`.
const COMPONENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

fn encode(_: &Ctx, args: &[Value]) -> Result<Value, Error> {
    Ok(Value::String(
        utf8_percent_encode(&arg_text(args, 0, "value")?, COMPONENT).to_string(),
    ))
}

fn decode(_: &Ctx, args: &[Value]) -> Result<Value, Error> {
    let text = arg_text(args, 0, "value")?;
    Ok(Value::String(
        percent_decode_str(&text).decode_utf8_lossy().into_owned(),
    ))
}

/// The decoded bytes as binary content (`application/octet-stream`).
fn decode_binary(_: &Ctx, args: &[Value]) -> Result<Value, Error> {
    let text = arg_text(args, 0, "value")?;
    let bytes: Vec<u8> = percent_decode_str(&text).collect();
    Ok(crate::content::envelope(
        crate::content::OCTET_STREAM,
        &bytes,
    ))
}

struct Uri<'a> {
    scheme: &'a str,
    host: &'a str,
    port: Option<&'a str>,
    path: &'a str,
    query: &'a str,
}

fn parse(text: &str) -> Result<Uri<'_>, Error> {
    let bad = || Error::invalid(format!("'{text}' is not an absolute URI"));
    let (scheme, rest) = text.split_once("://").ok_or_else(bad)?;
    if scheme.is_empty()
        || !scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
    {
        return Err(bad());
    }
    let rest = rest.split('#').next().unwrap_or("");
    let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, hp)| hp);
    // An IPv6 literal keeps its brackets; the port follows the closing bracket.
    let (host, port) = match host_port.rfind(':') {
        Some(i) if !host_port[i..].contains(']') => (&host_port[..i], Some(&host_port[i + 1..])),
        _ => (host_port, None),
    };
    if host.is_empty() {
        return Err(bad());
    }
    let (path, query) = match tail.find('?') {
        Some(i) => tail.split_at(i),
        None => (tail, ""),
    };
    Ok(Uri {
        scheme,
        host,
        port: port.filter(|p| !p.is_empty()),
        path,
        query,
    })
}

fn uri_arg(args: &[Value]) -> Result<String, Error> {
    arg_text(args, 0, "uri")
}

fn host(_: &Ctx, args: &[Value]) -> Result<Value, Error> {
    let text = uri_arg(args)?;
    Ok(Value::String(parse(&text)?.host.to_string()))
}

fn path_of<'a>(uri: &Uri<'a>) -> &'a str {
    if uri.path.is_empty() { "/" } else { uri.path }
}

fn path(_: &Ctx, args: &[Value]) -> Result<Value, Error> {
    let text = uri_arg(args)?;
    Ok(Value::String(path_of(&parse(&text)?).to_string()))
}

fn path_and_query(_: &Ctx, args: &[Value]) -> Result<Value, Error> {
    let text = uri_arg(args)?;
    let uri = parse(&text)?;
    Ok(Value::String(format!("{}{}", path_of(&uri), uri.query)))
}

fn port(_: &Ctx, args: &[Value]) -> Result<Value, Error> {
    let text = uri_arg(args)?;
    let uri = parse(&text)?;
    let port = match uri.port {
        Some(p) => p
            .parse::<i64>()
            .map_err(|_| Error::invalid(format!("'{p}' is not a valid port")))?,
        None => match uri.scheme.to_ascii_lowercase().as_str() {
            "http" | "ws" => 80,
            "https" | "wss" => 443,
            "ftp" => 21,
            other => {
                return Err(Error::invalid(format!(
                    "the scheme '{other}' has no default port"
                )));
            }
        },
    };
    Ok(Value::from(port))
}

fn query(_: &Ctx, args: &[Value]) -> Result<Value, Error> {
    let text = uri_arg(args)?;
    Ok(Value::String(parse(&text)?.query.to_string()))
}

fn scheme(_: &Ctx, args: &[Value]) -> Result<Value, Error> {
    let text = uri_arg(args)?;
    Ok(Value::String(parse(&text)?.scheme.to_ascii_lowercase()))
}

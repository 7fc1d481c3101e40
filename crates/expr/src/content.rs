//! Content envelopes: how WDL carries binary and typed content inside JSON.
//!
//! A value such as an XML document, a file or a non-JSON request body is the object
//! `{"$content-type": "...", "$content": "<base64>"}` (errata E9). Functions that make binary
//! (`binary`, `base64ToBinary`, `dataUriToBinary`, `xml`, ...) return one; functions that read
//! text (`string`, interpolation, `base64ToString`, `json`, `xml`, `xpath`) accept one and look
//! at its decoded bytes. Envelopes may carry more (`$formdata`, `$multipart`), which the
//! form-data functions read.

use crate::Error;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Map, Value};

pub(crate) const CONTENT_TYPE_KEY: &str = "$content-type";
pub(crate) const CONTENT_KEY: &str = "$content";
pub(crate) const OCTET_STREAM: &str = "application/octet-stream";
pub(crate) const XML_UTF8: &str = "application/xml;charset=utf-8";

/// An envelope seen from inside: its media type and its base64 text (not yet decoded).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Envelope<'v> {
    pub content_type: &'v str,
    pub base64: &'v str,
}

impl Envelope<'_> {
    pub fn bytes(&self) -> Result<Vec<u8>, Error> {
        decode_base64(self.base64)
    }

    /// The content as text (invalid UTF-8 replaced), which is what interpolation shows.
    pub fn text(&self) -> Result<String, Error> {
        Ok(String::from_utf8_lossy(&self.bytes()?).into_owned())
    }

    /// The media type without parameters, lower-cased (`application/xml`).
    pub fn media_type(&self) -> String {
        self.content_type
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase()
    }

    pub fn is_xml(&self) -> bool {
        let media = self.media_type();
        media == "application/xml" || media == "text/xml" || media.ends_with("+xml")
    }
}

/// Reads `value` as an envelope: an object with a string `$content` and, optionally, a string
/// `$content-type` (absent means `application/octet-stream`).
pub(crate) fn as_envelope(value: &Value) -> Option<Envelope<'_>> {
    let map = value.as_object()?;
    let base64 = map.get(CONTENT_KEY)?.as_str()?;
    let content_type = match map.get(CONTENT_TYPE_KEY) {
        None => OCTET_STREAM,
        Some(v) => v.as_str()?,
    };
    Some(Envelope {
        content_type,
        base64,
    })
}

/// Builds an envelope from raw bytes.
pub(crate) fn envelope(content_type: &str, bytes: &[u8]) -> Value {
    envelope_base64(content_type, STANDARD.encode(bytes))
}

/// Builds an envelope from text that is already base64.
pub(crate) fn envelope_base64(content_type: &str, base64: String) -> Value {
    let mut map = Map::new();
    map.insert(
        CONTENT_TYPE_KEY.to_string(),
        Value::String(content_type.to_string()),
    );
    map.insert(CONTENT_KEY.to_string(), Value::String(base64));
    Value::Object(map)
}

/// Decodes base64 as .NET's `Convert.FromBase64String` does: whitespace is ignored, padding is
/// required.
pub(crate) fn decode_base64(text: &str) -> Result<Vec<u8>, Error> {
    let compact: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    STANDARD
        .decode(compact.as_bytes())
        .map_err(|e| Error::invalid(format!("the value is not valid base64: {e}")))
}

//! Signed callback URLs (logicapps-spec §4.1). The signature is an HMAC-SHA256, keyed with one
//! of the workflow's two access keys, over the workflow name and the permission (`sp`) and
//! version (`sv`) query values; it is checked in constant time. Regenerating a key invalidates
//! every URL signed with it. Azure's exact algorithm is not public and need not be: only URLs
//! this engine made have to validate here.

use crate::{Error, Result};
use base64::Engine as _;
use hmac::{Hmac, KeyInit, Mac};
use hookflow_store::WorkflowRecord;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

pub(crate) const API_VERSION: &str = "2016-10-01";
pub(crate) const SAS_VERSION: &str = "1.0";

/// A trigger's callback URL, as `listCallbackUrl` returns it.
#[derive(Debug, Clone, PartialEq)]
pub struct CallbackUrl {
    pub value: String,
    pub method: String,
    pub base_path: String,
    pub sp: String,
    pub sig: String,
    pub relative_path: Option<String>,
    pub relative_path_parameters: Vec<String>,
}

/// The permission a trigger's URL grants.
pub(crate) fn trigger_permission(trigger: &str) -> String {
    format!("/triggers/{trigger}/run")
}

pub(crate) fn sign(key: &str, workflow: &str, sp: &str, sv: &str) -> String {
    let mut mac = HmacSha256::new_from_slice(key.as_bytes()).expect("HMAC takes any key length");
    mac.update(payload(workflow, sp, sv).as_bytes());
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
}

/// Checks a request's `sp`/`sv`/`sig` query values: `sp` must be a permission `grants`
/// accepts, and `sig` must be signed with one of the workflow's keys. Returns `sp`.
pub(crate) fn verify_request<'a>(
    workflow: &WorkflowRecord,
    query: &'a [(String, String)],
    grants: impl Fn(&str) -> bool,
) -> Result<&'a str> {
    let value = |name: &str| {
        query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .unwrap_or_default()
    };
    let (sp, sv, sig) = (value("sp"), value("sv"), value("sig"));
    let keys = [
        workflow.primary_key.as_str(),
        workflow.secondary_key.as_str(),
    ];
    if grants(sp) && verify(keys, &workflow.name, sp, sv, sig) {
        Ok(sp)
    } else {
        Err(Error::Unauthorized)
    }
}

/// Constant-time check of `sig` against both keys.
fn verify(keys: [&str; 2], workflow: &str, sp: &str, sv: &str, sig: &str) -> bool {
    let Ok(sig) = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(sig) else {
        return false;
    };
    keys.iter().any(|key| {
        let mut mac =
            HmacSha256::new_from_slice(key.as_bytes()).expect("HMAC takes any key length");
        mac.update(payload(workflow, sp, sv).as_bytes());
        mac.verify_slice(&sig).is_ok()
    })
}

fn payload(workflow: &str, sp: &str, sv: &str) -> String {
    format!("{workflow}\n{sp}\n{sv}")
}

/// Characters a path segment or query value keeps as they are (RFC 3986 unreserved).
const UNRESERVED: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// Percent-encodes one path segment or query value.
pub(crate) fn encode(text: &str) -> String {
    utf8_percent_encode(text, UNRESERVED).to_string()
}

/// A fresh random access key (256 bits, base64url).
pub(crate) fn new_key() -> String {
    let bytes: Vec<u8> = [uuid::Uuid::new_v4(), uuid::Uuid::new_v4()]
        .iter()
        .flat_map(|u| u.as_bytes().to_vec())
        .collect();
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

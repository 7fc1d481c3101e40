//! hookflow's Standard Webhooks extensions (a definition without them is plain WDL):
//!
//! - `signing` beside `authentication` in an outbound request (Http inputs, webhook
//!   `subscribe` / `unsubscribe`): `{"type": "StandardWebhooks", "secret": "@parameters('s')"}`;
//! - `callbackVerification` in the inputs of a Request trigger and of an HttpWebhook trigger or
//!   action: `{"type": "StandardWebhooks", "secret": ..., "toleranceSeconds": 300}`, which
//!   callbacks must satisfy.
//!
//! A literal secret is checked here; one from an expression when it is evaluated.

use super::ctx::{Callback, Ctx, Path, check_keys, json_type, literal_str};
use crate::CallbackVerification;
use base64::Engine as _;
use serde_json::{Map, Value};

/// The Standard Webhooks spec's default tolerance for a message's timestamp.
const DEFAULT_TOLERANCE_SECONDS: u64 = 300;

/// Checks `signing` of a request object, when present.
pub(crate) fn check_signing(ctx: &mut Ctx, request: &Map<String, Value>, path: &Path) {
    if let Some(signing) = request.get("signing") {
        check_object(ctx, signing, &path.key("signing"), &["type", "secret"]);
    }
}

/// Reads `callbackVerification` of a trigger's or webhook action's inputs, when present.
pub(crate) fn parse_verification(
    ctx: &mut Ctx,
    inputs: &Map<String, Value>,
    path: &Path,
) -> Option<CallbackVerification> {
    let path = path.key("callbackVerification");
    let value = inputs.get("callbackVerification")?;
    let keys = ["type", "secret", "toleranceSeconds"];
    let object = check_object(ctx, value, &path, &keys)?;
    let tolerance_seconds = match object.get("toleranceSeconds") {
        None => DEFAULT_TOLERANCE_SECONDS,
        Some(Value::Number(n)) if n.as_u64().is_some_and(|n| n > 0) => n.as_u64()?,
        Some(other) => {
            ctx.error(
                &path.key("toleranceSeconds"),
                format!("expected a positive whole number of seconds, got {other}"),
            );
            DEFAULT_TOLERANCE_SECONDS
        }
    };
    let secret = object.get("secret")?;
    Some(CallbackVerification {
        secret: ctx.compile(secret, &path.key("secret"), Callback::Forbidden),
        tolerance_seconds,
    })
}

/// A Standard Webhooks secret: `whsec_` and a non-empty base64 key. The message never
/// repeats the secret.
pub fn check_webhook_secret(secret: &str) -> Result<(), &'static str> {
    let key = secret
        .trim()
        .strip_prefix("whsec_")
        .ok_or("the secret must have the form whsec_<base64 key>")?;
    match base64::engine::general_purpose::STANDARD.decode(key) {
        Ok(bytes) if !bytes.is_empty() => Ok(()),
        _ => Err("the key after whsec_ must be non-empty base64"),
    }
}

/// The shape both objects share: `type` StandardWebhooks, a string `secret`.
fn check_object<'v>(
    ctx: &mut Ctx,
    value: &'v Value,
    path: &Path,
    keys: &[&str],
) -> Option<&'v Map<String, Value>> {
    let object = ctx.object(value, path)?;
    check_keys(ctx, object, keys, path);
    match ctx.required(object, "type", path) {
        Some(Value::String(ty)) if ty.eq_ignore_ascii_case("StandardWebhooks") => {}
        Some(other) => ctx.error(
            &path.key("type"),
            format!("expected StandardWebhooks, got {other}"),
        ),
        None => {}
    }
    match ctx.required(object, "secret", path) {
        Some(Value::String(secret)) if secret.trim().is_empty() => {
            ctx.error(&path.key("secret"), "must not be empty")
        }
        Some(secret @ Value::String(_)) => {
            if let Some(literal) = literal_str(secret)
                && let Err(message) = check_webhook_secret(literal)
            {
                ctx.error(&path.key("secret"), message);
            }
        }
        Some(other) => ctx.error(
            &path.key("secret"),
            format!("expected a string, got {}", json_type(other)),
        ),
        None => {}
    }
    Some(object)
}

//! `signing` of an outbound request (a hookflow extension beside `authentication`): which
//! signature the runtime adds over the bytes it sends. Only Standard Webhooks exists; its
//! secret is checked here so a bad one fails the action before any call.

use crate::OutboundSigning;
use serde_json::Value;

/// Reads an evaluated `signing` object; errors name the field (`inputs.signing.secret: ...`).
pub(crate) fn signing(value: &Value) -> Result<OutboundSigning, String> {
    const AT: &str = "inputs.signing";
    let Value::Object(fields) = value else {
        return Err(format!("{AT}: an object with a 'type' is required"));
    };
    let field = |name: &str| {
        fields
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v)
    };
    let kind = field("type").and_then(Value::as_str).unwrap_or_default();
    if !kind.eq_ignore_ascii_case("StandardWebhooks") {
        return Err(format!(
            "{AT}.type: '{kind}' is not a signing type (StandardWebhooks)"
        ));
    }
    let secret = match field("secret") {
        Some(Value::String(secret)) if !secret.is_empty() => secret,
        _ => return Err(format!("{AT}.secret: a non-empty string is required")),
    };
    hookflow_model::check_webhook_secret(secret)
        .map_err(|message| format!("{AT}.secret: {message}"))?;
    Ok(OutboundSigning::StandardWebhooks {
        secret: secret.trim().to_owned(),
    })
}

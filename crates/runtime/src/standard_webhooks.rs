//! Standard Webhooks signatures (<https://www.standardwebhooks.com>, v1): outbound calls are
//! signed with `webhook-id`, `webhook-timestamp` and `webhook-signature` headers, and inbound
//! callbacks can be required to carry them. The signature is `v1,` + base64 of
//! HMAC-SHA256(key, `"{id}.{timestamp}.{body}"`), the key being the base64 part of a
//! `whsec_…` secret. Pure functions: the caller passes the time, so tests pin it.

use crate::{Error, Result, trigger_scope::TriggerScope};
use base64::Engine as _;
use hmac::{Hmac, KeyInit, Mac};
use hookflow_model::CallbackVerification;
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// A signing key, decoded from its `whsec_` form. `Debug` never shows the key.
pub(crate) struct SigningKey(Vec<u8>);

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SigningKey(..)")
    }
}

impl SigningKey {
    /// Reads `whsec_<base64>`. The message never repeats the secret.
    pub(crate) fn parse(secret: &str) -> Result<SigningKey, String> {
        let encoded = secret
            .trim()
            .strip_prefix("whsec_")
            .ok_or("the secret must have the form whsec_<base64 key>")?;
        let key = base64::engine::general_purpose::STANDARD
            .decode(encoded)
            .map_err(|_| "the secret's key (after whsec_) is not valid base64")?;
        if key.is_empty() {
            return Err("the secret's key is empty".into());
        }
        Ok(SigningKey(key))
    }

    /// `v1,<base64 signature>` of a message.
    pub(crate) fn sign(&self, id: &str, timestamp: i64, body: &[u8]) -> String {
        let tag = self.mac(id, timestamp, body).finalize().into_bytes();
        format!(
            "v1,{}",
            base64::engine::general_purpose::STANDARD.encode(tag)
        )
    }

    fn mac(&self, id: &str, timestamp: i64, body: &[u8]) -> HmacSha256 {
        let mut mac = HmacSha256::new_from_slice(&self.0).expect("HMAC takes any key length");
        mac.update(format!("{id}.{timestamp}.").as_bytes());
        mac.update(body);
        mac
    }
}

/// The three headers of a signed message, as received.
#[derive(Debug, Clone, Copy)]
pub(crate) struct SignedMessage<'a> {
    pub id: Option<&'a str>,
    pub timestamp: Option<&'a str>,
    pub signature: Option<&'a str>,
    pub body: &'a [u8],
}

/// Why a message was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Rejection {
    MissingHeaders,
    BadTimestamp,
    /// Older or newer than the tolerance allows (a replay, or a wrong clock).
    StaleTimestamp,
    BadSignature,
}

impl Rejection {
    pub(crate) fn describe(&self) -> &'static str {
        match self {
            Rejection::MissingHeaders => {
                "the webhook-id, webhook-timestamp and webhook-signature headers are required"
            }
            Rejection::BadTimestamp => "webhook-timestamp is not a Unix time in seconds",
            Rejection::StaleTimestamp => "webhook-timestamp is outside the allowed tolerance",
            Rejection::BadSignature => "no webhook-signature matches the message",
        }
    }
}

/// Checks a message at `now` (Unix seconds): its timestamp within `tolerance_seconds`, and one
/// of its space-separated `v1,` signatures right (compared in constant time).
pub(crate) fn verify(
    key: &SigningKey,
    message: SignedMessage<'_>,
    now: i64,
    tolerance_seconds: u64,
) -> Result<(), Rejection> {
    let (Some(id), Some(timestamp), Some(signatures)) =
        (message.id, message.timestamp, message.signature)
    else {
        return Err(Rejection::MissingHeaders);
    };
    let timestamp: i64 = timestamp
        .trim()
        .parse()
        .map_err(|_| Rejection::BadTimestamp)?;
    if now.abs_diff(timestamp) > tolerance_seconds {
        return Err(Rejection::StaleTimestamp);
    }
    let matches = signatures.split(' ').any(|candidate| {
        let Some(encoded) = candidate.strip_prefix("v1,") else {
            return false;
        };
        let Ok(tag) = base64::engine::general_purpose::STANDARD.decode(encoded) else {
            return false;
        };
        // `verify_slice` compares in constant time.
        key.mac(id, timestamp, message.body)
            .verify_slice(&tag)
            .is_ok()
    });
    if matches {
        Ok(())
    } else {
        Err(Rejection::BadSignature)
    }
}

/// Checks an inbound callback against a trigger's or webhook action's `callbackVerification`
/// (the secret evaluated in `scope`: parameters only), on the raw body bytes as received, at
/// `now_ms`. A refusal is [`Error::SignatureRejected`]; nothing may have happened before.
pub(crate) fn check_callback(
    verification: &CallbackVerification,
    scope: &TriggerScope<'_>,
    headers: &[(String, String)],
    body: &[u8],
    now_ms: i64,
) -> Result<()> {
    let secret = verification.secret.eval(scope).map_err(|e| {
        Error::Internal(format!(
            "inputs.callbackVerification.secret could not be evaluated: {e}"
        ))
    })?;
    let key = secret
        .as_str()
        .ok_or("the secret is not a string")
        .and_then(|s| SigningKey::parse(s).map_err(|_| "the secret is not whsec_<base64>"))
        .map_err(|m| Error::Internal(format!("inputs.callbackVerification.secret: {m}")))?;
    let header = |wanted: &str| {
        headers
            .iter()
            .find(|(name, _)| name.eq_ignore_ascii_case(wanted))
            .map(|(_, value)| value.as_str())
    };
    let message = SignedMessage {
        id: header("webhook-id"),
        timestamp: header("webhook-timestamp"),
        signature: header("webhook-signature"),
        body,
    };
    verify(
        &key,
        message,
        now_ms.div_euclid(1000),
        verification.tolerance_seconds,
    )
    .map_err(|rejection| Error::SignatureRejected(rejection.describe().to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    // The Standard Webhooks reference libraries' test vector.
    const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    const ID: &str = "msg_p5jXN8AQM9LWM0D4loKWxJek";
    const TIMESTAMP: i64 = 1_614_265_330;
    const BODY: &[u8] = br#"{"test": 2432232314}"#;
    const SIGNATURE: &str = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";

    fn key() -> SigningKey {
        SigningKey::parse(SECRET).unwrap()
    }

    fn message<'a>(timestamp: &'a str, signature: &'a str, body: &'a [u8]) -> SignedMessage<'a> {
        SignedMessage {
            id: Some(ID),
            timestamp: Some(timestamp),
            signature: Some(signature),
            body,
        }
    }

    #[test]
    fn signs_the_reference_vector() {
        assert_eq!(key().sign(ID, TIMESTAMP, BODY), SIGNATURE);
    }

    #[test]
    fn verification_table() {
        let ts = TIMESTAMP.to_string();
        let v2 = SIGNATURE.replace("v1,", "v2,");
        let other = format!("v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc= {SIGNATURE}");
        let cases: &[(&str, SignedMessage<'_>, i64, Result<(), Rejection>)] = &[
            ("valid", message(&ts, SIGNATURE, BODY), TIMESTAMP, Ok(())),
            (
                "one of several",
                message(&ts, &other, BODY),
                TIMESTAMP,
                Ok(()),
            ),
            (
                "within tolerance",
                message(&ts, SIGNATURE, BODY),
                TIMESTAMP + 300,
                Ok(()),
            ),
            (
                "too old",
                message(&ts, SIGNATURE, BODY),
                TIMESTAMP + 301,
                Err(Rejection::StaleTimestamp),
            ),
            (
                "from the future",
                message(&ts, SIGNATURE, BODY),
                TIMESTAMP - 301,
                Err(Rejection::StaleTimestamp),
            ),
            (
                "body changed",
                message(&ts, SIGNATURE, br#"{"test": 2432232315}"#),
                TIMESTAMP,
                Err(Rejection::BadSignature),
            ),
            (
                "wrong version",
                message(&ts, &v2, BODY),
                TIMESTAMP,
                Err(Rejection::BadSignature),
            ),
            (
                "not base64",
                message(&ts, "v1,%%%", BODY),
                TIMESTAMP,
                Err(Rejection::BadSignature),
            ),
            (
                "timestamp not a number",
                message("yesterday", SIGNATURE, BODY),
                TIMESTAMP,
                Err(Rejection::BadTimestamp),
            ),
            (
                "no signature",
                SignedMessage {
                    signature: None,
                    ..message(&ts, SIGNATURE, BODY)
                },
                TIMESTAMP,
                Err(Rejection::MissingHeaders),
            ),
        ];
        for (name, message, now, expected) in cases {
            assert_eq!(&verify(&key(), *message, *now, 300), expected, "{name}");
        }
    }

    #[test]
    fn timestamp_is_part_of_the_signature() {
        let ts = (TIMESTAMP + 1).to_string();
        assert_eq!(
            verify(&key(), message(&ts, SIGNATURE, BODY), TIMESTAMP, 300),
            Err(Rejection::BadSignature)
        );
    }

    #[test]
    fn secrets_must_be_whsec_base64() {
        assert!(SigningKey::parse("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").is_err());
        assert!(SigningKey::parse("whsec_not base64!").is_err());
        assert!(SigningKey::parse("whsec_").is_err());
        assert!(!format!("{:?}", key()).contains("MfKQ"));
    }
}

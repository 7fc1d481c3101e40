//! Credentials the outbound client resolves before a call: OAuth client-credentials tokens
//! (ActiveDirectoryOAuth), managed identity tokens (ManagedServiceIdentity, only when an
//! engine-level token endpoint is configured) and client certificates (ClientCertificate).
//!
//! Tokens are cached by a hash of everything that identifies them (secret included, so a
//! rotated secret gets a fresh token) until shortly before they expire; each cache entry has
//! its own lock, so concurrent calls with one credential fetch one token. Secrets appear in no
//! error message: messages name the authority and the status, never the request body.

use hookflow_model::Diagnostic;
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

/// The authority ActiveDirectoryOAuth uses when a definition names none.
pub const DEFAULT_AUTHORITY: &str = "https://login.microsoftonline.com";

/// How many distinct credentials are remembered; past that the caches start over (a bound on
/// memory when definitions mint credentials per run).
const MAX_ENTRIES: usize = 1024;

/// A token is renewed this long before it expires (or at half its life, when shorter).
const RENEW_BEFORE: Duration = Duration::from_secs(300);

/// A failed credential lookup: the code the action fails with, and what to tell the user.
pub type Failure = (&'static str, String);

/// Cached access tokens by credential fingerprint.
#[derive(Default)]
pub struct TokenCache {
    entries: Mutex<HashMap<Vec<u8>, Slot>>,
}

/// One credential's token, locked while it is fetched.
type Slot = Arc<tokio::sync::Mutex<Option<Token>>>;

#[derive(Clone)]
struct Token {
    value: String,
    renew_at: Instant,
}

impl TokenCache {
    /// The cached token for `key`, or a fresh one from `fetch` (which returns the token and
    /// its lifetime).
    pub async fn get<F, Fut>(&self, key: Vec<u8>, fetch: F) -> Result<String, Failure>
    where
        F: FnOnce() -> Fut,
        Fut: std::future::Future<Output = Result<(String, Duration), Failure>>,
    {
        let slot = {
            let mut entries = self.entries.lock().expect("token cache lock");
            if entries.len() >= MAX_ENTRIES && !entries.contains_key(&key) {
                entries.clear();
            }
            entries.entry(key).or_default().clone()
        };
        let mut slot = slot.lock().await;
        if let Some(token) = slot.as_ref().filter(|t| Instant::now() < t.renew_at) {
            return Ok(token.value.clone());
        }
        let (value, lifetime) = fetch().await?;
        let margin = RENEW_BEFORE.min(lifetime / 2);
        *slot = Some(Token {
            value: value.clone(),
            renew_at: Instant::now() + lifetime.saturating_sub(margin),
        });
        Ok(value)
    }
}

/// A stable fingerprint of a credential's parts (never stored, never shown).
pub fn fingerprint(parts: &[&str]) -> Vec<u8> {
    let mut hasher = Sha256::new();
    for part in parts {
        hasher.update((part.len() as u64).to_le_bytes());
        hasher.update(part.as_bytes());
    }
    hasher.finalize().to_vec()
}

/// The OAuth 2.0 token endpoint of an Entra ID (v1) style authority.
pub fn token_endpoint(authority: &str, tenant: &str) -> String {
    format!(
        "{}/{}/oauth2/token",
        authority.trim_end_matches('/'),
        percent_encoding::utf8_percent_encode(tenant, percent_encoding::NON_ALPHANUMERIC)
    )
}

/// The form body of a client-credentials grant for `audience`.
pub fn client_credentials_form(client_id: &str, secret: &str, audience: &str) -> String {
    fn encode(v: &str) -> percent_encoding::PercentEncode<'_> {
        percent_encoding::utf8_percent_encode(v, percent_encoding::NON_ALPHANUMERIC)
    }
    format!(
        "grant_type=client_credentials&client_id={}&client_secret={}&resource={}",
        encode(client_id),
        encode(secret),
        encode(audience)
    )
}

/// Reads a token response (`access_token`, `expires_in` as a number or a string, as the v1
/// endpoint sends it). A response without a lifetime is trusted for five minutes.
pub fn parse_token_response(body: &[u8]) -> Result<(String, Duration), String> {
    let value: Value = serde_json::from_slice(body)
        .map_err(|_| "the token endpoint did not answer with JSON".to_owned())?;
    let token = value
        .get("access_token")
        .and_then(Value::as_str)
        .filter(|t| !t.is_empty())
        .ok_or_else(|| "the token endpoint's answer has no access_token".to_owned())?;
    let seconds = match value.get("expires_in") {
        Some(Value::Number(n)) => n.as_u64(),
        Some(Value::String(s)) => s.parse().ok(),
        _ => None,
    }
    .unwrap_or(300);
    Ok((token.to_owned(), Duration::from_secs(seconds)))
}

/// What a failed token endpoint said, without anything that came from our request.
pub fn token_error(body: &[u8]) -> String {
    let value: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    match (
        value.get("error").and_then(Value::as_str),
        value.get("error_description").and_then(Value::as_str),
    ) {
        (Some(error), Some(description)) => format!("{error}: {description}"),
        (Some(error), None) => error.to_owned(),
        _ => "no error description".to_owned(),
    }
}

/// Every literal `ManagedServiceIdentity` authentication in a workflow document, as save-time
/// diagnostics: without a configured token endpoint there is no identity to ask outside
/// Azure, and a definition relying on one would fail every run.
pub fn unavailable_identities(document: &Value) -> Vec<Diagnostic> {
    let mut found = Vec::new();
    if let Some(definition) = document.get("definition") {
        walk(definition, "definition".to_owned(), &mut found);
    }
    found
}

fn walk(value: &Value, path: String, found: &mut Vec<Diagnostic>) {
    match value {
        Value::Object(object) => {
            for (key, child) in object {
                let child_path = format!("{path}.{key}");
                let is_msi = key.eq_ignore_ascii_case("authentication")
                    && child
                        .get("type")
                        .and_then(Value::as_str)
                        .is_some_and(|t| t.eq_ignore_ascii_case("ManagedServiceIdentity"));
                if is_msi {
                    found.push(Diagnostic {
                        path: format!("{child_path}.type"),
                        message: "ManagedServiceIdentity is not available outside Azure (configure msi-token-url to use a local token provider)".into(),
                    });
                } else {
                    walk(child, child_path, found);
                }
            }
        }
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                walk(item, format!("{path}[{i}]"), found);
            }
        }
        _ => {}
    }
}

impl crate::Handle {
    /// Refuses a document using ManagedServiceIdentity when the engine has no token provider
    /// for it (save and validate).
    pub(crate) fn check_managed_identities(&self, document: &Value) -> crate::Result<()> {
        if self.inner.http.has_managed_identity() {
            return Ok(());
        }
        let found = unavailable_identities(document);
        if found.is_empty() {
            Ok(())
        } else {
            Err(crate::Error::Invalid(hookflow_model::Diagnostics(found)))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn token_endpoint_and_form() {
        assert_eq!(
            token_endpoint("http://127.0.0.1:9/", "contoso"),
            "http://127.0.0.1:9/contoso/oauth2/token"
        );
        assert_eq!(
            client_credentials_form("id", "s&=cret", "https://api.example/"),
            "grant_type=client_credentials&client_id=id&client_secret=s%26%3Dcret&resource=https%3A%2F%2Fapi%2Eexample%2F"
        );
    }

    #[test]
    fn token_responses() {
        let (token, life) =
            parse_token_response(br#"{"access_token":"t1","expires_in":"3599"}"#).unwrap();
        assert_eq!((token.as_str(), life.as_secs()), ("t1", 3599));
        let (_, life) = parse_token_response(br#"{"access_token":"t","expires_in":60}"#).unwrap();
        assert_eq!(life.as_secs(), 60);
        assert!(parse_token_response(br#"{"token_type":"Bearer"}"#).is_err());
        assert_eq!(
            token_error(br#"{"error":"invalid_client","error_description":"bad secret"}"#),
            "invalid_client: bad secret"
        );
    }

    #[tokio::test]
    async fn tokens_are_reused_until_renewal() {
        let cache = TokenCache::default();
        let calls = std::sync::atomic::AtomicUsize::new(0);
        let fetch = || async {
            let n = calls.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            Ok((format!("token-{n}"), Duration::from_secs(3600)))
        };
        assert_eq!(cache.get(b"k".to_vec(), fetch).await.unwrap(), "token-0");
        assert_eq!(cache.get(b"k".to_vec(), fetch).await.unwrap(), "token-0");
        assert_eq!(
            cache.get(b"other".to_vec(), fetch).await.unwrap(),
            "token-1"
        );
        // A token whose whole life is inside the renewal margin is fetched every time.
        let short = || async { Ok(("short".to_owned(), Duration::ZERO)) };
        cache.get(b"s".to_vec(), short).await.unwrap();
        let fetched = std::sync::atomic::AtomicBool::new(false);
        cache
            .get(b"s".to_vec(), || async {
                fetched.store(true, std::sync::atomic::Ordering::SeqCst);
                Ok(("again".to_owned(), Duration::ZERO))
            })
            .await
            .unwrap();
        assert!(fetched.load(std::sync::atomic::Ordering::SeqCst));
    }

    #[test]
    fn fingerprints_separate_parts() {
        assert_ne!(fingerprint(&["ab", "c"]), fingerprint(&["a", "bc"]));
        assert_eq!(fingerprint(&["a", "b"]), fingerprint(&["a", "b"]));
    }

    #[test]
    fn managed_identity_is_found_anywhere() {
        let document = json!({ "definition": { "actions": {
            "Call": { "type": "Http", "inputs": { "authentication": { "type": "managedServiceIdentity", "audience": "a" } } },
            "Scope": { "type": "Scope", "actions": {
                "Hook": { "type": "HttpWebhook", "inputs": { "subscribe": { "authentication": { "type": "ManagedServiceIdentity" } } } }
            } },
            "Fine": { "type": "Http", "inputs": { "authentication": { "type": "Basic" } } }
        } } });
        let paths: Vec<String> = unavailable_identities(&document)
            .into_iter()
            .map(|d| d.path)
            .collect();
        assert_eq!(
            paths,
            [
                "definition.actions.Call.inputs.authentication.type",
                "definition.actions.Scope.actions.Hook.inputs.subscribe.authentication.type",
            ]
        );
    }
}

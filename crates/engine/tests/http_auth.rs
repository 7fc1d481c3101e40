//! Building outbound requests: which authentication becomes a header, which is left to the
//! runtime as data (and never shown), and when an async-pattern poll is due.

use hookflow_engine::{Effect, HttpRequest, OutboundAuth, Poll, build_request, recorded_inputs};
use serde_json::{Value, json};

fn request(inputs: Value) -> Result<HttpRequest, String> {
    build_request(&inputs, 1000, "run/A".into())
}

#[test]
fn local_authentication_is_a_header() {
    let basic = request(json!({ "method": "get", "uri": "https://x.test/",
        "headers": { "authorization": "old" },
        "authentication": { "type": "Basic", "username": "u", "password": "p" } }))
    .unwrap();
    assert_eq!(
        basic.headers,
        [("Authorization".to_owned(), "Basic dTpw".to_owned())]
    );
    assert_eq!(basic.auth, None);
    let raw = request(json!({ "method": "GET", "uri": "https://x.test/",
        "authentication": { "type": "raw", "value": "OAuth k=v" } }))
    .unwrap();
    assert_eq!(raw.headers[0].1, "OAuth k=v");
}

#[test]
fn other_authentication_is_data_for_the_runtime() {
    let cert = request(json!({ "method": "GET", "uri": "https://x.test/",
        "headers": { "Authorization": "kept" },
        "authentication": { "type": "ClientCertificate", "pfx": "AAAA", "password": "pw" } }))
    .unwrap();
    assert_eq!(cert.headers.len(), 1, "a certificate keeps the header");
    assert_eq!(
        cert.auth,
        Some(OutboundAuth::ClientCertificate {
            pfx: "AAAA".into(),
            password: Some("pw".into())
        })
    );
    let oauth = request(json!({ "method": "GET", "uri": "https://x.test/",
        "authentication": { "type": "ActiveDirectoryOAuth", "tenant": "t", "audience": "a",
                            "clientId": "c", "secret": "s", "credentialType": "Secret" } }))
    .unwrap();
    assert!(matches!(
        oauth.auth,
        Some(OutboundAuth::ActiveDirectoryOAuth {
            authority: None,
            ..
        })
    ));
    let recorded = recorded_inputs(&oauth);
    assert_eq!(
        recorded["authentication"],
        json!({ "type": "ActiveDirectoryOAuth" })
    );
    assert!(!recorded.to_string().contains("\"s\""));
    assert!(format!("{oauth:?}").contains("client_id"));
    assert!(!format!("{:?}", oauth.auth).contains("secret"));
}

#[test]
fn authentication_errors_name_the_field() {
    let missing = request(json!({ "method": "GET", "uri": "https://x.test/",
        "authentication": { "type": "ActiveDirectoryOAuth", "tenant": "t", "audience": "a", "secret": "s" } }));
    assert_eq!(
        missing.unwrap_err(),
        "inputs.authentication.clientId: a non-empty string is required"
    );
    let certificate = request(json!({ "method": "GET", "uri": "https://x.test/",
        "authentication": { "type": "ActiveDirectoryOAuth", "tenant": "t", "audience": "a",
                            "clientId": "c", "credentialType": "Certificate", "pfx": "AA" } }));
    assert!(certificate.unwrap_err().contains("not supported yet"));
    let unknown = request(json!({ "method": "GET", "uri": "https://x.test/",
        "authentication": { "type": "Kerberos" } }));
    assert!(
        unknown
            .unwrap_err()
            .starts_with("inputs.authentication.type: 'Kerberos'")
    );
}

#[test]
fn polls_are_due_after_retry_after_or_the_default() {
    let poll = |retry_after_ms| Effect::Http {
        action: "A".into(),
        request: request(json!({ "method": "GET", "uri": "https://x.test/" })).unwrap(),
        poll: Some(Poll {
            requested_at: 1_000,
            retry_after_ms,
        }),
        retry: None,
    };
    assert_eq!(poll(None).not_before(20_000, 1_000), Some(21_000));
    assert_eq!(poll(Some(0)).not_before(20_000, 1_000), Some(2_000));
    assert_eq!(poll(Some(5_000)).not_before(20_000, 1_000), Some(6_000));
}

#[test]
fn effects_stored_before_polling_still_parse() {
    let stored = json!({ "type": "Http", "action": "A", "request": {
        "method": "GET", "uri": "https://x.test/", "headers": [], "body": null,
        "timeout_ms": 5, "idempotency_key": "k" } });
    let effect: Effect = serde_json::from_value(stored).unwrap();
    assert!(
        matches!(effect, Effect::Http { poll: None, ref request, .. } if request.auth.is_none())
    );
}

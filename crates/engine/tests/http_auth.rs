//! Building outbound requests: which authentication becomes a header, which is left to the
//! runtime as data (and never shown), and when an async-pattern poll is due.

use hookflow_engine::{
    Effect, HttpRequest, OutboundAuth, OutboundSigning, Poll, build_request, recorded_inputs,
};
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
    assert_eq!(
        certificate.unwrap().auth,
        Some(OutboundAuth::ActiveDirectoryOAuthCertificate {
            authority: None,
            tenant: "t".into(),
            audience: "a".into(),
            client_id: "c".into(),
            pfx: "AA".into(),
            password: None,
        })
    );
    let no_pfx = request(json!({ "method": "GET", "uri": "https://x.test/",
        "authentication": { "type": "ActiveDirectoryOAuth", "tenant": "t", "audience": "a",
                            "clientId": "c", "credentialType": "Certificate" } }));
    assert_eq!(
        no_pfx.unwrap_err(),
        "inputs.authentication.pfx: a non-empty string is required"
    );
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
    let poll_until = |retry_after_ms, deadline| Effect::Http {
        action: "A".into(),
        request: request(json!({ "method": "GET", "uri": "https://x.test/" })).unwrap(),
        poll: Some(Poll {
            requested_at: 1_000,
            retry_after_ms,
            deadline,
        }),
        retry: None,
    };
    let poll = |retry_after_ms| poll_until(retry_after_ms, None);
    assert_eq!(poll(None).not_before(20_000, 1_000), Some(21_000));
    assert_eq!(poll(Some(0)).not_before(20_000, 1_000), Some(2_000));
    assert_eq!(poll(Some(5_000)).not_before(20_000, 1_000), Some(6_000));
    // Never due after the operation's deadline.
    assert_eq!(
        poll_until(Some(3_600_000), Some(4_000)).not_before(20_000, 1_000),
        Some(4_000)
    );
    assert_eq!(
        poll_until(Some(0), Some(4_000)).not_before(20_000, 1_000),
        Some(2_000)
    );
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

#[test]
fn signing_is_data_for_the_runtime_and_never_shown() {
    const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    let signed = request(
        json!({ "method": "POST", "uri": "https://x.test/", "body": {},
        "signing": { "type": "StandardWebhooks", "secret": SECRET } }),
    )
    .unwrap();
    assert_eq!(
        signed.signing,
        Some(OutboundSigning::StandardWebhooks {
            secret: SECRET.into()
        })
    );
    let recorded = recorded_inputs(&signed).to_string();
    assert!(
        recorded.contains(r#""signing":{"type":"StandardWebhooks"}"#),
        "{recorded}"
    );
    assert!(!recorded.contains("MfKQ") && !format!("{signed:?}").contains("MfKQ"));

    let error = |signing: Value| {
        request(json!({ "method": "POST", "uri": "https://x.test/", "signing": signing }))
            .unwrap_err()
    };
    let cases = [
        (
            json!({ "type": "HmacHex", "secret": SECRET }),
            "inputs.signing.type: 'HmacHex' is not a signing type (StandardWebhooks)",
        ),
        (
            json!({ "type": "StandardWebhooks" }),
            "inputs.signing.secret: a non-empty string is required",
        ),
        (
            json!({ "type": "StandardWebhooks", "secret": "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw" }),
            "inputs.signing.secret: the secret must have the form whsec_<base64 key>",
        ),
        (
            json!({ "type": "StandardWebhooks", "secret": "whsec_not base64!" }),
            "inputs.signing.secret: the key after whsec_ must be non-empty base64",
        ),
        (
            json!("yes"),
            "inputs.signing: an object with a 'type' is required",
        ),
    ];
    for (signing, expected) in cases {
        assert_eq!(error(signing), expected);
    }
}

//! Issue 6, the outbound client: every authentication type against real local servers
//! (mutual TLS with certificates made by the `openssl` CLI at test time, an OAuth token
//! endpoint), secrets absent from every API response and from debug logs, the asynchronous
//! pattern across a `kill -9`, and the egress policy.

use crate::support::{Engine, Service, fire, request_workflow};
use axum::{
    Router,
    extract::State,
    http::{HeaderMap, StatusCode},
    response::IntoResponse,
    routing::{any, post},
};
use serde_json::json;
use std::{
    path::Path,
    process::{Child, Command, Stdio},
    sync::{
        Arc, Mutex,
        atomic::{AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};

const PFX_PASSWORD: &str = "pfx-pass-3c1e7a";
const CLIENT_SECRET: &str = "oauth-secret-77ab41";
const ACCESS_TOKEN: &str = "access-token-5d9e02";
const RAW_TOKEN: &str = "raw-token-9f2c88";
const CERT_ACCESS_TOKEN: &str = "cert-access-token-41d7b0";

#[tokio::test]
async fn authentication_works_and_secrets_stay_secret() {
    let dir = tempfile::tempdir().unwrap();
    let pki = Pki::create(dir.path());
    let tls = TlsServer::start(&pki);
    let tokens = TokenEndpoint::start().await;
    *tokens.client_cert.lock().unwrap() = Some(pki.client_cert.clone());
    let service = Service::start().await;
    let ca = pki.ca.to_str().unwrap().to_owned();
    let (engine, log) =
        Engine::start_logged(&dir.path().join("data"), &["--extra-ca-cert", &ca], "debug");
    let document = json!({
        "definition": {
            "parameters": {
                "pfx": { "type": "securestring" },
                "pfxPassword": { "type": "securestring" },
                "clientSecret": { "type": "securestring" },
                "token": { "type": "securestring" }
            },
            "triggers": { "manual": { "type": "Request", "kind": "Http" } },
            "actions": {
                "With_certificate": {
                    "type": "Http", "runAfter": {},
                    "inputs": { "method": "GET", "uri": tls.url(),
                        "authentication": { "type": "ClientCertificate",
                            "pfx": "@parameters('pfx')", "password": "@parameters('pfxPassword')" } }
                },
                "Without_certificate": {
                    "type": "Http", "runAfter": {},
                    // A refused handshake is a connection error, which the default policy
                    // retries for minutes: fail at once.
                    "inputs": { "method": "GET", "uri": tls.url(), "retryPolicy": { "type": "none" } }
                },
                "OAuth_first": {
                    "type": "Http", "runAfter": {},
                    "inputs": { "method": "POST", "uri": format!("{}/echo/oauth1", service.base), "body": { "n": 1 },
                        "authentication": { "type": "ActiveDirectoryOAuth", "authority": tokens.base,
                            "tenant": "contoso", "audience": "https://api.example.net/", "clientId": "client-1",
                            "credentialType": "Secret", "secret": "@parameters('clientSecret')" } }
                },
                "OAuth_second": {
                    "type": "Http", "runAfter": { "OAuth_first": ["Succeeded"] },
                    "inputs": { "method": "POST", "uri": format!("{}/echo/oauth2", service.base), "body": { "n": 2 },
                        "authentication": { "type": "ActiveDirectoryOAuth", "authority": tokens.base,
                            "tenant": "contoso", "audience": "https://api.example.net/", "clientId": "client-1",
                            "secret": "@parameters('clientSecret')" } }
                },
                "OAuth_certificate_first": {
                    "type": "Http", "runAfter": {},
                    "inputs": { "method": "GET", "uri": format!("{}/echo/oauthcert1", service.base),
                        "authentication": { "type": "ActiveDirectoryOAuth", "authority": format!("{}/cert", tokens.base),
                            "tenant": "contoso", "audience": "https://api.example.net/", "clientId": "client-2",
                            "credentialType": "Certificate",
                            "pfx": "@parameters('pfx')", "password": "@parameters('pfxPassword')" } }
                },
                "OAuth_certificate_second": {
                    "type": "Http", "runAfter": { "OAuth_certificate_first": ["Succeeded"] },
                    "inputs": { "method": "GET", "uri": format!("{}/echo/oauthcert2", service.base),
                        "authentication": { "type": "ActiveDirectoryOAuth", "authority": format!("{}/cert", tokens.base),
                            "tenant": "contoso", "audience": "https://api.example.net/", "clientId": "client-2",
                            "pfx": "@parameters('pfx')", "password": "@parameters('pfxPassword')" } }
                },
                "Raw": {
                    "type": "Http", "runAfter": {},
                    "inputs": { "method": "GET", "uri": format!("{}/echo/raw", service.base),
                        "authentication": { "type": "Raw", "value": "Bearer @{parameters('token')}" } }
                }
            }
        },
        "parameters": {
            "pfx": { "value": pki.pfx_base64() },
            "pfxPassword": { "value": PFX_PASSWORD },
            "clientSecret": { "value": CLIENT_SECRET },
            "token": { "value": RAW_TOKEN }
        }
    });
    let (status, saved) = engine.put_workflow("auth", &document).await;
    assert!(status == 200 || status == 201, "{saved}");
    let url = engine.callback_url("auth", "manual").await;
    let (status, run_id, _) = fire(&engine.client, &url, json!({})).await;
    assert_eq!(status, 202);
    let run_id = run_id.unwrap();
    engine.wait_for_end("auth", &run_id).await;
    let actions = engine.actions("auth", &run_id).await;
    let action = |name: &str| {
        actions
            .iter()
            .find(|a| a["name"] == name)
            .unwrap_or_else(|| panic!("no action {name}: {actions:?}"))
            .clone()
    };

    // Mutual TLS: the server demands a certificate signed by the test CA.
    let with = action("With_certificate");
    assert_eq!(with["status"], "Succeeded", "{with}");
    assert_eq!(with["outputs"]["statusCode"], 200);
    assert!(
        with["outputs"]["body"]
            .as_str()
            .is_some_and(|page| page.contains("hookflow-test-client")),
        "the server saw the client certificate: {with}"
    );
    assert_eq!(
        with["inputs"]["authentication"],
        json!({ "type": "ClientCertificate" })
    );
    let without = action("Without_certificate");
    assert_eq!(without["status"], "Failed", "{without}");

    // OAuth: one token for two calls, sent as a bearer token.
    for name in ["OAuth_first", "OAuth_second"] {
        assert_eq!(action(name)["status"], "Succeeded", "{}", action(name));
    }
    assert_eq!(tokens.requests.load(Ordering::SeqCst), 1, "token reused");
    let form = tokens.last_form.lock().unwrap().clone();
    assert!(form.contains("grant_type=client_credentials"), "{form}");
    assert!(form.contains("client_id=client%2D1"), "{form}");
    assert!(
        form.contains("resource=https%3A%2F%2Fapi%2Eexample%2Enet%2F"),
        "{form}"
    );
    for path in ["/echo/oauth1", "/echo/oauth2"] {
        let got = &service.received_on(path)[0];
        assert_eq!(
            got.headers["authorization"].to_str().unwrap(),
            format!("Bearer {ACCESS_TOKEN}")
        );
    }
    // OAuth with a certificate: the endpoint checked the client assertion with the
    // certificate's public key; one token for two calls.
    for name in ["OAuth_certificate_first", "OAuth_certificate_second"] {
        assert_eq!(action(name)["status"], "Succeeded", "{}", action(name));
        assert_eq!(
            action(name)["inputs"]["authentication"],
            json!({ "type": "ActiveDirectoryOAuth" })
        );
    }
    assert_eq!(
        tokens.cert_requests.load(Ordering::SeqCst),
        1,
        "token reused"
    );
    for path in ["/echo/oauthcert1", "/echo/oauthcert2"] {
        let got = &service.received_on(path)[0];
        assert_eq!(
            got.headers["authorization"].to_str().unwrap(),
            format!("Bearer {CERT_ACCESS_TOKEN}")
        );
    }
    let raw = &service.received_on("/echo/raw")[0];
    assert_eq!(
        raw.headers["authorization"].to_str().unwrap(),
        format!("Bearer {RAW_TOKEN}")
    );
    assert_eq!(
        action("Raw")["inputs"]["headers"]["Authorization"],
        "*sanitized*"
    );

    // No secret in any API response...
    let mut shown = Vec::new();
    for path in [
        "/api/workflows".to_owned(),
        "/api/workflows/auth".to_owned(),
        "/api/workflows/auth/versions".to_owned(),
        "/api/workflows/auth/runs".to_owned(),
        format!("/api/workflows/auth/runs/{run_id}"),
        format!("/api/workflows/auth/runs/{run_id}/actions"),
        "/api/subscriptions".to_owned(),
        "/api/waits".to_owned(),
    ] {
        shown.push(engine.get(&path).await.1.to_string());
    }
    for action in &actions {
        let name = action["name"].as_str().unwrap();
        shown.push(
            engine
                .get(&format!("/api/workflows/auth/runs/{run_id}/actions/{name}"))
                .await
                .1
                .to_string(),
        );
    }
    shown.push(saved.to_string());
    let secrets = [
        PFX_PASSWORD,
        CLIENT_SECRET,
        ACCESS_TOKEN,
        CERT_ACCESS_TOKEN,
        RAW_TOKEN,
        &pki.pfx_base64()[..40],
    ];
    for body in &shown {
        for secret in secrets {
            assert!(
                !body.contains(secret),
                "a secret in an API response: {body}"
            );
        }
    }
    // ...nor in the debug log.
    drop(engine);
    let log = log.lock().unwrap().clone();
    assert!(log.contains("DEBUG"), "debug logging was on: {log}");
    for secret in secrets {
        assert!(!log.contains(secret), "a secret in the log");
    }
    drop(tls);
}

#[tokio::test]
async fn managed_identity_is_refused_at_save_without_a_token_provider() {
    let dir = tempfile::tempdir().unwrap();
    let engine = Engine::start(&dir);
    let document = request_workflow(json!({
        "Call": { "type": "Http", "runAfter": {},
            "inputs": { "method": "GET", "uri": "https://storage.example.net/",
                "authentication": { "type": "ManagedServiceIdentity", "audience": "https://storage.example.net/" } } }
    }));
    let (status, body) = engine.put_workflow("msi", &document).await;
    assert_eq!(status, 400, "{body}");
    assert!(
        body.to_string().contains(
            "definition.actions.Call.inputs.authentication.type: ManagedServiceIdentity is not available outside Azure"
        ),
        "{body}"
    );
    let (status, _) = engine.get("/api/workflows/msi").await;
    assert_eq!(status, 404, "nothing was saved");
}

#[tokio::test]
async fn managed_identity_uses_the_configured_token_provider() {
    let dir = tempfile::tempdir().unwrap();
    let tokens = TokenEndpoint::start().await;
    let service = Service::start().await;
    let msi = format!("{}/metadata/identity/oauth2/token", tokens.base);
    let engine = Engine::start_with(dir.path(), &["--msi-token-url", &msi]);
    let document = request_workflow(json!({
        "Call": { "type": "Http", "runAfter": {},
            "inputs": { "method": "GET", "uri": format!("{}/echo/msi", service.base),
                "authentication": { "type": "ManagedServiceIdentity", "audience": "https://vault.example.net" } } }
    }));
    let (status, body) = engine.put_workflow("msi", &document).await;
    assert!(status == 200 || status == 201, "{body}");
    let url = engine.callback_url("msi", "manual").await;
    let (_, run_id, _) = fire(&engine.client, &url, json!({})).await;
    let run = engine.wait_for_end("msi", &run_id.unwrap()).await;
    assert_eq!(run["status"], "Succeeded", "{run}");
    let got = &service.received_on("/echo/msi")[0];
    assert_eq!(
        got.headers["authorization"].to_str().unwrap(),
        format!("Bearer {ACCESS_TOKEN}")
    );
    let query = tokens.last_query.lock().unwrap().clone();
    assert!(
        query.contains("resource=https%3A%2F%2Fvault.example.net"),
        "{query}"
    );
}

#[tokio::test]
async fn async_pattern_polls_until_done_across_a_crash() {
    let dir = tempfile::tempdir().unwrap();
    let jobs = JobService::start(4).await;
    let args = [
        "--async-poll-interval-ms",
        "300",
        "--async-poll-min-interval-ms",
        "100",
    ];
    let engine = Engine::start_with(dir.path(), &args);
    let document = request_workflow(json!({
        "Start_job": { "type": "Http", "runAfter": {},
            "inputs": { "method": "POST", "uri": format!("{}/jobs", jobs.base), "body": { "work": 1 } } },
        "Fire_and_forget": { "type": "Http", "runAfter": {}, "operationOptions": "DisableAsyncPattern",
            "inputs": { "method": "POST", "uri": format!("{}/other-jobs", jobs.base) } }
    }));
    let (status, body) = engine.put_workflow("jobs", &document).await;
    assert!(status == 200 || status == 201, "{body}");
    let url = engine.callback_url("jobs", "manual").await;
    let (_, run_id, _) = fire(&engine.client, &url, json!({})).await;
    let run_id = run_id.unwrap();
    // Mid-poll: the operation was started and polled once, then the engine dies.
    jobs.wait_for_polls(1).await;
    engine.kill9();
    let engine = Engine::start_with(dir.path(), &args);
    let run = engine.wait_for_end("jobs", &run_id).await;
    assert_eq!(run["status"], "Succeeded", "{run}");
    let actions = engine.actions("jobs", &run_id).await;
    let start_job = actions.iter().find(|a| a["name"] == "Start_job").unwrap();
    assert_eq!(start_job["outputs"]["statusCode"], 200, "{start_job}");
    assert_eq!(start_job["outputs"]["body"], json!({ "done": true }));
    assert!(jobs.polls.load(Ordering::SeqCst) >= 4);
    assert_eq!(
        jobs.starts.load(Ordering::SeqCst),
        1,
        "the job was started once"
    );
    // `Retry-After: 0` is lengthened to the minimum interval: polls never come back to back.
    let times = jobs.times.lock().unwrap().clone();
    for pair in times.windows(2) {
        let gap = pair[1] - pair[0];
        assert!(gap >= Duration::from_millis(90), "polls {gap:?} apart");
    }
    // DisableAsyncPattern: the 202 is the result.
    let other = actions
        .iter()
        .find(|a| a["name"] == "Fire_and_forget")
        .unwrap();
    assert_eq!(other["status"], "Succeeded", "{other}");
    assert_eq!(other["outputs"]["statusCode"], 202);
    assert_eq!(other["code"], "Accepted");
}

#[tokio::test]
async fn an_async_operation_times_out_at_its_limit_across_a_crash() {
    let dir = tempfile::tempdir().unwrap();
    let jobs = JobService::start(1).await;
    let engine = Engine::start_with(dir.path(), &[]);
    // The service asks for a poll in an hour; `limit.timeout` ends the wait after 3 s.
    let document = request_workflow(json!({
        "Start_job": { "type": "Http", "runAfter": {}, "limit": { "timeout": "PT3S" },
            "inputs": { "method": "POST", "uri": format!("{}/forever", jobs.base) } },
        "On_timeout": { "type": "Compose", "inputs": "@actions('Start_job')['status']",
            "runAfter": { "Start_job": ["TimedOut"] } }
    }));
    engine.create_workflow("forever", &document).await;
    let url = engine.callback_url("forever", "manual").await;
    let (_, run_id, _) = fire(&engine.client, &url, json!({})).await;
    let run_id = run_id.unwrap();
    // The deadline is data: an engine that dies while the operation runs still keeps it.
    jobs.wait_for_polls(1).await;
    engine.kill9();
    let engine = Engine::start_with(dir.path(), &[]);
    let run = engine.wait_for_end("forever", &run_id).await;
    let actions = engine.actions("forever", &run_id).await;
    let action = |name: &str| actions.iter().find(|a| a["name"] == name).unwrap().clone();
    let start_job = action("Start_job");
    assert_eq!(start_job["status"], "TimedOut", "{start_job}");
    assert_eq!(start_job["code"], "ActionTimedOut");
    assert_eq!(start_job["error"]["code"], "ActionTimedOut");
    assert_eq!(start_job["outputs"]["statusCode"], 202);
    let on_timeout = action("On_timeout");
    assert_eq!(on_timeout["status"], "Succeeded", "{on_timeout}");
    assert_eq!(on_timeout["outputs"], "TimedOut");
    assert_eq!(
        run["status"], "Succeeded",
        "the timeout was handled: {run} {actions:?}"
    );
}

#[tokio::test]
async fn egress_deny_private_refuses_local_and_metadata_addresses() {
    let dir = tempfile::tempdir().unwrap();
    let service = Service::start().await;
    let port = service.base.rsplit(':').next().unwrap().to_owned();
    let engine = Engine::start_with(dir.path(), &["--egress-deny-private"]);
    let document = request_workflow(json!({
        "Literal": { "type": "Http", "runAfter": {},
            "inputs": { "method": "GET", "uri": format!("{}/echo/literal", service.base) } },
        "By_name": { "type": "Http", "runAfter": {},
            "inputs": { "method": "GET", "uri": format!("http://localhost:{port}/echo/name") } },
        "Metadata": { "type": "Http", "runAfter": {},
            "inputs": { "method": "GET", "uri": "http://169.254.169.254/metadata/instance" } }
    }));
    let (status, body) = engine.put_workflow("egress", &document).await;
    assert!(status == 200 || status == 201, "{body}");
    let url = engine.callback_url("egress", "manual").await;
    let (_, run_id, _) = fire(&engine.client, &url, json!({})).await;
    let run_id = run_id.unwrap();
    let run = engine.wait_for_end("egress", &run_id).await;
    assert_eq!(run["status"], "Failed", "{run}");
    for action in engine.actions("egress", &run_id).await {
        assert_eq!(action["status"], "Failed", "{action}");
        assert_eq!(action["code"], "EgressDenied", "{action}");
        assert!(
            action["error"]["message"]
                .as_str()
                .unwrap()
                .contains("egress policy"),
            "{action}"
        );
    }
    assert!(service.received().is_empty(), "nothing reached the service");
}

/// A CA, a server certificate for 127.0.0.1 and a client certificate in a PFX, made with the
/// `openssl` CLI.
struct Pki {
    ca: std::path::PathBuf,
    server_cert: std::path::PathBuf,
    server_key: std::path::PathBuf,
    pfx: std::path::PathBuf,
    client_cert: std::path::PathBuf,
}

impl Pki {
    fn create(dir: &Path) -> Pki {
        let path = |name: &str| dir.join(name);
        let openssl = |args: &[&str]| {
            let output = Command::new("openssl")
                .args(args)
                .current_dir(dir)
                .output()
                .expect("the openssl CLI is installed");
            assert!(
                output.status.success(),
                "openssl {args:?}: {}",
                String::from_utf8_lossy(&output.stderr)
            );
        };
        openssl(&[
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            "ca.key",
            "-out",
            "ca.pem",
            "-days",
            "2",
            "-subj",
            "/CN=hookflow-test-ca",
        ]);
        for (name, usage, san) in [
            (
                "server",
                "serverAuth",
                "subjectAltName=IP:127.0.0.1,DNS:localhost\n",
            ),
            ("client", "clientAuth", ""),
        ] {
            std::fs::write(
                path(&format!("{name}.ext")),
                format!("{san}basicConstraints=CA:FALSE\nextendedKeyUsage={usage}\n"),
            )
            .unwrap();
            openssl(&[
                "req",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-keyout",
                &format!("{name}.key"),
                "-out",
                &format!("{name}.csr"),
                "-subj",
                &format!("/CN=hookflow-test-{name}"),
            ]);
            openssl(&[
                "x509",
                "-req",
                "-in",
                &format!("{name}.csr"),
                "-CA",
                "ca.pem",
                "-CAkey",
                "ca.key",
                "-CAcreateserial",
                "-out",
                &format!("{name}.pem"),
                "-days",
                "2",
                "-extfile",
                &format!("{name}.ext"),
            ]);
        }
        openssl(&[
            "pkcs12",
            "-export",
            "-inkey",
            "client.key",
            "-in",
            "client.pem",
            "-out",
            "client.pfx",
            "-passout",
            &format!("pass:{PFX_PASSWORD}"),
        ]);
        Pki {
            ca: path("ca.pem"),
            server_cert: path("server.pem"),
            server_key: path("server.key"),
            pfx: path("client.pfx"),
            client_cert: path("client.pem"),
        }
    }

    fn pfx_base64(&self) -> String {
        use base64_engine::encode;
        encode(&std::fs::read(&self.pfx).unwrap())
    }
}

/// Base64 without a dependency: the test crate has none, and the PFX is small.
mod base64_engine {
    pub fn encode(bytes: &[u8]) -> String {
        const TABLE: &[u8; 64] =
            b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        let mut out = String::new();
        for chunk in bytes.chunks(3) {
            let b = [
                chunk[0],
                *chunk.get(1).unwrap_or(&0),
                *chunk.get(2).unwrap_or(&0),
            ];
            let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
            for i in 0..4 {
                if i <= chunk.len() {
                    out.push(TABLE[((n >> (18 - 6 * i)) & 63) as usize] as char);
                } else {
                    out.push('=');
                }
            }
        }
        out
    }
}

/// `openssl s_server` demanding a client certificate from the test CA (`-Verify`); `-www`
/// answers every GET with a status page naming the client's certificate.
struct TlsServer {
    child: Child,
    port: u16,
}

impl TlsServer {
    fn start(pki: &Pki) -> TlsServer {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new("openssl")
            .args([
                "s_server",
                "-accept",
                &format!("127.0.0.1:{port}"),
                "-www",
                "-Verify",
                "2",
            ])
            .arg("-cert")
            .arg(&pki.server_cert)
            .arg("-key")
            .arg(&pki.server_key)
            .arg("-CAfile")
            .arg(&pki.ca)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("starting openssl s_server");
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "s_server did not start");
            std::thread::sleep(Duration::from_millis(20));
        }
        TlsServer { child, port }
    }

    fn url(&self) -> String {
        format!("https://127.0.0.1:{}/", self.port)
    }
}

impl Drop for TlsServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// An OAuth 2.0 token endpoint (`POST /{tenant}/oauth2/token`) and a managed identity
/// endpoint (`GET /metadata/identity/oauth2/token`), both answering one token for an hour.
struct TokenEndpoint {
    base: String,
    requests: Arc<AtomicUsize>,
    cert_requests: Arc<AtomicUsize>,
    /// The certificate whose key must have signed client assertions.
    client_cert: Arc<Mutex<Option<std::path::PathBuf>>>,
    last_form: Arc<Mutex<String>>,
    last_query: Arc<Mutex<String>>,
}

#[derive(Clone)]
struct TokenState {
    requests: Arc<AtomicUsize>,
    cert_requests: Arc<AtomicUsize>,
    client_cert: Arc<Mutex<Option<std::path::PathBuf>>>,
    last_form: Arc<Mutex<String>>,
    last_query: Arc<Mutex<String>>,
}

impl TokenEndpoint {
    async fn start() -> TokenEndpoint {
        let state = TokenState {
            requests: Default::default(),
            cert_requests: Default::default(),
            client_cert: Default::default(),
            last_form: Default::default(),
            last_query: Default::default(),
        };
        let app = Router::new()
            .route("/{tenant}/oauth2/token", post(oauth_token))
            .route("/cert/{tenant}/oauth2/token", post(oauth_certificate_token))
            .route("/metadata/identity/oauth2/token", any(msi_token))
            .with_state(state.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        TokenEndpoint {
            base,
            requests: state.requests,
            cert_requests: state.cert_requests,
            client_cert: state.client_cert,
            last_form: state.last_form,
            last_query: state.last_query,
        }
    }
}

async fn oauth_token(State(state): State<TokenState>, body: String) -> impl IntoResponse {
    state.requests.fetch_add(1, Ordering::SeqCst);
    *state.last_form.lock().unwrap() = body.clone();
    if !body.contains(&format!(
        "client_secret={}",
        CLIENT_SECRET.replace('-', "%2D")
    )) {
        return (
            StatusCode::UNAUTHORIZED,
            axum::Json(json!({ "error": "invalid_client", "error_description": "wrong secret" })),
        );
    }
    (
        StatusCode::OK,
        axum::Json(
            json!({ "token_type": "Bearer", "expires_in": "3600", "access_token": ACCESS_TOKEN }),
        ),
    )
}

/// The client-credentials grant with a client assertion: a token only when the assertion is
/// an RS256 JWT for this endpoint and client, whose `x5t` is the client certificate's SHA-1
/// thumbprint and whose signature the certificate's public key verifies (`openssl dgst`).
async fn oauth_certificate_token(
    State(state): State<TokenState>,
    axum::extract::Path(tenant): axum::extract::Path<String>,
    headers: HeaderMap,
    body: String,
) -> impl IntoResponse {
    state.cert_requests.fetch_add(1, Ordering::SeqCst);
    let endpoint = format!(
        "http://{}/cert/{tenant}/oauth2/token",
        headers["host"].to_str().unwrap()
    );
    let cert = state.client_cert.lock().unwrap().clone().unwrap();
    let checked = tokio::task::spawn_blocking(move || check_assertion(&body, &endpoint, &cert))
        .await
        .unwrap();
    match checked {
        Ok(()) => (
            StatusCode::OK,
            axum::Json(
                json!({ "token_type": "Bearer", "expires_in": 3600, "access_token": CERT_ACCESS_TOKEN }),
            ),
        ),
        Err(problem) => (
            StatusCode::UNAUTHORIZED,
            axum::Json(json!({ "error": "invalid_client", "error_description": problem })),
        ),
    }
}

fn check_assertion(form: &str, endpoint: &str, cert: &Path) -> Result<(), String> {
    use base64::Engine as _;
    let url = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let pairs: std::collections::HashMap<String, String> =
        reqwest::Url::parse(&format!("http://x/?{form}"))
            .unwrap()
            .query_pairs()
            .into_owned()
            .collect();
    let field = |name: &str| pairs.get(name).cloned().unwrap_or_default();
    if field("client_assertion_type") != "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
        || field("grant_type") != "client_credentials"
        || pairs.contains_key("client_secret")
    {
        return Err(format!("not an assertion grant: {form}"));
    }
    let assertion = field("client_assertion");
    let parts: Vec<&str> = assertion.split('.').collect();
    let [header, claims, signature] = parts[..] else {
        return Err("not a JWT".into());
    };
    let decode = |part: &str| url.decode(part).map_err(|e| e.to_string());
    let header: serde_json::Value = serde_json::from_slice(&decode(header)?).unwrap();
    let claims: serde_json::Value = serde_json::from_slice(&decode(claims)?).unwrap();
    let dir = cert.parent().unwrap();
    let openssl = |args: &[&str]| {
        Command::new("openssl")
            .args(args)
            .current_dir(dir)
            .output()
            .unwrap()
    };
    // `SHA1 Fingerprint=AB:CD:...`
    let fingerprint = String::from_utf8(
        openssl(&[
            "x509",
            "-noout",
            "-fingerprint",
            "-sha1",
            "-in",
            "client.pem",
        ])
        .stdout,
    )
    .unwrap();
    let hex = fingerprint
        .trim()
        .rsplit('=')
        .next()
        .unwrap()
        .replace(':', "");
    let thumbprint: Vec<u8> = (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
        .collect();
    let expected_header = json!({ "alg": "RS256", "x5t": url.encode(thumbprint) });
    if header["alg"] != expected_header["alg"] || header["x5t"] != expected_header["x5t"] {
        return Err(format!("header {header}, expected {expected_header}"));
    }
    let (nbf, exp) = (claims["nbf"].as_i64(), claims["exp"].as_i64());
    if claims["aud"] != endpoint
        || claims["iss"] != "client-2"
        || claims["sub"] != "client-2"
        || claims["jti"].as_str().is_none_or(str::is_empty)
        || !matches!((nbf, exp), (Some(nbf), Some(exp)) if exp > nbf)
    {
        return Err(format!("claims {claims}"));
    }
    let signed_part = &assertion[..assertion.rfind('.').unwrap()];
    std::fs::write(dir.join("assertion.txt"), signed_part).unwrap();
    std::fs::write(dir.join("assertion.sig"), decode(signature)?).unwrap();
    let public = openssl(&["x509", "-pubkey", "-noout", "-in", "client.pem"]).stdout;
    std::fs::write(dir.join("client.pub"), public).unwrap();
    let verified = openssl(&[
        "dgst",
        "-sha256",
        "-verify",
        "client.pub",
        "-signature",
        "assertion.sig",
        "assertion.txt",
    ]);
    if !verified.status.success() {
        return Err("the assertion's signature does not verify".into());
    }
    Ok(())
}

async fn msi_token(
    State(state): State<TokenState>,
    headers: HeaderMap,
    uri: axum::http::Uri,
) -> impl IntoResponse {
    *state.last_query.lock().unwrap() = uri.query().unwrap_or_default().to_owned();
    if headers.get("metadata").is_none_or(|v| v != "true") {
        return (
            StatusCode::BAD_REQUEST,
            axum::Json(json!({ "error": "no Metadata header" })),
        );
    }
    (
        StatusCode::OK,
        axum::Json(json!({ "access_token": ACCESS_TOKEN, "expires_in": 3600 })),
    )
}

/// A long-running operation: `POST /jobs` answers `202` with `Location: /jobs/1`; `GET
/// /jobs/1` answers `202` (with `Retry-After: 0`, which the engine's minimum interval
/// lengthens) until it has been polled `polls_needed` times, then `200 {"done": true}`.
/// `POST /other-jobs` answers `202` with a Location that must never be polled.
struct JobService {
    base: String,
    starts: Arc<AtomicUsize>,
    polls: Arc<AtomicUsize>,
    /// When each poll arrived.
    times: Arc<Mutex<Vec<Instant>>>,
}

#[derive(Clone)]
struct JobState {
    starts: Arc<AtomicUsize>,
    polls: Arc<AtomicUsize>,
    times: Arc<Mutex<Vec<Instant>>>,
    needed: usize,
}

impl JobService {
    async fn start(polls_needed: usize) -> JobService {
        let state = JobState {
            starts: Default::default(),
            polls: Default::default(),
            times: Default::default(),
            needed: polls_needed,
        };
        let app = Router::new()
            .route("/jobs", post(start_job))
            .route("/jobs/1", any(poll_job))
            .route("/other-jobs", post(start_other))
            .route("/never", any(|| async { StatusCode::IM_A_TEAPOT }))
            .route("/forever", any(still_running))
            .route("/forever/status", any(still_running))
            .with_state(state.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        JobService {
            base,
            starts: state.starts,
            polls: state.polls,
            times: state.times,
        }
    }

    async fn wait_for_polls(&self, count: usize) {
        let deadline = Instant::now() + Duration::from_secs(30);
        while self.polls.load(Ordering::SeqCst) < count {
            assert!(Instant::now() < deadline, "no poll arrived");
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
}

async fn start_job(State(state): State<JobState>) -> impl IntoResponse {
    state.starts.fetch_add(1, Ordering::SeqCst);
    (StatusCode::ACCEPTED, [("Location", "/jobs/1")], "")
}

/// An operation that never ends, asking to be polled again in an hour.
async fn still_running(State(state): State<JobState>) -> impl IntoResponse {
    state.polls.fetch_add(1, Ordering::SeqCst);
    (
        StatusCode::ACCEPTED,
        [("Location", "/forever/status"), ("Retry-After", "3600")],
        "",
    )
}

async fn start_other() -> impl IntoResponse {
    (StatusCode::ACCEPTED, [("Location", "/never")], "")
}

async fn poll_job(
    State(state): State<JobState>,
    method: axum::http::Method,
) -> axum::response::Response {
    assert_eq!(method, axum::http::Method::GET);
    state.times.lock().unwrap().push(Instant::now());
    let polls = state.polls.fetch_add(1, Ordering::SeqCst) + 1;
    if polls < state.needed {
        (
            StatusCode::ACCEPTED,
            [("Location", "/jobs/1"), ("Retry-After", "0")],
            "",
        )
            .into_response()
    } else {
        axum::Json(json!({ "done": true })).into_response()
    }
}

#[tokio::test]
async fn a_secret_from_the_engine_host_reaches_the_service_and_nothing_else() {
    const SECRET: &str = "k3y-from-the-host-8c1f";
    let dir = tempfile::tempdir().unwrap();
    let (engine, log) = Engine::start_logged_with_env(
        dir.path(),
        &[],
        "debug",
        &[("HOOKFLOW_E2E_API_KEY", SECRET)],
    );
    let service = Service::start().await;
    let mut document = request_workflow(json!({
        "Call": {
            "type": "Http",
            "inputs": {
                "method": "POST",
                "uri": format!("{}/echo/keyed", service.base),
                "headers": { "X-Api-Key": "@parameters('apiKey')" },
                "body": { "note": "key @{parameters('apiKey')} inside text" }
            },
            "runAfter": {}
        }
    }));
    document["definition"]["parameters"] = json!({ "apiKey": { "type": "securestring" } });
    document["parameters"] = json!({ "apiKey": { "fromEnv": "HOOKFLOW_E2E_API_KEY" } });
    let (status, saved) = engine.put_workflow("keyed", &document).await;
    assert_eq!(status, 201, "{saved}");
    let url = engine.callback_url("keyed", "manual").await;
    let (_, run_id, _) = fire(&engine.client, &url, json!({})).await;
    let run_id = run_id.unwrap();
    assert_eq!(
        engine.wait_for_end("keyed", &run_id).await["status"],
        "Succeeded"
    );
    let received = service.wait_for("/echo/keyed", 1).await;
    assert_eq!(
        received[0].headers["x-api-key"], SECRET,
        "the service gets the real value"
    );

    let mut seen = vec![saved.to_string()];
    for path in [
        "/api/workflows/keyed".to_owned(),
        "/api/workflows/keyed/versions".to_owned(),
        format!("/api/workflows/keyed/runs/{run_id}"),
        format!("/api/workflows/keyed/runs/{run_id}/actions"),
        format!("/api/workflows/keyed/runs/{run_id}/actions/Call"),
        format!("/api/workflows/keyed/runs/{run_id}/actions/Call/repetitions"),
    ] {
        let (status, body) = engine.get(&path).await;
        assert_eq!(status, 200, "{path}: {body}");
        seen.push(body.to_string());
    }
    for body in &seen {
        assert!(
            !body.contains(SECRET),
            "the secret leaked into an API response: {body}"
        );
    }
    let (_, action) = engine
        .get(&format!("/api/workflows/keyed/runs/{run_id}/actions/Call"))
        .await;
    assert_eq!(
        action["inputs"]["headers"]["X-Api-Key"], "*sanitized*",
        "{action}"
    );
    assert!(
        !log.lock().unwrap().contains(SECRET),
        "the secret leaked into the log"
    );
}

//! Test support: the engine as a child process, a local HTTP service that records what it
//! receives, and small helpers to call the API and wait for runs.

use axum::{
    Router,
    body::Bytes,
    extract::{Path, State},
    http::{HeaderMap, StatusCode},
    routing::any,
};
use serde_json::{Value, json};
use std::{
    io::{BufRead, BufReader},
    path::Path as FsPath,
    process::{Child, Command, Stdio},
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};
use tokio::sync::watch;

/// Set to a `postgres://` URL to run the scenarios on PostgreSQL.
pub const DATABASE_URL_ENV: &str = "HOOKFLOW_E2E_DATABASE_URL";

/// A stable 64-bit hash (FNV-1a), for schema names.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, byte| {
        (hash ^ u64::from(*byte)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// A running `hookflow serve`, killed when dropped.
pub struct Engine {
    child: Child,
    pub base: String,
    pub client: reqwest::Client,
}

impl Engine {
    /// Starts the engine on a fresh data directory inside `dir`.
    pub fn start(dir: &tempfile::TempDir) -> Engine {
        Self::start_with(dir.path(), &[])
    }

    /// Starts the engine on `data_dir` (which may hold state from an earlier engine).
    pub fn start_with(data_dir: &FsPath, extra_args: &[&str]) -> Engine {
        let mut command = Self::command(data_dir, extra_args);
        command.env("HOOKFLOW_LOG", "warn").stderr(Stdio::inherit());
        Self::from_child(command.spawn().expect("starting hookflow"))
    }

    /// Starts the engine with `HOOKFLOW_LOG` at `level` and its stderr captured: the returned
    /// buffer fills with every log line while the engine runs. `envs` are set for it too.
    pub fn start_logged(
        data_dir: &FsPath,
        extra_args: &[&str],
        level: &str,
    ) -> (Engine, Arc<Mutex<String>>) {
        Self::start_logged_with_env(data_dir, extra_args, level, &[])
    }

    pub fn start_logged_with_env(
        data_dir: &FsPath,
        extra_args: &[&str],
        level: &str,
        envs: &[(&str, &str)],
    ) -> (Engine, Arc<Mutex<String>>) {
        let mut command = Self::command(data_dir, extra_args);
        command
            .env("HOOKFLOW_LOG", level)
            .stderr(Stdio::piped())
            .envs(envs.iter().copied());
        let mut child = command.spawn().expect("starting hookflow");
        let log = Arc::new(Mutex::new(String::new()));
        let stderr = child.stderr.take().expect("piped stderr");
        let sink = log.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                let mut log = sink.lock().unwrap();
                log.push_str(&line);
                log.push('\n');
            }
        });
        (Self::from_child(child), log)
    }

    /// `hookflow serve` on an ephemeral port and `data_dir`. With HOOKFLOW_E2E_DATABASE_URL
    /// set, on PostgreSQL instead, in a schema of its own named after the data directory (so a
    /// restart finds its state).
    fn command(data_dir: &FsPath, extra_args: &[&str]) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_hookflow"));
        command
            .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
            .arg(data_dir)
            .args(extra_args)
            .stdout(Stdio::piped());
        if let Ok(url) = std::env::var(DATABASE_URL_ENV) {
            let schema = format!("e2e_{:016x}", fnv1a(data_dir.to_string_lossy().as_bytes()));
            command.args(["--database-url", &url, "--database-schema", &schema]);
            // Leases of a killed node are not released at start-up on a shared database:
            // keep them short so crash scenarios recover quickly.
            command.args(["--lease-ms", "1500"]);
        }
        command
    }

    fn from_child(mut child: Child) -> Engine {
        let stdout = child.stdout.take().expect("piped stdout");
        let mut line = String::new();
        BufReader::new(stdout)
            .read_line(&mut line)
            .expect("reading the listening line");
        let base = line
            .split_whitespace()
            .find(|word| word.starts_with("http://"))
            .unwrap_or_else(|| panic!("unexpected first line from hookflow: {line:?}"))
            .to_owned();
        Engine {
            child,
            base,
            client: reqwest::Client::new(),
        }
    }

    /// `kill -9`: no shutdown, no flush.
    pub fn kill9(mut self) {
        self.child.kill().expect("killing hookflow");
        self.child.wait().expect("reaping hookflow");
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    /// The same callback URL on this engine (a restarted one listens on a new port; another
    /// node of a cluster has its own).
    pub fn rebase(&self, url: &str) -> String {
        let path = &url[url.find("/workflows/").unwrap()..];
        self.url(path)
    }

    pub async fn put_workflow(&self, name: &str, document: &Value) -> (u16, Value) {
        let response = self
            .client
            .put(self.url(&format!("/api/workflows/{name}")))
            .json(document)
            .send()
            .await
            .unwrap();
        status_json(response).await
    }

    pub async fn get(&self, path: &str) -> (u16, Value) {
        status_json(self.client.get(self.url(path)).send().await.unwrap()).await
    }

    pub async fn post(&self, path: &str, body: Value) -> (u16, Value) {
        status_json(
            self.client
                .post(self.url(path))
                .json(&body)
                .send()
                .await
                .unwrap(),
        )
        .await
    }

    /// Creates a workflow that must not exist yet (`201`), failing the test with the answer
    /// otherwise.
    pub async fn create_workflow(&self, name: &str, document: &Value) {
        let (status, body) = self.put_workflow(name, document).await;
        assert_eq!(status, 201, "creating {name}: {body}");
    }

    /// The trigger's signed callback URL.
    pub async fn callback_url(&self, workflow: &str, trigger: &str) -> String {
        let (status, body) = self
            .post(
                &format!("/api/workflows/{workflow}/triggers/{trigger}/listCallbackUrl"),
                json!({}),
            )
            .await;
        assert_eq!(status, 200, "listCallbackUrl: {body}");
        body["value"].as_str().unwrap().to_owned()
    }

    /// Polls the run until it has ended (or the deadline passes) and returns it.
    pub async fn wait_for_end(&self, workflow: &str, run_id: &str) -> Value {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let (status, run) = self
                .get(&format!("/api/workflows/{workflow}/runs/{run_id}"))
                .await;
            assert_eq!(status, 200, "{run}");
            if run["status"] != "Running" {
                return run;
            }
            if Instant::now() >= deadline {
                let actions = self
                    .get(&format!("/api/workflows/{workflow}/runs/{run_id}/actions"))
                    .await;
                panic!("run {run_id} still running: {run}; actions: {}", actions.1);
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    pub async fn actions(&self, workflow: &str, run_id: &str) -> Vec<Value> {
        let (status, body) = self
            .get(&format!("/api/workflows/{workflow}/runs/{run_id}/actions"))
            .await;
        assert_eq!(status, 200, "{body}");
        body["value"].as_array().unwrap().clone()
    }
}

impl Drop for Engine {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub async fn status_json(response: reqwest::Response) -> (u16, Value) {
    let status = response.status().as_u16();
    let bytes = response.bytes().await.unwrap();
    let value = if bytes.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&bytes)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()))
    };
    (status, value)
}

/// One request the service received.
#[derive(Debug, Clone)]
pub struct Received {
    pub method: String,
    pub path: String,
    pub headers: HeaderMap,
    pub body: Value,
    /// The body's bytes as they arrived.
    pub raw: Vec<u8>,
}

#[derive(Clone)]
struct ServiceState {
    received: Arc<Mutex<Vec<Received>>>,
    arrived: Arc<tokio::sync::Notify>,
    gate: watch::Receiver<bool>,
    /// How many more unsubscribe calls to refuse with 500.
    refuse_unsubscribes: Arc<std::sync::atomic::AtomicUsize>,
    subscriptions: Arc<std::sync::atomic::AtomicUsize>,
}

/// A local HTTP service for workflows to call. `/echo/...` answers 200 with what it got;
/// `/status/{code}` answers that status; `/gated/...` waits until [`Service::open_gate`];
/// any other path is echoed like `/echo/...` (its `path` is the full path and query).
/// As a webhook service: `POST /hooks/subscribe` answers 201 `{"id": "<n>"}`,
/// `DELETE /hooks/subscriptions/{id}` answers 200 (or 500 while refusing, see
/// [`Service::refuse_unsubscribes`]), `POST /hooks/unsubscribe` answers 200.
pub struct Service {
    pub base: String,
    state: ServiceState,
    gate: watch::Sender<bool>,
}

impl Service {
    pub async fn start() -> Service {
        let (gate, gate_rx) = watch::channel(false);
        let state = ServiceState {
            received: Default::default(),
            arrived: Default::default(),
            gate: gate_rx,
            refuse_unsubscribes: Default::default(),
            subscriptions: Default::default(),
        };
        let app = Router::new()
            .route("/echo/{*rest}", any(echo))
            .route("/status/{code}", any(status))
            .route("/gated/{*rest}", any(gated))
            .route("/flaky/{failures}/{*rest}", any(flaky))
            .route("/hooks/subscribe", any(subscribe))
            .route("/hooks/subscriptions/{id}", any(unsubscribe))
            .route("/hooks/unsubscribe", any(unsubscribe_by_body))
            .fallback(any(echo_any))
            .with_state(state.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Service { base, state, gate }
    }

    pub fn received(&self) -> Vec<Received> {
        self.state.received.lock().unwrap().clone()
    }

    /// Waits until at least `count` requests have arrived.
    pub async fn wait_for_requests(&self, count: usize) -> Vec<Received> {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let notified = self.state.arrived.notified();
            let received = self.received();
            if received.len() >= count {
                return received;
            }
            let left = deadline.saturating_duration_since(Instant::now());
            assert!(
                !left.is_zero(),
                "only {} of {count} requests arrived",
                received.len()
            );
            let _ = tokio::time::timeout(left, notified).await;
        }
    }

    /// Requests received on `path`.
    pub fn received_on(&self, path: &str) -> Vec<Received> {
        self.received()
            .into_iter()
            .filter(|r| r.path == path)
            .collect()
    }

    /// Waits until at least `count` requests have arrived on `path`.
    pub async fn wait_for(&self, path: &str, count: usize) -> Vec<Received> {
        self.wait_for_matching(path, |r| r.path == path, count)
            .await
    }

    /// Waits until at least `count` received requests match (`what` names them in the
    /// failure message).
    pub async fn wait_for_matching(
        &self,
        what: &str,
        matches: impl Fn(&Received) -> bool,
        count: usize,
    ) -> Vec<Received> {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let notified = self.state.arrived.notified();
            let received: Vec<_> = self.received().into_iter().filter(&matches).collect();
            if received.len() >= count {
                return received;
            }
            let left = deadline.saturating_duration_since(Instant::now());
            assert!(
                !left.is_zero(),
                "only {} of {count} requests arrived ({what}): {:?}",
                received.len(),
                self.received()
            );
            let _ = tokio::time::timeout(left, notified).await;
        }
    }

    pub fn refuse_unsubscribes(&self, count: usize) {
        self.state
            .refuse_unsubscribes
            .store(count, std::sync::atomic::Ordering::SeqCst);
    }

    pub fn open_gate(&self) {
        self.gate.send_replace(true);
    }
}

fn record(
    state: &ServiceState,
    method: &axum::http::Method,
    path: String,
    headers: HeaderMap,
    body: &Bytes,
) -> Value {
    let raw = body.to_vec();
    let body: Value = serde_json::from_slice(body)
        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(body).into_owned()));
    state.received.lock().unwrap().push(Received {
        method: method.to_string(),
        path,
        headers,
        body: body.clone(),
        raw,
    });
    state.arrived.notify_waiters();
    body
}

async fn echo(
    State(state): State<ServiceState>,
    method: axum::http::Method,
    Path(rest): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> axum::Json<Value> {
    let got = record(&state, &method, format!("/echo/{rest}"), headers, &body);
    axum::Json(json!({ "method": method.to_string(), "path": rest, "got": got }))
}

async fn echo_any(
    State(state): State<ServiceState>,
    method: axum::http::Method,
    uri: axum::http::Uri,
    headers: HeaderMap,
    body: Bytes,
) -> axum::Json<Value> {
    let got = record(&state, &method, uri.path().to_owned(), headers, &body);
    let path = uri.path_and_query().map_or("", |p| p.as_str());
    axum::Json(json!({ "method": method.to_string(), "path": path, "got": got }))
}

async fn status(
    State(state): State<ServiceState>,
    method: axum::http::Method,
    Path(code): Path<u16>,
    headers: HeaderMap,
    body: Bytes,
) -> (StatusCode, axum::Json<Value>) {
    record(&state, &method, format!("/status/{code}"), headers, &body);
    (
        StatusCode::from_u16(code).unwrap(),
        axum::Json(json!({ "status": code })),
    )
}

async fn gated(
    State(state): State<ServiceState>,
    method: axum::http::Method,
    Path(rest): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> axum::Json<Value> {
    let got = record(&state, &method, format!("/gated/{rest}"), headers, &body);
    let mut gate = state.gate.clone();
    let _ = gate.wait_for(|open| *open).await;
    axum::Json(json!({ "released": rest, "got": got }))
}

/// `/flaky/{failures}/...` answers 503 to the first `failures` requests on its path, then 200
/// (each answer says which attempt it was).
async fn flaky(
    State(state): State<ServiceState>,
    method: axum::http::Method,
    Path((failures, rest)): Path<(usize, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> (StatusCode, axum::Json<Value>) {
    let path = format!("/flaky/{failures}/{rest}");
    let got = record(&state, &method, path.clone(), headers, &body);
    let attempt = state
        .received
        .lock()
        .unwrap()
        .iter()
        .filter(|r| r.path == path)
        .count();
    let status = if attempt <= failures {
        StatusCode::SERVICE_UNAVAILABLE
    } else {
        StatusCode::OK
    };
    (
        status,
        axum::Json(json!({ "attempt": attempt, "got": got })),
    )
}

/// A workflow document: Request trigger plus the given actions.
pub fn request_workflow(actions: Value) -> Value {
    json!({
        "definition": {
            "$schema": "https://schema.management.azure.com/providers/Microsoft.Logic/schemas/2016-06-01/workflowdefinition.json#",
            "contentVersion": "1.0.0.0",
            "triggers": { "manual": { "type": "Request", "kind": "Http", "inputs": { "schema": {} } } },
            "actions": actions,
        }
    })
}

/// Fires a trigger URL with a JSON body; returns status, run id header and body.
pub async fn fire(
    client: &reqwest::Client,
    url: &str,
    body: Value,
) -> (u16, Option<String>, Value) {
    let response = client.post(url).json(&body).send().await.unwrap();
    let run_id = response
        .headers()
        .get("x-ms-workflow-run-id")
        .map(|v| v.to_str().unwrap().to_owned());
    let (status, body) = status_json(response).await;
    (status, run_id, body)
}

async fn subscribe(
    State(state): State<ServiceState>,
    method: axum::http::Method,
    headers: HeaderMap,
    body: Bytes,
) -> (StatusCode, axum::Json<Value>) {
    record(&state, &method, "/hooks/subscribe".into(), headers, &body);
    let id = state
        .subscriptions
        .fetch_add(1, std::sync::atomic::Ordering::SeqCst)
        + 1;
    (
        StatusCode::CREATED,
        axum::Json(json!({ "id": id.to_string() })),
    )
}

async fn unsubscribe(
    State(state): State<ServiceState>,
    method: axum::http::Method,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> StatusCode {
    record(
        &state,
        &method,
        format!("/hooks/subscriptions/{id}"),
        headers,
        &body,
    );
    let refused = state
        .refuse_unsubscribes
        .fetch_update(
            std::sync::atomic::Ordering::SeqCst,
            std::sync::atomic::Ordering::SeqCst,
            |n| n.checked_sub(1),
        )
        .is_ok();
    if refused {
        StatusCode::INTERNAL_SERVER_ERROR
    } else {
        StatusCode::OK
    }
}

async fn unsubscribe_by_body(
    State(state): State<ServiceState>,
    method: axum::http::Method,
    headers: HeaderMap,
    body: Bytes,
) -> StatusCode {
    record(&state, &method, "/hooks/unsubscribe".into(), headers, &body);
    StatusCode::OK
}

/// A workflow document whose trigger is an HttpWebhook subscribing at `service`.
pub fn webhook_workflow(service: &str, topic: &str, actions: Value) -> Value {
    json!({
        "definition": {
            "triggers": {
                "events": {
                    "type": "HttpWebhook",
                    "inputs": {
                        "subscribe": {
                            "method": "POST",
                            "uri": format!("{service}/hooks/subscribe"),
                            "body": { "callbackUrl": "@{listCallbackUrl()}", "topic": topic },
                            "retryPolicy": { "type": "none" }
                        },
                        "unsubscribe": {
                            "method": "DELETE",
                            "uri": format!("{service}/hooks/subscriptions/@{{action().outputs.body.id}}")
                        }
                    }
                }
            },
            "actions": actions,
        }
    })
}

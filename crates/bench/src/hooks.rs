//! The local webhook service the webhook scenarios subscribe to: axum on 127.0.0.1:0 inside
//! the harness process (its own tokio tasks, the harness' runtime).
//!
//! - `POST /subscribe` with `{"callbackUrl": …}`: records the callback URL (once per URL: a
//!   repeated subscribe, e.g. after a restart, is counted but not recorded twice) and answers
//!   `201 {"id": "<n>"}`. In [`Mode::CallBackAtOnce`] it also spawns a task that POSTs
//!   `{"decision": "approve"}` to the callback URL at once — usually before the subscribe
//!   response has left — and records when it was sent and when the engine's `200` came back.
//! - `DELETE /subscriptions/{id}`: counted, `200`.

use axum::{
    Json, Router,
    extract::State,
    http::StatusCode,
    routing::{delete, post},
};
use serde_json::{Value, json};
use std::{
    collections::HashSet,
    sync::{
        Arc, Mutex,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, Instant, SystemTime, UNIX_EPOCH},
};

/// What the service does with a subscription.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Keep the callback URL; the scenario calls it (or not) later.
    Record,
    /// Keep it and call it back immediately from a spawned task.
    CallBackAtOnce,
}

/// One callback made by the service in [`Mode::CallBackAtOnce`].
#[derive(Debug, Clone)]
pub struct CallbackMade {
    /// The run id, from the callback URL (`…/runs/{run}/actions/{action}/run`).
    pub run_id: String,
    /// Wall clock when the POST was sent, microseconds since the epoch (comparable with the
    /// engine's run times: same machine, same clock).
    pub sent_unix_us: i64,
    /// POST sent → the engine's answer received (`200` = the resume is durable), µs.
    pub answered_us: u64,
    /// The engine's answer (0: transport error after retries).
    pub status: u16,
    /// Attempts made (transport errors and 5xx are retried).
    pub attempts: u32,
}

#[derive(Default)]
struct Recorded {
    seen: HashSet<String>,
    /// Unique callback URLs, in the order they were first subscribed.
    urls: Vec<String>,
}

struct Shared {
    mode: Mode,
    subscribes: AtomicU64,
    unsubscribes: AtomicU64,
    next_id: AtomicU64,
    recorded: Mutex<Recorded>,
    callbacks: Mutex<Vec<CallbackMade>>,
    in_flight: AtomicU64,
    client: reqwest::Client,
}

/// A running service; stops when dropped.
pub struct Hooks {
    shared: Arc<Shared>,
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    server: tokio::task::JoinHandle<()>,
}

impl Drop for Hooks {
    fn drop(&mut self) {
        self.server.abort();
    }
}

impl Hooks {
    pub async fn start(mode: Mode) -> anyhow::Result<Hooks> {
        let shared = Arc::new(Shared {
            mode,
            subscribes: AtomicU64::new(0),
            unsubscribes: AtomicU64::new(0),
            next_id: AtomicU64::new(1),
            recorded: Mutex::new(Recorded::default()),
            callbacks: Mutex::new(Vec::new()),
            in_flight: AtomicU64::new(0),
            client: crate::load::client(256),
        });
        let app = Router::new()
            .route("/subscribe", post(subscribe))
            .route("/subscriptions/{id}", delete(unsubscribe))
            .with_state(shared.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let base = format!("http://{}", listener.local_addr()?);
        let server = tokio::spawn(async move {
            if let Err(error) = axum::serve(listener, app).await {
                eprintln!("webhook service: {error}");
            }
        });
        Ok(Hooks {
            shared,
            base,
            server,
        })
    }

    /// The `inputs` of an HttpWebhook trigger or action subscribing to this service.
    pub fn webhook_inputs(&self) -> Value {
        json!({
            "subscribe": {
                "method": "POST",
                "uri": format!("{}/subscribe", self.base),
                "body": { "callbackUrl": "@{listCallbackUrl()}" }
            },
            "unsubscribe": {
                "method": "DELETE",
                "uri": format!("{}/subscriptions/@{{action().outputs.body.id}}", self.base)
            }
        })
    }

    /// Subscribe calls received (repeats included).
    pub fn subscribes(&self) -> u64 {
        self.shared.subscribes.load(Ordering::Relaxed)
    }

    pub fn unsubscribes(&self) -> u64 {
        self.shared.unsubscribes.load(Ordering::Relaxed)
    }

    /// Distinct callback URLs received so far.
    pub fn url_count(&self) -> usize {
        self.shared.recorded.lock().expect("lock").urls.len()
    }

    /// Distinct callback URLs, in the order first received.
    pub fn urls(&self) -> Vec<String> {
        self.shared.recorded.lock().expect("lock").urls.clone()
    }

    /// Waits until `count` distinct callback URLs arrived (or `timeout`); returns how many did.
    pub async fn wait_for_urls(&self, count: usize, timeout: Duration, label: &str) -> usize {
        let start = Instant::now();
        let mut last_report = Instant::now();
        loop {
            let have = self.url_count();
            if have >= count || start.elapsed() > timeout {
                return have;
            }
            if last_report.elapsed() >= Duration::from_secs(1) {
                eprintln!("  {label}: {have}/{count} subscribed");
                last_report = Instant::now();
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Waits until the service has no callback in flight (or `timeout`).
    pub async fn wait_callbacks_done(&self, timeout: Duration) -> bool {
        let start = Instant::now();
        while self.shared.in_flight.load(Ordering::Relaxed) > 0 {
            if start.elapsed() > timeout {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        true
    }

    /// Every callback made so far ([`Mode::CallBackAtOnce`]).
    pub fn callbacks(&self) -> Vec<CallbackMade> {
        self.shared.callbacks.lock().expect("lock").clone()
    }
}

/// The run id in an action callback URL, if it is one.
pub fn run_id_of(url: &str) -> Option<&str> {
    let rest = &url[url.find("/runs/")? + "/runs/".len()..];
    rest.split('/').next().filter(|id| !id.is_empty())
}

fn unix_us(time: SystemTime) -> i64 {
    time.duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_micros() as i64)
}

async fn subscribe(
    State(shared): State<Arc<Shared>>,
    Json(body): Json<Value>,
) -> (StatusCode, Json<Value>) {
    shared.subscribes.fetch_add(1, Ordering::Relaxed);
    let Some(url) = body.get("callbackUrl").and_then(Value::as_str) else {
        return (
            StatusCode::BAD_REQUEST,
            Json(json!({ "error": "no callbackUrl" })),
        );
    };
    let id = shared.next_id.fetch_add(1, Ordering::Relaxed);
    let new = {
        let mut recorded = shared.recorded.lock().expect("lock");
        let new = recorded.seen.insert(url.to_owned());
        if new {
            recorded.urls.push(url.to_owned());
        }
        new
    };
    if new && shared.mode == Mode::CallBackAtOnce {
        shared.in_flight.fetch_add(1, Ordering::Relaxed);
        tokio::spawn(call_back(shared.clone(), url.to_owned()));
    }
    (StatusCode::CREATED, Json(json!({ "id": id.to_string() })))
}

async fn call_back(shared: Arc<Shared>, url: String) {
    let body = json!({ "decision": "approve" });
    let sent_at = SystemTime::now();
    let sent = Instant::now();
    let mut attempts = 0;
    let status = loop {
        attempts += 1;
        let status = match shared.client.post(&url).json(&body).send().await {
            Ok(response) => {
                let status = response.status().as_u16();
                let _ = response.bytes().await;
                status
            }
            Err(_) => 0,
        };
        if (status == 0 || status >= 500) && attempts < 5 {
            tokio::time::sleep(Duration::from_millis(50)).await;
            continue;
        }
        break status;
    };
    let made = CallbackMade {
        run_id: run_id_of(&url).unwrap_or_default().to_owned(),
        sent_unix_us: unix_us(sent_at),
        answered_us: sent.elapsed().as_micros() as u64,
        status,
        attempts,
    };
    shared.callbacks.lock().expect("lock").push(made);
    shared.in_flight.fetch_sub(1, Ordering::Relaxed);
}

async fn unsubscribe(State(shared): State<Arc<Shared>>) -> StatusCode {
    shared.unsubscribes.fetch_add(1, Ordering::Relaxed);
    StatusCode::OK
}

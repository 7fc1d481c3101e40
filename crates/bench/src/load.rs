//! The load generator: a fixed number of workers, each sending one POST at a time on its own
//! keep-alive connection, until a request count or a duration runs out (whichever is first).
//! Every request goes to one URL, or request *i* to the *i*-th of a list (callbacks, one URL
//! per waiting run). Every latency is kept (microseconds) and sorted at the end; progress goes
//! to stderr.

use axum::body::Bytes;
use std::{
    collections::BTreeMap,
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, Instant, SystemTime},
};

/// What to send and when to stop.
#[derive(Debug, Clone)]
pub struct LoadSpec {
    /// Shown in progress lines.
    pub label: String,
    /// Request *i* goes to `urls[i % urls.len()]`: one URL, or one per node of a cluster
    /// (round robin, as a load balancer would).
    pub urls: Arc<[String]>,
    /// When set, request *i* goes to `targets[i]` instead, and at most `targets.len()`
    /// requests are sent.
    pub targets: Option<Arc<[String]>>,
    /// Cheap to clone (reference-counted).
    pub body: Bytes,
    pub concurrency: usize,
    pub max_requests: u64,
    pub max_duration: Duration,
    /// The status a request must get to count as successful.
    pub expect_status: u16,
    /// Keep the value of this response header for each successful request (e.g. the run id).
    pub keep_header: Option<&'static str>,
}

/// What happened.
#[derive(Debug, Default)]
pub struct LoadResult {
    pub sent: u64,
    pub ok: u64,
    pub failed: u64,
    /// Responses by status (transport errors are status 0).
    pub statuses: BTreeMap<u16, u64>,
    /// The first few failures, for the report.
    pub sample_errors: Vec<String>,
    /// Latencies of successful requests, microseconds, sorted.
    pub latencies_us: Vec<u64>,
    /// Values of `keep_header` from successful responses.
    pub kept: Vec<String>,
    /// Wall-clock time the first request was sent.
    pub started_at: Option<SystemTime>,
    pub elapsed: Duration,
}

impl LoadResult {
    /// Successful requests per second.
    pub fn throughput(&self) -> f64 {
        self.ok as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }
}

/// A client for load: keep-alive, HTTP/1.1, no proxy, one idle connection per worker.
pub fn client(concurrency: usize) -> reqwest::Client {
    reqwest::Client::builder()
        .http1_only()
        .no_proxy()
        .tcp_nodelay(true)
        .pool_max_idle_per_host(concurrency)
        .timeout(Duration::from_secs(60))
        .build()
        .expect("building the HTTP client")
}

#[derive(Default)]
struct Worker {
    latencies_us: Vec<u64>,
    statuses: BTreeMap<u16, u64>,
    errors: Vec<String>,
    kept: Vec<String>,
}

/// Runs the load and returns its result. Never runs past `max_duration` by more than one
/// request's time (the client's timeout bounds that).
pub async fn run(spec: LoadSpec) -> LoadResult {
    let client = client(spec.concurrency);
    let issued = Arc::new(AtomicU64::new(0));
    let done = Arc::new(AtomicU64::new(0));
    let started_at = SystemTime::now();
    let start = Instant::now();
    let deadline = start + spec.max_duration;
    let spec = Arc::new(spec);

    let progress = {
        let (done, spec) = (done.clone(), spec.clone());
        tokio::spawn(async move {
            let mut last = 0;
            let mut tick = tokio::time::interval(Duration::from_secs(1));
            tick.tick().await;
            loop {
                tick.tick().await;
                let now = done.load(Ordering::Relaxed);
                eprintln!(
                    "  {}: {now} requests done, {} req/s, {:.0}s",
                    spec.label,
                    now - last,
                    start.elapsed().as_secs_f64()
                );
                last = now;
            }
        })
    };

    let mut workers = Vec::with_capacity(spec.concurrency);
    for _ in 0..spec.concurrency {
        let (client, issued, done, spec) =
            (client.clone(), issued.clone(), done.clone(), spec.clone());
        workers.push(tokio::spawn(async move {
            let mut worker = Worker::default();
            let limit = spec
                .targets
                .as_ref()
                .map_or(spec.max_requests, |t| spec.max_requests.min(t.len() as u64));
            while Instant::now() < deadline {
                let index = issued.fetch_add(1, Ordering::Relaxed);
                if index >= limit {
                    break;
                }
                let url = match &spec.targets {
                    Some(targets) => &targets[index as usize],
                    None => &spec.urls[index as usize % spec.urls.len()],
                };
                let sent = Instant::now();
                let outcome = client
                    .post(url)
                    .header("content-type", "application/json")
                    .body(spec.body.clone())
                    .send()
                    .await;
                let status = match outcome {
                    Ok(response) => {
                        let status = response.status().as_u16();
                        let header = spec.keep_header.and_then(|name| {
                            response
                                .headers()
                                .get(name)
                                .and_then(|v| v.to_str().ok())
                                .map(str::to_owned)
                        });
                        // Read the whole body so the connection is reused.
                        let body = response.bytes().await;
                        if status == spec.expect_status && body.is_ok() {
                            worker.latencies_us.push(sent.elapsed().as_micros() as u64);
                            worker.kept.extend(header);
                        } else if worker.errors.len() < 5 {
                            let text = body
                                .map(|b| {
                                    String::from_utf8_lossy(&b)
                                        .chars()
                                        .take(200)
                                        .collect::<String>()
                                })
                                .unwrap_or_default();
                            worker.errors.push(format!("status {status}: {text}"));
                        }
                        status
                    }
                    Err(error) => {
                        if worker.errors.len() < 5 {
                            worker.errors.push(format!("transport: {error}"));
                        }
                        0
                    }
                };
                *worker.statuses.entry(status).or_default() += 1;
                done.fetch_add(1, Ordering::Relaxed);
            }
            worker
        }));
    }

    let mut result = LoadResult {
        started_at: Some(started_at),
        ..Default::default()
    };
    for worker in workers {
        let worker = worker.await.expect("load worker panicked");
        result.latencies_us.extend(worker.latencies_us);
        result.kept.extend(worker.kept);
        for (status, count) in worker.statuses {
            *result.statuses.entry(status).or_default() += count;
        }
        for error in worker.errors {
            if result.sample_errors.len() < 5 {
                result.sample_errors.push(error);
            }
        }
    }
    result.elapsed = start.elapsed();
    progress.abort();
    result.latencies_us.sort_unstable();
    result.sent = result.statuses.values().sum();
    result.ok = result.latencies_us.len() as u64;
    result.failed = result.sent - result.ok;
    result
}

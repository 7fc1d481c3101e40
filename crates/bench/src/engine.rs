//! Child processes under test: `hookflow serve` on a fresh data directory (or the baseline
//! server), their address from the first stdout line, their RSS and CPU time from `/proc`,
//! a `kill -9` that keeps the data directory for a restart, and the few management API calls
//! the scenarios need.

use anyhow::{Context, bail};
use hookflow_api as api;
use serde_json::{Value, json};
use std::{
    io::{BufRead, BufReader},
    path::Path,
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

/// A running child server, killed when dropped.
pub struct Server {
    child: Child,
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    /// Keeps the engine's data directory alive as long as the engine.
    data_dir: Option<tempfile::TempDir>,
    pub client: reqwest::Client,
    /// When the process was spawned.
    pub spawned: Instant,
    /// Spawn → its listening line on stdout.
    pub listening_after: Duration,
}

impl Server {
    /// `hookflow serve --listen 127.0.0.1:0 --data-dir <fresh temp dir>`.
    pub fn start_engine(engine: &Path) -> anyhow::Result<Server> {
        Self::start_engine_with(engine, &[])
    }

    /// `hookflow serve --listen 127.0.0.1:0 --data-dir <fresh temp dir> <extra_args>` (e.g. a
    /// `--database-url`: the data directory is then unused).
    pub fn start_engine_with(engine: &Path, extra_args: &[String]) -> anyhow::Result<Server> {
        let dir = tempfile::Builder::new()
            .prefix("hookflow-bench-")
            .tempdir()?;
        Self::serve(engine, dir, "127.0.0.1:0", extra_args)
    }

    /// `hookflow serve --listen <listen> --data-dir <dir>` on an existing data directory
    /// (a restart).
    pub fn start_engine_in(
        engine: &Path,
        dir: tempfile::TempDir,
        listen: &str,
    ) -> anyhow::Result<Server> {
        Self::serve(engine, dir, listen, &[])
    }

    fn serve(
        engine: &Path,
        dir: tempfile::TempDir,
        listen: &str,
        extra_args: &[String],
    ) -> anyhow::Result<Server> {
        let mut command = Command::new(engine);
        command
            .args(["serve", "--listen", listen, "--data-dir"])
            .arg(dir.path())
            .args(extra_args)
            .env("HOOKFLOW_LOG", "warn");
        Self::start(command, Some(dir))
            .with_context(|| format!("starting the engine {}", engine.display()))
    }

    /// This binary with `--serve-baseline`.
    pub fn start_baseline() -> anyhow::Result<Server> {
        let mut command = Command::new(std::env::current_exe()?);
        command.arg("--serve-baseline");
        Self::start(command, None).context("starting the baseline server")
    }

    fn start(mut command: Command, data_dir: Option<tempfile::TempDir>) -> anyhow::Result<Server> {
        let spawned = Instant::now();
        let mut child = command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()?;
        let stdout = child.stdout.take().expect("piped stdout");
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line)?;
        let Some(base) = line
            .split_whitespace()
            .find(|word| word.starts_with("http://"))
        else {
            let _ = child.kill();
            bail!("unexpected first line: {line:?}");
        };
        Ok(Server {
            base: base.trim_end_matches('/').to_owned(),
            child,
            data_dir,
            client: crate::load::client(4),
            listening_after: spawned.elapsed(),
            spawned,
        })
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// `kill -9`, then wait for the process; returns the data directory for a restart.
    pub fn kill(mut self) -> anyhow::Result<tempfile::TempDir> {
        self.child.kill()?;
        self.child.wait()?;
        self.data_dir
            .take()
            .context("the baseline has no data directory")
    }

    /// Peak resident set size so far (`VmHWM`), KiB.
    pub fn peak_rss_kib(&self) -> Option<u64> {
        proc_status_kib(self.pid(), "VmHWM:")
    }

    /// Resident set size now (`VmRSS`), KiB.
    pub fn rss_kib(&self) -> Option<u64> {
        proc_status_kib(self.pid(), "VmRSS:")
    }

    /// User + system CPU time so far, in clock ticks (`/proc/<pid>/stat` fields 14 and 15).
    pub fn cpu_ticks(&self) -> Option<u64> {
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", self.pid())).ok()?;
        // Fields after the command name, which is in parentheses and may contain spaces.
        let rest = &stat[stat.rfind(')')? + 2..];
        let fields: Vec<&str> = rest.split_whitespace().collect();
        Some(fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?)
    }

    /// Waits until the engine used (almost) no CPU for a whole `window` — its backlog of
    /// steps, effects and writes is drained — or `timeout` passes. Returns whether it got idle.
    pub async fn wait_idle(&self, window: Duration, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        // Ticks are 10 ms: allow one tick per 500 ms of window (timers, sweeps).
        let allowed = (window.as_millis() / 500).max(1) as u64;
        let mut before = self.cpu_ticks();
        while Instant::now() < deadline {
            tokio::time::sleep(window).await;
            let now = self.cpu_ticks();
            match (before, now) {
                (Some(b), Some(n)) if n.saturating_sub(b) <= allowed => return true,
                (_, None) => return false,
                _ => {}
            }
            before = now;
        }
        false
    }

    /// `POST` JSON; returns the status and body text (any status).
    pub async fn post_json(&self, url: &str, body: &Value) -> anyhow::Result<(u16, String)> {
        let response = self.client.post(url).json(body).send().await?;
        let status = response.status().as_u16();
        Ok((status, response.text().await?))
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// The same callback URL on this engine (another node of a cluster listens elsewhere).
    pub fn rebase(&self, url: &str) -> String {
        match url.find("/workflows/") {
            Some(at) => self.url(&url[at..]),
            None => url.to_owned(),
        }
    }

    /// `GET` a JSON document; fails on a non-2xx status.
    pub async fn get_json(&self, path_or_url: &str) -> anyhow::Result<Value> {
        let url = if path_or_url.starts_with("http") {
            path_or_url.to_owned()
        } else {
            self.url(path_or_url)
        };
        let response = self.client.get(&url).send().await?;
        let status = response.status();
        let body = response.text().await?;
        if !status.is_success() {
            bail!("GET {url}: {status}: {body}");
        }
        Ok(serde_json::from_str(&body)?)
    }

    /// `PUT /api/workflows/{name}` with `{"definition": definition}`.
    pub async fn put_workflow(&self, name: &str, definition: Value) -> anyhow::Result<()> {
        let response = self
            .client
            .put(self.url(&format!("/api/workflows/{name}")))
            .json(&json!({ "definition": definition }))
            .send()
            .await?;
        let status = response.status();
        if !status.is_success() {
            bail!("PUT workflow {name}: {status}: {}", response.text().await?);
        }
        Ok(())
    }

    /// The signed callback URL of the `manual` trigger.
    pub async fn callback_url(&self, workflow: &str) -> anyhow::Result<String> {
        let response = self
            .client
            .post(self.url(&format!(
                "/api/workflows/{workflow}/triggers/manual/listCallbackUrl"
            )))
            .json(&json!({}))
            .send()
            .await?;
        let status = response.status();
        if !status.is_success() {
            bail!(
                "listCallbackUrl {workflow}: {status}: {}",
                response.text().await?
            );
        }
        Ok(response.json::<api::CallbackUrl>().await?.value)
    }

    /// Every run of `workflow` with `status`, following `nextLink`.
    pub async fn list_runs(&self, workflow: &str, status: &str) -> anyhow::Result<Vec<api::Run>> {
        let mut runs = Vec::new();
        let mut next = Some(format!(
            "/api/workflows/{workflow}/runs?status={status}&top=250"
        ));
        while let Some(link) = next {
            let page: api::List<api::Run> = serde_json::from_value(self.get_json(&link).await?)?;
            runs.extend(page.value);
            next = page.next_link;
        }
        Ok(runs)
    }

    /// Whether `workflow` has a run with `status` (one row read).
    pub async fn any_run(&self, workflow: &str, status: &str) -> anyhow::Result<bool> {
        let page: api::List<api::Run> = serde_json::from_value(
            self.get_json(&format!(
                "/api/workflows/{workflow}/runs?status={status}&top=1"
            ))
            .await?,
        )?;
        Ok(!page.value.is_empty())
    }

    /// Polls the run every `every` until it is no longer `Running`; returns it and when its end
    /// was seen.
    pub async fn wait_for_end(
        &self,
        workflow: &str,
        run_id: &str,
        every: Duration,
        timeout: Duration,
    ) -> anyhow::Result<(api::Run, Instant)> {
        let deadline = Instant::now() + timeout;
        loop {
            let run: api::Run = serde_json::from_value(
                self.get_json(&format!("/api/workflows/{workflow}/runs/{run_id}"))
                    .await?,
            )?;
            if run.status != "Running" {
                return Ok((run, Instant::now()));
            }
            if Instant::now() > deadline {
                bail!("run {run_id} of {workflow} still Running after {timeout:?}");
            }
            tokio::time::sleep(every).await;
        }
    }

    pub async fn actions(
        &self,
        workflow: &str,
        run_id: &str,
    ) -> anyhow::Result<Vec<api::ActionResult>> {
        let page: api::List<api::ActionResult> = serde_json::from_value(
            self.get_json(&format!("/api/workflows/{workflow}/runs/{run_id}/actions"))
                .await?,
        )?;
        Ok(page.value)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A `kB` field of `/proc/<pid>/status`.
fn proc_status_kib(pid: u32, field: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with(field))?;
    line[field.len()..]
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()
}

/// Milliseconds since the epoch of an API time (`2026-11-27T22:39:13.2230000Z`).
pub fn parse_time_ms(text: &str) -> Option<i64> {
    let ts: jiff::Timestamp = text.parse().ok()?;
    Some(ts.as_millisecond())
}

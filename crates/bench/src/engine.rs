//! Child processes under test: `hookflow serve` on a fresh data directory (or the baseline
//! server), their address from the first stdout line, their peak RSS from `/proc`, and the
//! few management API calls the scenarios need.

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
    _data_dir: Option<tempfile::TempDir>,
    pub client: reqwest::Client,
}

impl Server {
    /// `hookflow serve --listen 127.0.0.1:0 --data-dir <fresh temp dir>`.
    pub fn start_engine(engine: &Path) -> anyhow::Result<Server> {
        let dir = tempfile::Builder::new()
            .prefix("hookflow-bench-")
            .tempdir()?;
        let mut command = Command::new(engine);
        command
            .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
            .arg(dir.path())
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
            _data_dir: data_dir,
            client: crate::load::client(4),
        })
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Peak resident set size so far (`VmHWM`), KiB.
    pub fn peak_rss_kib(&self) -> Option<u64> {
        proc_status_kib(self.pid(), "VmHWM:")
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
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

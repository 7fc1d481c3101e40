//! Results: one [`Row`] per figure, the machine they were measured on, the targets
//! with a verdict each, printed as a table and written as JSON.

use serde::Serialize;
use serde_json::{Map, Value};
use std::path::Path;

/// Latency percentiles, milliseconds.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Latency {
    pub p50: f64,
    pub p90: f64,
    pub p99: f64,
    pub max: f64,
}

impl Latency {
    /// From latencies in microseconds, sorted ascending (nearest-rank percentiles).
    pub fn of(sorted_us: &[u64]) -> Option<Latency> {
        let ms = |q: f64| {
            let rank = ((q * sorted_us.len() as f64).ceil() as usize).clamp(1, sorted_us.len());
            sorted_us[rank - 1] as f64 / 1000.0
        };
        (!sorted_us.is_empty()).then(|| Latency {
            p50: ms(0.50),
            p90: ms(0.90),
            p99: ms(0.99),
            max: ms(1.0),
        })
    }
}

/// One line of the table.
#[derive(Debug, Clone, Serialize)]
pub struct Row {
    pub scenario: String,
    /// What this line measures (a scenario may have several).
    pub measure: String,
    /// `ok`, `not available yet`, or `FAILED: why`.
    pub status: String,
    pub parameters: String,
    pub throughput: Option<f64>,
    pub unit: String,
    pub latency_ms: Option<Latency>,
    pub peak_rss_kib: Option<u64>,
    /// Throughput divided by the baseline's.
    pub vs_baseline: Option<f64>,
    pub note: String,
    /// Scenario-specific figures.
    pub extra: Map<String, Value>,
}

impl Row {
    pub fn new(scenario: &str, measure: &str) -> Row {
        Row {
            scenario: scenario.into(),
            measure: measure.into(),
            status: "ok".into(),
            parameters: String::new(),
            throughput: None,
            unit: String::new(),
            latency_ms: None,
            peak_rss_kib: None,
            vs_baseline: None,
            note: String::new(),
            extra: Map::new(),
        }
    }

    pub fn parameters(mut self, text: impl Into<String>) -> Row {
        self.parameters = text.into();
        self
    }

    pub fn throughput(mut self, value: f64, unit: &str) -> Row {
        self.throughput = Some(value);
        self.unit = unit.into();
        self
    }

    pub fn latency(mut self, latency: Option<Latency>) -> Row {
        self.latency_ms = latency;
        self
    }

    pub fn rss(mut self, kib: Option<u64>) -> Row {
        self.peak_rss_kib = kib;
        self
    }

    pub fn note(mut self, text: impl Into<String>) -> Row {
        self.note = text.into();
        self
    }

    pub fn extra(&mut self, key: &str, value: impl Into<Value>) {
        self.extra.insert(key.into(), value.into());
    }

    /// Marks a correctness failure (the run exits non-zero).
    pub fn fail(&mut self, why: impl Into<String>) {
        let why = why.into();
        self.status = if self.failed() {
            format!("{}; {why}", self.status)
        } else {
            format!("FAILED: {why}")
        };
    }

    pub fn failed(&self) -> bool {
        self.status.starts_with("FAILED")
    }
}

/// Where the figures come from.
#[derive(Debug, Clone, Serialize)]
pub struct Machine {
    pub cores: usize,
    pub cpu_model: String,
    pub kernel: String,
    /// Median time of a 4 KiB write + fdatasync in the temp directory (where the engines'
    /// data directories live): the floor of any durable acknowledgement.
    pub fsync_ms_p50: Option<f64>,
}

impl Machine {
    pub fn detect() -> Machine {
        let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
        let cpu_model = cpuinfo
            .lines()
            .find(|l| l.starts_with("model name"))
            .and_then(|l| l.split_once(':'))
            .map(|(_, v)| v.trim().to_owned())
            .unwrap_or_else(|| "unknown".into());
        Machine {
            cores: std::thread::available_parallelism().map_or(1, |n| n.get()),
            cpu_model,
            kernel: std::fs::read_to_string("/proc/sys/kernel/osrelease")
                .map(|s| s.trim().to_owned())
                .unwrap_or_default(),
            fsync_ms_p50: fsync_ms().ok(),
        }
    }
}

/// Median of 30 × (4 KiB write + `sync_data`) in a fresh temp file.
fn fsync_ms() -> std::io::Result<f64> {
    use std::io::Write;
    let mut file = tempfile::tempfile()?;
    let block = [7u8; 4096];
    let mut times = Vec::with_capacity(30);
    for _ in 0..30 {
        let start = std::time::Instant::now();
        file.write_all(&block)?;
        file.sync_data()?;
        times.push(start.elapsed().as_secs_f64() * 1000.0);
    }
    times.sort_by(f64::total_cmp);
    Ok(times[times.len() / 2])
}

/// One of the targets and how this run did against it.
#[derive(Debug, Clone, Serialize)]
pub struct Verdict {
    pub scenario: String,
    pub target: String,
    pub measured: String,
    /// `met`, `missed`, or `not measured`.
    pub verdict: String,
}

/// Everything written to the JSON file.
#[derive(Debug, Serialize)]
pub struct Report {
    pub started: String,
    pub command: String,
    pub machine: Machine,
    /// `release` or `debug` (of this harness; the engine binary is named below).
    pub bench_profile: String,
    pub engine: String,
    pub quick: bool,
    pub rows: Vec<Row>,
    pub targets: Vec<Verdict>,
}

impl Report {
    pub fn print(&self) {
        println!(
            "\nmachine: {} cores, {}, Linux {}, fsync {}; bench build: {}; engine: {}",
            self.machine.cores,
            self.machine.cpu_model,
            self.machine.kernel,
            self.machine
                .fsync_ms_p50
                .map_or("?".into(), |ms| format!("{ms:.2} ms")),
            self.bench_profile,
            self.engine
        );
        let header = [
            "scenario",
            "measure",
            "parameters",
            "throughput",
            "p50 ms",
            "p90 ms",
            "p99 ms",
            "max ms",
            "peak RSS",
            "vs baseline",
            "status / note",
        ];
        let lines: Vec<Vec<String>> = self.rows.iter().map(cells).collect();
        let mut widths: Vec<usize> = header.iter().map(|h| h.len()).collect();
        for line in &lines {
            for (w, cell) in widths.iter_mut().zip(line) {
                *w = (*w).max(cell.chars().count());
            }
        }
        let print_line = |cells: &[String]| {
            let text: Vec<String> = cells
                .iter()
                .zip(&widths)
                .enumerate()
                .map(|(i, (c, w))| {
                    if (3..=9).contains(&i) {
                        format!("{c:>w$}")
                    } else {
                        format!("{c:<w$}")
                    }
                })
                .collect();
            println!("{}", text.join(" | ").trim_end());
        };
        print_line(&header.map(String::from));
        println!(
            "{}",
            widths
                .iter()
                .map(|w| "-".repeat(*w))
                .collect::<Vec<_>>()
                .join("-|-")
        );
        for line in &lines {
            print_line(line);
        }
        if self.quick {
            println!("\nquick mode: counts too small for the figures to mean anything;");
            println!("only correctness is checked (the exit status).");
        }
        println!("\ntargets (issue 7):");
        for t in &self.targets {
            println!(
                "  [{:^12}] {:<15} {:<55} measured: {}",
                t.verdict, t.scenario, t.target, t.measured
            );
        }
    }

    pub fn write(&self, path: &Path) -> anyhow::Result<()> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)?;
        }
        std::fs::write(path, serde_json::to_string_pretty(self)? + "\n")?;
        Ok(())
    }
}

fn cells(row: &Row) -> Vec<String> {
    let num = |v: Option<f64>| v.map(|v| format!("{v:.2}")).unwrap_or_default();
    let lat = row.latency_ms;
    let status = match (row.status.as_str(), row.note.as_str()) {
        ("ok", note) => note.to_owned(),
        (status, "") => status.to_owned(),
        (status, note) => format!("{status}; {note}"),
    };
    vec![
        row.scenario.clone(),
        row.measure.clone(),
        row.parameters.clone(),
        row.throughput
            .map(|t| format!("{t:.0} {}", row.unit))
            .unwrap_or_default(),
        num(lat.map(|l| l.p50)),
        num(lat.map(|l| l.p90)),
        num(lat.map(|l| l.p99)),
        num(lat.map(|l| l.max)),
        row.peak_rss_kib
            .map(|k| format!("{:.1} MiB", k as f64 / 1024.0))
            .unwrap_or_default(),
        row.vs_baseline
            .map(|r| format!("{:.1}%", r * 100.0))
            .unwrap_or_default(),
        status,
    ]
}

/// The targets, judged against this run's rows.
pub fn verdicts(rows: &[Row], concurrency: usize) -> Vec<Verdict> {
    let find = |scenario: &str, measure: &str| {
        rows.iter()
            .find(|r| r.scenario == scenario && r.measure == measure && r.status == "ok")
    };
    let judge = |scenario: &str, target: &str, measured: Option<(String, bool)>| Verdict {
        scenario: scenario.into(),
        target: target.into(),
        verdict: match &measured {
            Some((_, true)) => "met".into(),
            Some((_, false)) => "missed".into(),
            None => "not measured".into(),
        },
        measured: measured.map(|(m, _)| m).unwrap_or_else(|| "-".into()),
    };
    let accepted = find("ingest", "accepted (202 = durable)");
    let mut out = vec![
        judge(
            "ingest",
            ">= 25% of the baseline's req/s",
            accepted
                .and_then(|r| r.vs_baseline)
                .map(|v| (format!("{:.1}%", v * 100.0), v >= 0.25)),
        ),
        judge(
            "ingest",
            "p99 < 20 ms at 64 connections",
            accepted
                .filter(|_| concurrency == 64)
                .and_then(|r| r.latency_ms)
                .map(|l| (format!("{:.2} ms", l.p99), l.p99 < 20.0)),
        ),
        judge(
            "ingest",
            "every acknowledged run durable (and completed)",
            find("ingest", "completed").map(|_| ("all Succeeded".into(), true)),
        ),
    ];
    // The loop rows (`loop_steps`): engine steps of the first quarter vs the last quarter.
    let loop_row = |prefix: &str| {
        rows.iter()
            .find(|r| r.scenario == "long-run" && r.measure.starts_with(prefix) && r.status == "ok")
    };
    let flat = |row: Option<&Row>| {
        row.and_then(|r| {
            let ratio = r.extra.get("late_over_early").and_then(Value::as_f64)?;
            let steps = r.extra.get("engine_steps").and_then(Value::as_u64)?;
            Some((
                format!("{ratio:.2}x per action (last vs first quarters, {steps} steps in all)"),
                ratio <= 1.5,
            ))
        })
    };
    out.push(judge(
        "long-run",
        "per-step cost at step 1,000 within 1.5x of step 10",
        flat(loop_row("1000-step run")),
    ));
    out.push(judge(
        "long-run",
        "Foreach over 10,000 items: per-step cost flat",
        flat(loop_row("Foreach over 10000 items")),
    ));
    let resume = find("webhook-action", "resume: callback -> run end (c=1)");
    out.push(judge(
        "webhook-action",
        "resume p99 < 5 ms beyond the service",
        resume.and_then(|r| r.latency_ms).map(|l| {
            (
                format!("{:.2} ms (callback sent -> run end, c=1)", l.p99),
                l.p99 < 5.0,
            )
        }),
    ));
    out.push(judge(
        "webhook-action",
        ">= 5,000 completed runs/s",
        find("webhook-action", "completed")
            .and_then(|r| r.throughput)
            .map(|t| (format!("{t:.0} runs/s"), t >= 5000.0)),
    ));
    let memory = find("waiting", "RSS per waiting run");
    out.push(judge(
        "waiting",
        "< 1 KiB RSS per waiting run at 100,000",
        memory.and_then(|r| {
            let runs = r.parameters.split(',').next()?.trim_start_matches("N=");
            let bytes = r.throughput?;
            Some((format!("{bytes:.0} B/run (N={runs})"), bytes < 1024.0))
        }),
    ));
    out.push(judge(
        "waiting",
        "restart with all pending serving in < 3 s",
        find("waiting", "restart with N pending").and_then(|r| {
            let healthz = r.extra.get("healthz_ms").and_then(Value::as_f64)?;
            let first = r.extra.get("first_callback_ms").and_then(Value::as_f64)?;
            Some((
                format!("/healthz {healthz:.0} ms, first callback {first:.0} ms"),
                first.max(healthz) < 3000.0,
            ))
        }),
    ));
    // A resume is the run moving on, not only its callback recorded: judged on both.
    let accepted =
        find("waiting", "resume N-1 callbacks (200 = durable)").and_then(|r| r.throughput);
    let completed = find("waiting", "resumed runs completed").and_then(|r| r.throughput);
    out.push(judge(
        "waiting",
        ">= 5,000 resumes/s (callbacks fired concurrently)",
        accepted.zip(completed).map(|(a, c)| {
            (
                format!("callbacks accepted {a:.0}/s, runs completed {c:.0}/s"),
                a.min(c) >= 5000.0,
            )
        }),
    ));
    out
}

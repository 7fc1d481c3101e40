//! `pg`: what sharing one PostgreSQL database costs, and what a second node brings. The
//! ingest and webhook-action loads (as in those scenarios, at `--concurrency`) on three
//! setups: SQLite, 1 node (the default store); PostgreSQL, 1 node; PostgreSQL, 2 nodes on one
//! schema, the load generator spreading trigger requests over them round robin (as a load
//! balancer would; each callback goes to the node whose URL the service was given). Each
//! figure's note gives its ratio to the SQLite figure of the same measure.
//!
//! Needs `--database-url`: each PostgreSQL setup gets a fresh schema, dropped afterwards.
//! Without it the scenario is skipped (not failed).

use super::{ingest, webhook_action};
use crate::{
    Ctx,
    engine::Server,
    hooks::{Hooks, Mode},
    report::Row,
};
use hookflow_store_postgres::{PostgresOptions, PostgresStore};

#[derive(Debug, Clone, Copy, PartialEq)]
enum Setup {
    Sqlite,
    Postgres { nodes: usize },
}

impl Setup {
    fn label(self) -> String {
        match self {
            Setup::Sqlite => "SQLite, 1 node".into(),
            Setup::Postgres { nodes: 1 } => "PostgreSQL, 1 node".into(),
            Setup::Postgres { nodes } => format!("PostgreSQL, {nodes} nodes"),
        }
    }
}

/// Running engines and, on PostgreSQL, the schema they share (dropped with it).
struct Started {
    engines: Vec<Server>,
    schema: Option<PostgresStore>,
}

impl Started {
    async fn new(ctx: &Ctx, setup: Setup, url: &str) -> anyhow::Result<Started> {
        let Setup::Postgres { nodes } = setup else {
            return Ok(Started {
                engines: vec![Server::start_engine(&ctx.engine)?],
                schema: None,
            });
        };
        let schema = PostgresStore::connect_temporary(url, PostgresOptions::default()).await?;
        let args = [
            "--database-url".to_owned(),
            url.to_owned(),
            "--database-schema".to_owned(),
            schema.schema().unwrap_or_default().to_owned(),
        ];
        let engines = (0..nodes)
            .map(|_| Server::start_engine_with(&ctx.engine, &args))
            .collect::<anyhow::Result<_>>()?;
        Ok(Started {
            engines,
            schema: Some(schema),
        })
    }

    /// The engines stop before their schema is dropped.
    fn stop(self) {
        drop(self.engines);
        drop(self.schema);
    }
}

pub async fn run(ctx: &Ctx) -> anyhow::Result<Vec<Row>> {
    let Some(url) = ctx.database_url.clone() else {
        let mut row = Row::new("pg", "-");
        row.status = "skipped: no --database-url".into();
        return Ok(vec![row]);
    };
    let setups = [
        Setup::Sqlite,
        Setup::Postgres { nodes: 1 },
        Setup::Postgres { nodes: 2 },
    ];
    let mut rows: Vec<(Setup, Row)> = Vec::new();
    for setup in setups {
        for load in ["ingest", "webhook-action"] {
            eprintln!("pg: {load} on {}", setup.label());
            let started = Started::new(ctx, setup, &url).await?;
            let produced = if load == "ingest" {
                ingest::run_on(ctx, &started.engines).await
            } else {
                let hooks = Hooks::start(Mode::CallBackAtOnce).await?;
                webhook_action::phase_on(ctx, "", &hooks, &started.engines).await
            };
            started.stop();
            rows.extend(produced?.into_iter().map(|row| (setup, row)));
        }
    }
    Ok(compared(rows))
}

/// Relabels the rows (`<scenario> <measure>, <setup>`) and notes each one's ratio to the
/// SQLite row of the same measure: throughput where there is one, else p50 latency.
fn compared(rows: Vec<(Setup, Row)>) -> Vec<Row> {
    let sqlite: Vec<Row> = rows
        .iter()
        .filter(|(setup, _)| *setup == Setup::Sqlite)
        .map(|(_, row)| row.clone())
        .collect();
    rows.into_iter()
        .map(|(setup, mut row)| {
            let reference = sqlite
                .iter()
                .find(|r| r.scenario == row.scenario && r.measure == row.measure);
            let ratio = reference.and_then(|r| match (row.throughput, r.throughput) {
                (Some(mine), Some(theirs)) if theirs > 0.0 => Some(("throughput", mine / theirs)),
                _ => {
                    let (mine, theirs) = (row.latency_ms?.p50, r.latency_ms?.p50);
                    (theirs > 0.0).then(|| ("p50 latency", mine / theirs))
                }
            });
            if let Some((what, ratio)) = ratio.filter(|_| setup != Setup::Sqlite) {
                row.extra("vs_sqlite", ratio);
                let note = format!("{what} {ratio:.2}x SQLite's");
                row.note = if row.note.is_empty() {
                    note
                } else {
                    format!("{note}; {}", row.note)
                };
            }
            row.measure = format!("{} {}, {}", row.scenario, row.measure, setup.label());
            row.scenario = "pg".into();
            row
        })
        .collect()
}

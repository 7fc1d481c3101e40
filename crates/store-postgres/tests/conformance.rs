//! The store conformance suite run against PostgreSQL (each case in its own fresh schema of
//! the server at `HOOKFLOW_TEST_DATABASE_URL`, default the local one), plus what only
//! PostgreSQL has: several stores ("nodes") sharing one schema, concurrent migrations,
//! schema versions, an unreachable server.
//!
//! The server must be running: these tests fail (they do not skip) when it is not.
//! `.ci/postgres.sh` installs and starts one on a fresh Debian machine.

use futures_util::future::join_all;
use hookflow_store::testing::{T0, WF, new_run, save};
use hookflow_store::{
    CallbackDelivery, CallbackOutcome, Claim, DedupKey, Error, Fire, FireOutcome, NewEffect,
    NewRun, RunRecord, StepCommit, Store, TriggerHistoryRecord, WaitWrite, json_text,
};
use hookflow_store_postgres::{
    PostgresOptions, PostgresStore, SCHEMA_VERSION, TEST_DATABASE_URL_ENV, test_database_url,
};
use serde_json::json;
use std::collections::HashSet;
use std::sync::Arc;

/// A store on a fresh schema; panics with what to do when the server is unreachable.
async fn temporary() -> PostgresStore {
    let url = test_database_url();
    PostgresStore::connect_temporary(&url, PostgresOptions::default())
        .await
        .unwrap_or_else(|error| {
            panic!(
                "PostgreSQL is needed for these tests and is not usable: {error}\n\
                 Start it with `.ci/postgres.sh`, or point {TEST_DATABASE_URL_ENV} at a server."
            )
        })
}

async fn fresh_store() -> Arc<dyn Store> {
    Arc::new(temporary().await)
}

hookflow_store::store_conformance_tests!(fresh_store);

/// Another node on the same schema as `store`.
async fn second_node(store: &PostgresStore) -> PostgresStore {
    let options = PostgresOptions {
        schema: store.schema().map(str::to_owned),
        ..PostgresOptions::default()
    };
    PostgresStore::connect(&test_database_url(), options)
        .await
        .unwrap()
}

fn claim(owner: &str, limit: u32) -> Claim {
    Claim {
        owner: owner.into(),
        now: T0,
        lease_ms: 60_000,
        limit,
    }
}

/// Two nodes (two pools on one schema) claim runs and effects as fast as they can, many
/// claims in flight at once: every run and every effect is leased exactly once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nodes_never_claim_the_same_work() {
    let a = Arc::new(temporary().await);
    let b = Arc::new(second_node(&a).await);
    a.save_workflow(save(WF, "wf-1", T0, "pk", "sk"))
        .await
        .unwrap();
    let runs = 300;
    // Each run gets an effect too, through a committed step, leaving one more event.
    for i in 0..runs {
        a.create_run(new_run(&format!("r{i:03}"), T0))
            .await
            .unwrap();
    }
    let setup = a.claim_runs(claim("setup", runs)).await.unwrap();
    assert_eq!(setup.len(), runs as usize);
    for claimed in &setup {
        let step = StepCommit {
            run_id: claimed.run_id.clone(),
            owner: "setup".into(),
            expected_seq: 0,
            consumed_events: claimed.events.iter().map(|e| e.id).collect(),
            new_events: vec![hookflow_store::NewEvent {
                run_id: claimed.run_id.clone(),
                event: json_text(&json!({"next": true})),
                due_at: T0,
            }],
            new_effects: vec![NewEffect {
                effect: json_text(&json!({"call": claimed.run_id})),
                due_at: T0,
            }],
            ..StepCommit::default()
        };
        a.commit_step(step).await.unwrap();
    }

    let nodes: [Arc<PostgresStore>; 2] = [a.clone(), b.clone()];
    let workers: Vec<_> = (0..8)
        .map(|worker| {
            let store = Arc::clone(&nodes[worker % 2]);
            tokio::spawn(async move {
                let owner = format!("node-{}-worker-{worker}", worker % 2);
                let (mut runs, mut effects) = (Vec::new(), Vec::new());
                loop {
                    let claimed = store.claim_runs(claim(&owner, 7)).await.unwrap();
                    let leased = store.claim_effects(claim(&owner, 7)).await.unwrap();
                    if claimed.is_empty() && leased.is_empty() {
                        return (runs, effects);
                    }
                    runs.extend(claimed.into_iter().map(|c| c.run_id));
                    effects.extend(leased.into_iter().map(|e| e.id));
                }
            })
        })
        .collect();
    let (mut all_runs, mut all_effects) = (Vec::new(), Vec::new());
    let mut busy_workers = 0;
    for worker in join_all(workers).await {
        let (runs, effects) = worker.unwrap();
        busy_workers += usize::from(!runs.is_empty());
        all_runs.extend(runs);
        all_effects.extend(effects);
    }
    let distinct_runs: HashSet<_> = all_runs.iter().collect();
    let distinct_effects: HashSet<_> = all_effects.iter().collect();
    assert_eq!(all_runs.len(), runs as usize, "every run claimed once");
    assert_eq!(distinct_runs.len(), runs as usize, "no run claimed twice");
    assert_eq!(
        all_effects.len(),
        runs as usize,
        "every effect claimed once"
    );
    assert_eq!(
        distinct_effects.len(),
        runs as usize,
        "no effect claimed twice"
    );
    assert!(busy_workers > 1, "the claims did not overlap at all");
}

/// Two nodes racing on the same step, the same callback and the same delivery key: exactly
/// one of each wins.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nodes_racing_on_one_item_have_one_winner() {
    let a = Arc::new(temporary().await);
    let b = Arc::new(second_node(&a).await);
    a.save_workflow(save(WF, "wf-1", T0, "pk", "sk"))
        .await
        .unwrap();
    let rounds = 20;
    for round in 0..rounds {
        let run_id = format!("r{round}");
        a.create_run(new_run(&run_id, T0)).await.unwrap();
        let claimed = a.claim_runs(claim("a", 1)).await.unwrap().remove(0);
        // The same step, committed by both nodes at once (the lease owner is the same, as
        // when a node retries a step it believes failed).
        let step = StepCommit {
            run_id: run_id.clone(),
            owner: "a".into(),
            expected_seq: claimed.seq,
            consumed_events: claimed.events.iter().map(|e| e.id).collect(),
            waits: vec![WaitWrite::Open {
                action: "Hook".into(),
                opened_at: T0,
                timeout_at: T0 + 1_000,
            }],
            ..StepCommit::default()
        };
        let (x, y) = tokio::join!(a.commit_step(step.clone()), b.commit_step(step));
        let conflicts = [&x, &y]
            .iter()
            .filter(|r| matches!(r, Err(Error::Conflict(_))))
            .count();
        assert!(x.is_ok() != y.is_ok() && conflicts == 1, "{x:?} {y:?}");

        // Two callbacks, one per node, and the timeout sweep on both.
        let delivery = |key: &str| CallbackDelivery {
            run_id: run_id.clone(),
            action: "Hook".into(),
            delivery_key: Some(key.into()),
            event: json_text(&json!({"callback": key})),
            now: T0 + 1_000,
            handoff: Default::default(),
        };
        let (x, y, ta, tb) = tokio::join!(
            a.accept_callback(delivery("ka")),
            b.accept_callback(delivery("kb")),
            a.resolve_timeouts(T0 + 1_000, 10),
            b.resolve_timeouts(T0 + 1_000, 10),
        );
        let accepted = [x.unwrap(), y.unwrap()]
            .iter()
            .filter(|o| matches!(o, CallbackOutcome::Accepted(_)))
            .count();
        let timed_out = ta.unwrap() + tb.unwrap();
        assert_eq!(accepted + timed_out as usize, 1, "round {round}");
        let later = Claim {
            now: T0 + 1_000,
            ..claim("a", 1)
        };
        let events = a.claim_runs(later).await.unwrap().remove(0).events;
        assert_eq!(events.len(), 1, "only the winner's event");

        // The same delivery key fired on both nodes.
        // Its runs start far later, out of the way of the next rounds' claims.
        let fire = |node: &str| Fire {
            runs: vec![NewRun {
                run: RunRecord {
                    start_time: T0 + 1_000_000_000,
                    ..new_run(&format!("{run_id}-{node}"), T0).run
                },
                ..new_run(&format!("{run_id}-{node}"), T0)
            }],
            history: TriggerHistoryRecord {
                id: format!("h-{run_id}-{node}"),
                workflow: WF.into(),
                trigger: "manual".into(),
                kind: "Fire".into(),
                status: "Succeeded".into(),
                start_time: T0,
                end_time: T0,
                run_id: None,
                detail: json!({}),
            },
            dedup: Some(DedupKey {
                workflow: WF.into(),
                key: format!("delivery-{round}"),
                answer: json!({"node": node}),
                expires_at: T0 + 60_000,
            }),
        };
        let (x, y) = tokio::join!(a.record_fire(fire("a")), b.record_fire(fire("b")));
        let outcomes = [x.unwrap(), y.unwrap()];
        let recorded = outcomes
            .iter()
            .filter(|o| **o == FireOutcome::Recorded)
            .count();
        assert_eq!(recorded, 1, "{outcomes:?}");
    }
}

/// Several nodes starting at once on a fresh schema: all connect, the migrations are
/// applied once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_connects_migrate_once() {
    // A schema nobody has made yet: the first connect to get the lock creates it.
    let fresh = format!("hf_test_{}", uuid::Uuid::new_v4().simple());
    let _cleanup = Cleanup(fresh.clone());
    let options = PostgresOptions {
        schema: Some(fresh.clone()),
        max_connections: 2,
        ..PostgresOptions::default()
    };
    let url = test_database_url();
    let connects = (0..6).map(|_| PostgresStore::connect(&url, options.clone()));
    let stores: Vec<_> = join_all(connects)
        .await
        .into_iter()
        .map(|s| s.expect("a concurrent connect failed"))
        .collect();
    let applied = query_i64(&format!("SELECT count(*) FROM {fresh}.hookflow_migrations")).await;
    assert_eq!(applied, i64::from(SCHEMA_VERSION));
    // And every node works on it.
    stores[0]
        .save_workflow(save(WF, "wf-1", T0, "pk", "sk"))
        .await
        .unwrap();
    assert!(stores[5].get_workflow(WF).await.unwrap().is_some());
}

/// A schema written by a newer hookflow is refused with a clear error; the current version
/// connects as usual.
#[tokio::test]
async fn newer_schema_is_refused() {
    let store = temporary().await;
    let schema = store.schema().unwrap().to_owned();
    let options = PostgresOptions {
        schema: Some(schema.clone()),
        ..PostgresOptions::default()
    };
    let newer = SCHEMA_VERSION + 1;
    query_i64(&format!(
        "INSERT INTO {schema}.hookflow_migrations (version, name) VALUES ({newer}, 'future') \
         RETURNING version"
    ))
    .await;
    let Err(error) = PostgresStore::connect(&test_database_url(), options.clone()).await else {
        panic!("a schema from a newer hookflow was used");
    };
    assert!(
        matches!(&error, Error::Backend(message) if message.contains("newer")),
        "{error:?}"
    );

    query_i64(&format!(
        "DELETE FROM {schema}.hookflow_migrations WHERE version = {newer} RETURNING version"
    ))
    .await;
    PostgresStore::connect(&test_database_url(), options)
        .await
        .unwrap();
}

/// An unreachable server is a clear start-up error, not a hang.
#[tokio::test]
async fn unreachable_server_is_a_clear_error() {
    let options = PostgresOptions {
        connect_timeout_ms: 2_000,
        ..PostgresOptions::default()
    };
    // Port 1 on loopback: nothing listens there.
    let result = PostgresStore::connect("postgres://postgres@127.0.0.1:1/test", options).await;
    let Err(Error::Backend(message)) = result else {
        panic!("connected to nothing");
    };
    assert!(
        message.contains("cannot connect to PostgreSQL"),
        "{message}"
    );
    assert!(message.contains("127.0.0.1:1"), "{message}");
}

/// Bad settings are refused before anything is sent.
#[tokio::test]
async fn bad_schema_names_are_refused() {
    for name in ["Upper", "1st", "a b", "x;drop", ""] {
        let options = PostgresOptions {
            schema: Some(name.into()),
            ..PostgresOptions::default()
        };
        let result = PostgresStore::connect(&test_database_url(), options).await;
        assert!(
            matches!(&result, Err(Error::Backend(m)) if m.contains("invalid schema name")),
            "{name}"
        );
    }
}

/// Runs one statement returning one BIGINT-convertible value, on a plain connection (for
/// test set-up only: the SQL is the test's own).
async fn query_i64(sql: &str) -> i64 {
    let (client, connection) = tokio_postgres::connect(&test_database_url(), tokio_postgres::NoTls)
        .await
        .unwrap();
    let task = tokio::spawn(connection);
    let row = client.query_one(sql, &[]).await.unwrap();
    let value = row
        .try_get::<_, i64>(0)
        .or_else(|_| row.try_get::<_, i32>(0).map(i64::from))
        .unwrap();
    drop(client);
    let _ = task.await;
    value
}

/// Drops a schema a test made by hand.
struct Cleanup(String);

impl Drop for Cleanup {
    fn drop(&mut self) {
        let schema = self.0.clone();
        let _ = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(async move {
                let (client, connection) =
                    tokio_postgres::connect(&test_database_url(), tokio_postgres::NoTls)
                        .await
                        .unwrap();
                tokio::spawn(connection);
                client
                    .batch_execute(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE"))
                    .await
                    .unwrap();
            });
        })
        .join();
    }
}

/// Work one node makes due wakes the others (`NOTIFY` in the writing transaction, heard by
/// each node's listener), not just the node that wrote it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_nodes_write_wakes_this_node() {
    let a = temporary().await;
    let b = second_node(&a).await;
    // b's listener wakes everything once it listens (whatever it missed before); after that
    // permit is taken, only a notification can wake b's unsubscribe worker: nothing else
    // here makes an unsubscribe due.
    b.wake_ups().unsubscribes.notified().await;
    let owed = hookflow_store::SubscriptionRecord {
        id: "owed".into(),
        workflow: WF.into(),
        trigger: "events".into(),
        version_id: "v1".into(),
        state: hookflow_store::SubscriptionState::Unsubscribing,
        target: "http://127.0.0.1/subscribe".into(),
        fingerprint: String::new(),
        callback_url: String::new(),
        subscribe_response: None,
        unsubscribe: None,
        attempts: 0,
        next_attempt_at: Some(T0),
        last_error: None,
        created_at: T0,
        updated_at: T0,
    };
    a.insert_subscription(owed).await.unwrap();
    b.wake_ups().unsubscribes.notified().await;
}

/// Workflow changes are serialised across nodes, and a statement waiting too long (here, for
/// that lock) is cut short by the statement timeout with a clear error instead of hanging.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn statement_timeout_cuts_a_lock_wait_short() {
    let a = temporary().await;
    let options = PostgresOptions {
        schema: a.schema().map(str::to_owned),
        statement_timeout_ms: 200,
        ..PostgresOptions::default()
    };
    let b = PostgresStore::connect(&test_database_url(), options)
        .await
        .unwrap();
    let held = a.lock_workflow(WF).await.unwrap();
    let error = b.lock_workflow(WF).await.unwrap_err();
    assert!(
        matches!(&error, Error::Backend(m) if m.contains("statement timeout")),
        "{error:?}"
    );
    // Other workflows are not held up.
    drop(b.lock_workflow("other").await.unwrap());
    drop(held);
}

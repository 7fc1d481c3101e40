//! The store conformance suite run against SQLite (each case on a fresh database in its own
//! temporary directory), plus what only SQLite has: reopening files, schema versions, and
//! the group-committing writer.

use hookflow_store::testing::{T0, WF, new_run, save};
use hookflow_store::{
    Claim, Error, NewEvent, RunQuery, StepCommit, Store, SubscriptionRecord, SubscriptionState,
    TriggerHistoryRecord,
};
use hookflow_store_sqlite::{SCHEMA_VERSION, SqliteOptions, SqliteStore};
use serde_json::json;
use std::path::Path;
use std::sync::Arc;

async fn fresh_store() -> Arc<dyn Store> {
    Arc::new(SqliteStore::open_temporary(SqliteOptions::default()).unwrap())
}

hookflow_store::store_conformance_tests!(fresh_store);

#[tokio::test]
async fn data_survives_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("hookflow.db");
    {
        let store = SqliteStore::open(&path, SqliteOptions::default()).unwrap();
        store
            .save_workflow(save(WF, "wf-1", T0, "pk", "sk"))
            .await
            .unwrap();
        store.create_run(new_run("r1", T0)).await.unwrap();
        assert_eq!(store.claim_runs(claim("a")).await.unwrap().len(), 1);
    }

    let store = SqliteStore::open(&path, SqliteOptions::default()).unwrap();
    assert_eq!(
        store.get_workflow(WF).await.unwrap().unwrap().version_id,
        "wf-1"
    );
    assert_eq!(
        store.get_run("r1").await.unwrap(),
        Some(new_run("r1", T0).run)
    );
    // Leases are data too: the run stays leased until released.
    assert!(store.claim_runs(claim("b")).await.unwrap().is_empty());
    store.release_all_leases().await.unwrap();
    assert_eq!(store.claim_runs(claim("b")).await.unwrap().len(), 1);
}

#[tokio::test]
async fn newer_schema_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("hookflow.db");
    drop(SqliteStore::open(&path, SqliteOptions::default()).unwrap());
    set_user_version(&path, SCHEMA_VERSION + 1);

    let Err(error) = SqliteStore::open(&path, SqliteOptions::default()) else {
        panic!("a database from a newer hookflow was opened");
    };
    assert!(
        matches!(&error, Error::Backend(message) if message.contains("newer")),
        "{error:?}"
    );

    // The current version opens as usual.
    set_user_version(&path, SCHEMA_VERSION);
    SqliteStore::open(&path, SqliteOptions::default()).unwrap();
}

/// Migration 6 rebuilds `trigger_histories` (no UNIQUE id, no AUTOINCREMENT): a database
/// written before it keeps its histories, in order, and new ones list after them.
#[tokio::test]
async fn trigger_histories_survive_their_table_rebuild() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("hookflow.db");
    let entry = |n: i64| TriggerHistoryRecord {
        id: format!("fire-{n}"),
        workflow: WF.into(),
        trigger: "manual".into(),
        kind: "Fire".into(),
        status: "Succeeded".into(),
        start_time: T0 + n,
        end_time: T0 + n,
        run_id: None,
        detail: json!({ "n": n }),
    };
    {
        let store = SqliteStore::open(&path, SqliteOptions::default()).unwrap();
        for n in 1..=3 {
            store.add_trigger_history(entry(n)).await.unwrap();
        }
    }
    // Back to the table as schema version 5 had it, rows included.
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.execute_batch(
        "CREATE TABLE old (seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE, \
           workflow TEXT NOT NULL, trigger_name TEXT NOT NULL, kind TEXT NOT NULL, \
           status TEXT NOT NULL, start_time INTEGER NOT NULL, end_time INTEGER NOT NULL, \
           run_id TEXT, detail TEXT NOT NULL); \
         INSERT INTO old SELECT * FROM trigger_histories; \
         DROP TABLE trigger_histories; \
         ALTER TABLE old RENAME TO trigger_histories; \
         CREATE INDEX trigger_histories_by_trigger \
           ON trigger_histories (workflow, trigger_name, seq); \
         PRAGMA user_version = 5;",
    )
    .unwrap();
    drop(conn);

    let store = SqliteStore::open(&path, SqliteOptions::default()).unwrap();
    store.add_trigger_history(entry(4)).await.unwrap();
    let listed = store
        .list_trigger_histories(WF, "manual", 10)
        .await
        .unwrap();
    let ids: Vec<_> = listed.iter().map(|h| h.id.as_str()).collect();
    assert_eq!(
        ids,
        ["fire-4", "fire-3", "fire-2", "fire-1"],
        "newest first"
    );
    assert_eq!(listed[3], entry(1));
}

/// Migration 7 drops the ledger rows of webhook action unsubscribes that are done, which
/// earlier versions kept; a trigger's entries stay, `Removed` ones included.
#[tokio::test]
async fn done_action_unsubscribes_leave_the_ledger_on_upgrade() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("hookflow.db");
    let entry = |id: &str, unsubscribe: serde_json::Value| SubscriptionRecord {
        id: id.into(),
        workflow: WF.into(),
        trigger: "events".into(),
        version_id: String::new(),
        state: SubscriptionState::Removed,
        target: "http://127.0.0.1/hooks".into(),
        fingerprint: String::new(),
        callback_url: String::new(),
        subscribe_response: None,
        unsubscribe: Some(unsubscribe),
        attempts: 1,
        next_attempt_at: None,
        last_error: None,
        created_at: T0,
        updated_at: T0,
    };
    let action = entry(
        "run-1/Wait",
        json!({ "request": { "method": "DELETE" }, "run": "run-1" }),
    );
    let trigger = entry(
        "sub-1",
        json!({ "inputs": { "method": "DELETE" }, "parameters": {} }),
    );
    {
        let store = SqliteStore::open(&path, SqliteOptions::default()).unwrap();
        store.insert_subscription(action).await.unwrap();
        store.insert_subscription(trigger.clone()).await.unwrap();
    }
    set_user_version(&path, 6);

    let store = SqliteStore::open(&path, SqliteOptions::default()).unwrap();
    assert_eq!(store.list_subscriptions(None).await.unwrap(), [trigger]);
}

/// Many writers at once share commits, and a command that fails (a duplicate run id) fails
/// alone: the other commands of its batch commit.
#[tokio::test]
async fn concurrent_writes_share_commits() {
    let store = Arc::new(SqliteStore::open_temporary(SqliteOptions::default()).unwrap());
    store
        .save_workflow(save(WF, "wf-1", T0, "pk", "sk"))
        .await
        .unwrap();
    let before = store.stats();

    // Every id is created twice: exactly one of each pair must win.
    let writes = 400;
    let tasks: Vec<_> = (0..writes)
        .map(|i| {
            let store = Arc::clone(&store);
            tokio::spawn(async move { store.create_run(new_run(&format!("r{}", i / 2), T0)).await })
        })
        .collect();
    let mut failed = 0;
    for task in tasks {
        match task.await.unwrap() {
            Ok(()) => {}
            Err(Error::Backend(_)) => failed += 1,
            Err(other) => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(failed, writes / 2);

    let query = RunQuery {
        workflow: WF.into(),
        status: None,
        limit: 1_000,
        before: None,
    };
    let runs = store.list_runs(query).await.unwrap();
    assert_eq!(runs.len(), writes / 2);
    // Each winner wrote its first event too, and each loser none.
    let claim = Claim {
        limit: 1_000,
        ..claim("a")
    };
    let claimed = store.claim_runs(claim).await.unwrap();
    assert_eq!(claimed.len(), writes / 2);
    assert!(claimed.iter().all(|run| run.events.len() == 1));

    let stats = store.stats();
    let commands = stats.commands - before.commands;
    let batches = stats.batches - before.batches;
    assert_eq!(commands, writes as u64 + 1);
    assert!(
        batches < commands,
        "{batches} batches for {commands} commands"
    );
    assert_eq!(stats.failed_batches, 0);
}

/// A command that fails halfway (here on its last insert) leaves none of its earlier writes
/// behind: its savepoint is rolled back.
#[tokio::test]
async fn failed_step_leaves_nothing_behind() {
    let store = SqliteStore::open_temporary(SqliteOptions::default()).unwrap();
    store
        .save_workflow(save(WF, "wf-1", T0, "pk", "sk"))
        .await
        .unwrap();
    store.create_run(new_run("r1", T0)).await.unwrap();
    let claimed = store.claim_runs(claim("a")).await.unwrap();

    let broken = StepCommit {
        run_id: "r1".into(),
        owner: "a".into(),
        expected_seq: 0,
        consumed_events: vec![claimed[0].events[0].id],
        new_events: vec![NewEvent {
            run_id: "nope".into(),
            event: hookflow_store::json_text(&json!({})),
            due_at: T0,
        }],
        ..StepCommit::default()
    };
    let error = store.commit_step(broken).await.unwrap_err();
    assert!(matches!(error, Error::Backend(_)), "{error:?}");

    assert_eq!(store.get_run("r1").await.unwrap().unwrap().seq, 0);
    store.release_run("r1", "a").await.unwrap();
    let again = store.claim_runs(claim("b")).await.unwrap();
    assert_eq!(again[0].events, claimed[0].events);
}

fn set_user_version(path: &Path, version: i64) {
    let conn = rusqlite::Connection::open(path).unwrap();
    conn.pragma_update(None, "user_version", version).unwrap();
}

fn claim(owner: &str) -> Claim {
    Claim {
        owner: owner.into(),
        now: T0,
        lease_ms: 30_000,
        limit: 10,
    }
}

//! The store conformance suite: the behaviour every [`Store`] backend must show, written once
//! against the trait and run by each backend's tests (behind the `testing` feature).
//!
//! Each case is a public `async fn(Arc<dyn Store>)` that panics on failure and expects a
//! fresh, empty store. A backend runs them all with [`store_conformance_tests!`], which
//! expands to one `#[tokio::test]` per case (so each is reported, and can fail, on its own):
//!
//! ```text
//! async fn fresh_store() -> Arc<dyn Store> { Arc::new(MyStore::open_temporary().unwrap()) }
//! hookflow_store::store_conformance_tests!(fresh_store);
//! ```
//!
//! Time is plain numbers here: the cases pass `now` explicitly and never sleep, so lease
//! expiry and timers are tested by claiming "later".
//!
//! [`store_conformance_tests!`]: crate::store_conformance_tests

use crate::{
    ActionRecord, CallbackDelivery, CallbackOutcome, Claim, DedupKey, Delivered, Error, Fire,
    FireOutcome, Handoff, LeaseRun, NewEffect, NewEvent, NewRun, RecurrenceFire, RecurrenceTimer,
    RunQuery, RunRecord, RunUpdate, SaveWorkflow, StepCommit, Store, SubscriptionRecord,
    SubscriptionState, SubscriptionUpdate, TriggerHistoryRecord, VersionRecord, WaitWrite,
    WorkflowRecord, json_text,
};
use hookflow_engine::{ActionStatus, RunStatus};
use serde_json::{Value, json};
use std::sync::Arc;

/// Expands to one `#[tokio::test]` per conformance case, each on a store from `$make` (a
/// function or closure returning a future of `Arc<dyn Store>`; called once per case, it
/// must return a fresh, empty store). The calling crate needs `tokio` with `macros` and `rt`.
#[macro_export]
macro_rules! store_conformance_tests {
    ($make:expr) => {
        $crate::store_conformance_tests!(@cases $make;
            save_workflow_creates_then_updates,
            list_workflows_in_name_order,
            set_workflow_enabled_toggles,
            delete_workflow_keeps_versions_and_runs,
            create_run_then_get,
            list_runs_pages_newest_first,
            list_runs_filters_by_status,
            claim_runs_leases_due_runs,
            claim_runs_returns_due_events_in_order,
            timer_is_claimed_only_when_due,
            commit_step_applies_changes,
            commit_step_with_stale_seq_writes_nothing,
            lease_expiry_makes_run_claimable_again,
            commit_step_on_unknown_run_is_not_found,
            release_run_makes_run_claimable,
            a_continuing_step_keeps_its_run_leased,
            effects_are_leased_and_attempts_counted,
            complete_effect_appends_outcome_once,
            release_all_leases_frees_runs_and_effects,
            push_event_appends_and_rejects_unknown_run,
            next_due_tracks_pending_work,
            a_run_created_with_its_first_step_commits_both,
            record_fire_dedups_within_the_window,
            record_fire_without_runs_records_history,
            subscriptions_are_upserted_and_listed,
            set_workflow_key_replaces_one_key,
            one_callback_resolves_a_wait,
            a_callback_leases_its_run_when_free,
            a_callback_does_not_lease_a_run_held_by_another,
            a_completed_effect_leases_its_run_when_free,
            a_callback_commits_the_step_computed_with_it,
            a_step_computed_ahead_needs_a_free_current_run,
            a_due_wait_times_out_once,
            a_closed_wait_refuses_callbacks,
            a_retried_effect_is_due_again_later,
            a_step_adds_ledger_entries,
            repetitions_are_rows_of_their_own,
            variables_are_kept_until_replaced,
            an_effect_taken_over_is_not_completed_by_its_old_owner,
            an_effect_taken_over_is_not_retried_by_its_old_owner,
            ledger_transitions_compare_and_set,
            owed_unsubscribes_are_leased,
            a_workflow_lock_is_held_until_dropped,
            writes_that_make_work_due_wake_the_loops,
            a_step_ending_the_run_drops_its_unsent_effects,
            recurrence_timers_are_kept_replaced_and_deleted,
            a_recurrence_occurrence_fires_once,
        );
    };
    (@cases $make:expr; $($case:ident),* $(,)?) => {
        $(
            #[tokio::test]
            async fn $case() {
                let store: ::std::sync::Arc<dyn $crate::Store> = ($make)().await;
                $crate::testing::$case(store).await;
            }
        )*
    };
}

/// An arbitrary start of time, far from zero so no backend gets away with treating 0 as
/// "unset".
pub const T0: i64 = 1_700_000_000_000;
/// The lease every claim in the suite takes.
const LEASE: i64 = 30_000;
/// The workflow every run of the suite belongs to (see [`seed`]).
pub const WF: &str = "orders";

// --- Workflows --------------------------------------------------------------------------

pub async fn save_workflow_creates_then_updates(store: Arc<dyn Store>) {
    let first = store
        .save_workflow(save(WF, "orders-1", T0, "pk1", "sk1"))
        .await
        .unwrap();
    assert!(first.created);
    let expected = WorkflowRecord {
        name: WF.into(),
        enabled: true,
        version_id: "orders-1".into(),
        created_at: T0,
        changed_at: T0,
        primary_key: "pk1".into(),
        secondary_key: "sk1".into(),
    };
    assert_eq!(first.workflow, expected);

    // An update moves the current version and the state, and keeps creation date and keys.
    let update = SaveWorkflow {
        enabled: false,
        ..save(WF, "orders-2", T0 + 1_000, "pk2", "sk2")
    };
    let second = store.save_workflow(update).await.unwrap();
    assert!(!second.created);
    let expected = WorkflowRecord {
        enabled: false,
        version_id: "orders-2".into(),
        changed_at: T0 + 1_000,
        ..expected
    };
    assert_eq!(second.workflow, expected);
    assert_eq!(store.get_workflow(WF).await.unwrap(), Some(expected));

    // Versions come newest first, also when saved within the same millisecond.
    store
        .save_workflow(save(WF, "orders-3", T0 + 1_000, "pk3", "sk3"))
        .await
        .unwrap();
    let versions = store.list_versions(WF).await.unwrap();
    let ids: Vec<_> = versions.iter().map(|v| v.version_id.as_str()).collect();
    assert_eq!(ids, ["orders-3", "orders-2", "orders-1"]);
    assert_eq!(
        store.get_version("orders-1").await.unwrap(),
        Some(VersionRecord {
            workflow: WF.into(),
            version_id: "orders-1".into(),
            created_at: T0,
            document: document("orders-1"),
        })
    );
    assert_eq!(versions[0].document, document("orders-3"));
    assert_eq!(store.get_version("nope").await.unwrap(), None);
    assert!(store.list_versions("nope").await.unwrap().is_empty());
}

pub async fn list_workflows_in_name_order(store: Arc<dyn Store>) {
    assert!(store.list_workflows().await.unwrap().is_empty());
    for name in ["billing", "alerts", "crm"] {
        store
            .save_workflow(save(name, &format!("{name}-1"), T0, "pk", "sk"))
            .await
            .unwrap();
    }
    let names: Vec<_> = store
        .list_workflows()
        .await
        .unwrap()
        .into_iter()
        .map(|w| w.name)
        .collect();
    assert_eq!(names, ["alerts", "billing", "crm"]);
    assert_eq!(store.get_workflow("nope").await.unwrap(), None);
}

pub async fn set_workflow_enabled_toggles(store: Arc<dyn Store>) {
    let saved = store
        .save_workflow(save(WF, "orders-1", T0, "pk", "sk"))
        .await
        .unwrap();

    let disabled = store
        .set_workflow_enabled(WF, false, T0 + 5)
        .await
        .unwrap()
        .unwrap();
    let expected = WorkflowRecord {
        enabled: false,
        changed_at: T0 + 5,
        ..saved.workflow
    };
    assert_eq!(disabled, expected);
    assert_eq!(store.get_workflow(WF).await.unwrap(), Some(expected));

    let enabled = store
        .set_workflow_enabled(WF, true, T0 + 9)
        .await
        .unwrap()
        .unwrap();
    assert!(enabled.enabled);
    assert_eq!(enabled.changed_at, T0 + 9);
    assert_eq!(enabled.version_id, "orders-1");

    assert_eq!(
        store.set_workflow_enabled("nope", true, T0).await.unwrap(),
        None
    );
}

pub async fn delete_workflow_keeps_versions_and_runs(store: Arc<dyn Store>) {
    seed(&*store).await;
    store.create_run(new_run("r1", T0)).await.unwrap();

    assert!(store.delete_workflow(WF).await.unwrap());
    assert_eq!(store.get_workflow(WF).await.unwrap(), None);
    assert!(store.list_workflows().await.unwrap().is_empty());
    assert!(!store.delete_workflow(WF).await.unwrap());

    // History stays.
    assert_eq!(store.list_versions(WF).await.unwrap().len(), 1);
    assert!(store.get_run("r1").await.unwrap().is_some());

    // Saving the name again creates a new workflow, with the new keys.
    let again = store
        .save_workflow(save(WF, "orders-2", T0 + 1, "pk2", "sk2"))
        .await
        .unwrap();
    assert!(again.created);
    assert_eq!(again.workflow.primary_key, "pk2");
    assert_eq!(again.workflow.created_at, T0 + 1);
    assert_eq!(store.list_versions(WF).await.unwrap().len(), 2);
}

// --- Runs and history ---------------------------------------------------------------------

pub async fn create_run_then_get(store: Arc<dyn Store>) {
    seed(&*store).await;
    let new = new_run("r1", T0);
    store.create_run(new.clone()).await.unwrap();

    assert_eq!(store.get_run("r1").await.unwrap(), Some(new.run));
    assert_eq!(store.get_run("nope").await.unwrap(), None);
    assert!(store.list_actions("r1").await.unwrap().is_empty());
    assert_eq!(store.get_action("r1", "A").await.unwrap(), None);
}

pub async fn list_runs_pages_newest_first(store: Arc<dyn Store>) {
    seed(&*store).await;
    // r2 and r3 start in the same millisecond: the id breaks the tie.
    for (id, start) in [
        ("r1", T0),
        ("r2", T0 + 1),
        ("r3", T0 + 1),
        ("r4", T0 + 2),
        ("r5", T0 + 3),
    ] {
        store.create_run(new_run(id, start)).await.unwrap();
    }
    store
        .save_workflow(save("other", "other-1", T0, "pk", "sk"))
        .await
        .unwrap();
    let mut other = new_run("x1", T0 + 10);
    other.run.workflow = "other".into();
    other.run.version_id = "other-1".into();
    store.create_run(other).await.unwrap();

    assert_eq!(
        ids(&*store, query(10, None, None)).await,
        ["r5", "r4", "r3", "r2", "r1"]
    );
    assert_eq!(ids(&*store, query(2, None, None)).await, ["r5", "r4"]);
    assert_eq!(
        ids(&*store, query(2, None, Some((T0 + 2, "r4")))).await,
        ["r3", "r2"]
    );
    assert_eq!(
        ids(&*store, query(2, None, Some((T0 + 1, "r2")))).await,
        ["r1"]
    );
    assert!(
        ids(&*store, query(2, None, Some((T0, "r1"))))
            .await
            .is_empty()
    );
    let others = store
        .list_runs(RunQuery {
            workflow: "other".into(),
            status: None,
            limit: 10,
            before: None,
        })
        .await
        .unwrap();
    assert_eq!(others.len(), 1);
    assert_eq!(others[0].id, "x1");
}

pub async fn list_runs_filters_by_status(store: Arc<dyn Store>) {
    seed(&*store).await;
    for (id, start) in [("r1", T0), ("r2", T0 + 1), ("r3", T0 + 2)] {
        store.create_run(new_run(id, start)).await.unwrap();
    }
    // Finish r2.
    let claimed = store.claim_runs(claim("a", T0 + 5)).await.unwrap();
    assert_eq!(claimed.len(), 3);
    let r2 = claimed.iter().find(|c| c.run_id == "r2").unwrap();
    let finish = StepCommit {
        run: Some(finished(RunStatus::Succeeded, T0 + 6)),
        ..step("a", r2.seq, "r2")
    };
    store.commit_step(finish).await.unwrap();

    let running = Some(RunStatus::Running);
    assert_eq!(ids(&*store, query(10, running, None)).await, ["r3", "r1"]);
    assert_eq!(
        ids(&*store, query(10, Some(RunStatus::Succeeded), None)).await,
        ["r2"]
    );
    assert!(
        ids(&*store, query(10, Some(RunStatus::Failed), None))
            .await
            .is_empty()
    );
    assert_eq!(ids(&*store, query(1, running, None)).await, ["r3"]);
    assert_eq!(
        ids(&*store, query(10, running, Some((T0 + 2, "r3")))).await,
        ["r1"]
    );
}

// --- Claiming runs ------------------------------------------------------------------------

pub async fn claim_runs_leases_due_runs(store: Arc<dyn Store>) {
    seed(&*store).await;
    for (id, start) in [("r1", T0), ("r2", T0 + 1), ("r3", T0 + 2)] {
        store.create_run(new_run(id, start)).await.unwrap();
    }

    // The limit holds, and the oldest due work goes first.
    let first = store
        .claim_runs(Claim {
            limit: 2,
            ..claim("a", T0 + 10)
        })
        .await
        .unwrap();
    let claimed: Vec<_> = first.iter().map(|c| c.run_id.as_str()).collect();
    assert_eq!(claimed, ["r1", "r2"]);
    let r1 = &first[0];
    assert_eq!(r1.seq, 0);
    assert_eq!(r1.events.len(), 1);
    assert_eq!(r1.events[0].run_id, "r1");
    assert_eq!(r1.events[0].event, start_event("r1"));
    assert_eq!(r1.events[0].due_at, T0);

    // Leased runs are not claimed again, by anyone, while the lease lives.
    let second = store.claim_runs(claim("b", T0 + 10)).await.unwrap();
    let claimed: Vec<_> = second.iter().map(|c| c.run_id.as_str()).collect();
    assert_eq!(claimed, ["r3"]);
    assert!(
        store
            .claim_runs(claim("a", T0 + 10))
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        store
            .claim_runs(Claim {
                limit: 0,
                ..claim("c", T0 + 10)
            })
            .await
            .unwrap()
            .is_empty()
    );
}

pub async fn claim_runs_returns_due_events_in_order(store: Arc<dyn Store>) {
    seed(&*store).await;
    store.create_run(new_run("r1", T0)).await.unwrap();
    // Insertion order, not due order, is the order events are applied in.
    push(&*store, "r1", json!({"n": 2}), T0 + 5).await;
    push(&*store, "r1", json!({"n": 3}), T0 + 3).await;
    push(&*store, "r1", json!({"n": 4}), T0 + 1_000).await;

    let claimed = store.claim_runs(claim("a", T0 + 10)).await.unwrap();
    assert_eq!(claimed.len(), 1);
    let events = &claimed[0].events;
    let bodies: Vec<_> = events.iter().map(|e| e.event.clone()).collect();
    assert_eq!(
        bodies,
        [start_event("r1"), json!({"n": 2}), json!({"n": 3})]
    );
    assert!(events.windows(2).all(|pair| pair[0].id < pair[1].id));
    assert!(events.iter().all(|e| e.run_id == "r1"));
}

pub async fn timer_is_claimed_only_when_due(store: Arc<dyn Store>) {
    seed(&*store).await;
    store.create_run(new_run("r1", T0)).await.unwrap();
    let claimed = store.claim_runs(claim("a", T0)).await.unwrap();
    let timer_due = T0 + 60_000;
    let wait = StepCommit {
        consumed_events: vec![claimed[0].events[0].id],
        new_events: vec![NewEvent {
            run_id: "r1".into(),
            event: json_text(&json!({"timer": 1})),
            due_at: timer_due,
        }],
        ..step("a", 0, "r1")
    };
    store.commit_step(wait).await.unwrap();

    assert_eq!(store.next_due().await.unwrap(), Some(timer_due));
    assert!(
        store
            .claim_runs(claim("a", timer_due - 1))
            .await
            .unwrap()
            .is_empty()
    );
    let fired = store.claim_runs(claim("b", timer_due)).await.unwrap();
    assert_eq!(fired.len(), 1);
    assert_eq!(fired[0].seq, 1);
    assert_eq!(fired[0].events.len(), 1);
    assert_eq!(fired[0].events[0].event, json!({"timer": 1}));
    assert_eq!(fired[0].events[0].due_at, timer_due);
}

// --- Committing steps ---------------------------------------------------------------------

pub async fn commit_step_applies_changes(store: Arc<dyn Store>) {
    seed(&*store).await;
    store.create_run(new_run("r1", T0)).await.unwrap();
    let claimed = store.claim_runs(claim("a", T0)).await.unwrap();
    let first = StepCommit {
        consumed_events: vec![claimed[0].events[0].id],
        actions: vec![
            action("A", ActionStatus::Running).into(),
            action("B", ActionStatus::Succeeded).into(),
        ],
        new_events: vec![NewEvent {
            run_id: "r1".into(),
            event: json_text(&json!({"n": 2})),
            due_at: T0 + 1,
        }],
        new_effects: vec![NewEffect {
            effect: json_text(&json!({"http": "A"})),
            due_at: T0 + 1,
        }],
        ..step("a", 0, "r1")
    };
    store.commit_step(first).await.unwrap();

    let run = store.get_run("r1").await.unwrap().unwrap();
    assert_eq!(run.seq, 1);
    assert_eq!(run.status, RunStatus::Running);
    assert_eq!(names(&*store, "r1").await, ["A", "B"]);

    // The lease is released and only the new event is left.
    let claimed = store.claim_runs(claim("b", T0 + 1)).await.unwrap();
    assert_eq!(claimed.len(), 1);
    assert_eq!(claimed[0].seq, 1);
    let bodies: Vec<_> = claimed[0].events.iter().map(|e| e.event.clone()).collect();
    assert_eq!(bodies, [json!({"n": 2})]);

    let effects = store.claim_effects(claim("b", T0 + 1)).await.unwrap();
    assert_eq!(effects.len(), 1);
    assert_eq!(effects[0].run_id, "r1");
    assert_eq!(effects[0].effect, json!({"http": "A"}));
    assert_eq!(effects[0].due_at, T0 + 1);
    assert_eq!(effects[0].attempts, 0);

    // A second step replaces A in place, adds C and ends the run.
    let a_done = ActionRecord {
        code: Some("OK".into()),
        end_time: Some(T0 + 2),
        outputs: Some(json!({"statusCode": 200})),
        ..action("A", ActionStatus::Succeeded)
    };
    let end = finished(RunStatus::Succeeded, T0 + 2);
    let second = StepCommit {
        consumed_events: vec![claimed[0].events[0].id],
        actions: vec![
            a_done.clone().into(),
            action("C", ActionStatus::Skipped).into(),
        ],
        run: Some(end.clone()),
        ..step("b", 1, "r1")
    };
    store.commit_step(second).await.unwrap();

    assert_eq!(names(&*store, "r1").await, ["A", "B", "C"]);
    assert_eq!(store.get_action("r1", "A").await.unwrap(), Some(a_done));
    assert_eq!(store.get_action("r1", "Z").await.unwrap(), None);
    let run = store.get_run("r1").await.unwrap().unwrap();
    let expected = RunRecord {
        status: end.status,
        end_time: end.end_time,
        outputs: end.outputs,
        error: end.error,
        seq: 2,
        ..new_run("r1", T0).run
    };
    assert_eq!(run, expected);
    assert!(
        store
            .claim_runs(claim("c", T0 + 10))
            .await
            .unwrap()
            .is_empty()
    );
    // Rows and action records in one read, as steps restore runs; unknown runs left out.
    store.create_run(new_run("r2", T0)).await.unwrap();
    let ids = ["r1", "nope", "r2"].map(String::from);
    let mut read = store.get_runs_with_actions(&ids).await.unwrap();
    read.sort_by(|a, b| a.0.id.cmp(&b.0.id));
    assert_eq!(read.len(), 2);
    assert_eq!(read[0].0, expected);
    assert_eq!(read[0].1, store.list_actions("r1").await.unwrap());
    assert_eq!(read[0].1.len(), 3);
    assert_eq!(read[1].0, store.get_run("r2").await.unwrap().unwrap());
    assert!(read[1].1.is_empty());
}

/// An action inside a loop has one row per iteration, keyed by its repetition; the row
/// outside loops (repetition `""`) is the one `get_action` returns.
pub async fn repetitions_are_rows_of_their_own(store: Arc<dyn Store>) {
    seed(&*store).await;
    store.create_run(new_run("r1", T0)).await.unwrap();
    let claimed = store.claim_runs(claim("a", T0)).await.unwrap();
    let at = |repetition: &str, status| ActionRecord {
        repetition: repetition.into(),
        ..action("Inner", status)
    };
    let first = StepCommit {
        consumed_events: vec![claimed[0].events[0].id],
        actions: vec![
            action("Loop", ActionStatus::Running).into(),
            at("000001", ActionStatus::Running).into(),
            at("000000", ActionStatus::Running).into(),
            at("000000-000002", ActionStatus::Running).into(),
        ],
        ..step("a", 0, "r1")
    };
    store.commit_step(first).await.unwrap();
    push(&*store, "r1", json!({"n": 2}), T0 + 1).await;
    let claimed = store.claim_runs(claim("a", T0 + 1)).await.unwrap();
    let second = StepCommit {
        consumed_events: vec![claimed[0].events[0].id],
        actions: vec![at("000001", ActionStatus::Succeeded).into()],
        ..step("a", 1, "r1")
    };
    store.commit_step(second).await.unwrap();

    assert_eq!(
        names(&*store, "r1").await,
        ["Loop", "Inner", "Inner", "Inner"]
    );
    let repetitions = store.list_repetitions("r1", "Inner").await.unwrap();
    let found: Vec<_> = repetitions
        .iter()
        .map(|a| (a.repetition.as_str(), a.status))
        .collect();
    assert_eq!(
        found,
        [
            ("000000", ActionStatus::Running),
            ("000000-000002", ActionStatus::Running),
            ("000001", ActionStatus::Succeeded),
        ]
    );
    assert_eq!(store.get_action("r1", "Inner").await.unwrap(), None);
    assert_eq!(
        store.get_action("r1", "Loop").await.unwrap(),
        Some(action("Loop", ActionStatus::Running))
    );
    assert!(
        store
            .list_repetitions("r1", "Nope")
            .await
            .unwrap()
            .is_empty()
    );
}

/// A step that changes variables writes them with the run; one that does not keeps them.
pub async fn variables_are_kept_until_replaced(store: Arc<dyn Store>) {
    seed(&*store).await;
    store.create_run(new_run("r1", T0)).await.unwrap();
    assert_eq!(store.get_run("r1").await.unwrap().unwrap().variables, None);
    let claimed = store.claim_runs(claim("a", T0)).await.unwrap();
    let variables = json!({"count": {"type": "integer", "value": 1}});
    let running = RunUpdate {
        status: RunStatus::Running,
        end_time: None,
        outputs: None,
        error: None,
        variables: Some(variables.clone()),
    };
    let first = StepCommit {
        consumed_events: vec![claimed[0].events[0].id],
        run: Some(running),
        ..step("a", 0, "r1")
    };
    store.commit_step(first).await.unwrap();
    push(&*store, "r1", json!({"n": 2}), T0 + 1).await;
    let claimed = store.claim_runs(claim("a", T0 + 1)).await.unwrap();
    let second = StepCommit {
        consumed_events: vec![claimed[0].events[0].id],
        run: Some(finished(RunStatus::Succeeded, T0 + 1)),
        ..step("a", 1, "r1")
    };
    store.commit_step(second).await.unwrap();
    let run = store.get_run("r1").await.unwrap().unwrap();
    assert_eq!(run.status, RunStatus::Succeeded);
    assert_eq!(run.variables, Some(variables));
}

pub async fn commit_step_with_stale_seq_writes_nothing(store: Arc<dyn Store>) {
    seed(&*store).await;
    store.create_run(new_run("r1", T0)).await.unwrap();
    let claimed = store.claim_runs(claim("a", T0)).await.unwrap();
    let stale = StepCommit {
        consumed_events: vec![claimed[0].events[0].id],
        actions: vec![action("A", ActionStatus::Running).into()],
        run: Some(finished(RunStatus::Failed, T0 + 1)),
        new_events: vec![NewEvent {
            run_id: "r1".into(),
            event: json_text(&json!({"n": 2})),
            due_at: T0,
        }],
        new_effects: vec![NewEffect {
            effect: json_text(&json!({"http": "A"})),
            due_at: T0,
        }],
        ..step("a", 7, "r1")
    };
    let error = store.commit_step(stale).await.unwrap_err();
    assert!(matches!(error, Error::Conflict(_)), "{error:?}");

    let run = store.get_run("r1").await.unwrap().unwrap();
    assert_eq!((run.seq, run.status), (0, RunStatus::Running));
    assert!(store.list_actions("r1").await.unwrap().is_empty());
    assert!(
        store
            .claim_effects(claim("b", T0 + 1))
            .await
            .unwrap()
            .is_empty()
    );
    // The lease is still held, and once released the run has its original event only.
    assert!(
        store
            .claim_runs(claim("b", T0 + 1))
            .await
            .unwrap()
            .is_empty()
    );
    store.release_run("r1", "a").await.unwrap();
    let again = store.claim_runs(claim("b", T0 + 1)).await.unwrap();
    assert_eq!(again[0].seq, 0);
    let bodies: Vec<_> = again[0].events.iter().map(|e| e.event.clone()).collect();
    assert_eq!(bodies, [start_event("r1")]);
}

pub async fn lease_expiry_makes_run_claimable_again(store: Arc<dyn Store>) {
    seed(&*store).await;
    store.create_run(new_run("r1", T0)).await.unwrap();
    assert_eq!(store.claim_runs(claim("a", T0)).await.unwrap().len(), 1);

    // A lease is live up to and including `now + lease_ms`.
    assert!(
        store
            .claim_runs(claim("b", T0 + LEASE))
            .await
            .unwrap()
            .is_empty()
    );
    let taken = store.claim_runs(claim("b", T0 + LEASE + 1)).await.unwrap();
    assert_eq!(taken.len(), 1);
    assert_eq!(taken[0].seq, 0);
    assert_eq!(taken[0].events.len(), 1);

    // The first owner lost the lease: its step is refused although its seq is current.
    let late = store.commit_step(step("a", 0, "r1")).await.unwrap_err();
    assert!(matches!(late, Error::Conflict(_)), "{late:?}");
    store.commit_step(step("b", 0, "r1")).await.unwrap();
    // And once the run moved on, a repeat of the same step is stale.
    let repeat = store.commit_step(step("b", 0, "r1")).await.unwrap_err();
    assert!(matches!(repeat, Error::Conflict(_)), "{repeat:?}");
    assert_eq!(store.get_run("r1").await.unwrap().unwrap().seq, 1);
}

pub async fn commit_step_on_unknown_run_is_not_found(store: Arc<dyn Store>) {
    let error = store.commit_step(step("a", 0, "nope")).await.unwrap_err();
    assert!(matches!(error, Error::NotFound(_)), "{error:?}");
}

pub async fn release_run_makes_run_claimable(store: Arc<dyn Store>) {
    seed(&*store).await;
    store.create_run(new_run("r1", T0)).await.unwrap();
    store.claim_runs(claim("a", T0)).await.unwrap();

    // Releasing someone else's lease does nothing.
    store.release_run("r1", "b").await.unwrap();
    assert!(store.claim_runs(claim("c", T0)).await.unwrap().is_empty());

    store.release_run("r1", "a").await.unwrap();
    let claimed = store.claim_runs(claim("c", T0)).await.unwrap();
    assert_eq!(claimed.len(), 1);
    assert_eq!(claimed[0].seq, 0);
    assert_eq!(claimed[0].events.len(), 1);

    let error = store.release_run("nope", "a").await.unwrap_err();
    assert!(matches!(error, Error::NotFound(_)), "{error:?}");
}

pub async fn a_continuing_step_keeps_its_run_leased(store: Arc<dyn Store>) {
    seed(&*store).await;
    store.create_run(new_run("r1", T0)).await.unwrap();
    let claimed = store.claim_runs(claim("a", T0)).await.unwrap();
    // Arrives while the step runs.
    push(&*store, "r1", json!({"cancel": true}), T0).await;
    let lease = LeaseRun {
        owner: "a".into(),
        lease_ms: LEASE,
    };
    let continuing = StepCommit {
        consumed_events: vec![claimed[0].events[0].id],
        actions: vec![action("A", ActionStatus::Succeeded).into()],
        new_events: vec![
            NewEvent {
                run_id: "r1".into(),
                event: json_text(&json!({"continue": 1})),
                due_at: T0 + 1,
            },
            NewEvent {
                run_id: "r1".into(),
                event: json_text(&json!({"timer": 1})),
                due_at: T0 + 5_000,
            },
        ],
        ..step("a", 0, "r1")
    };

    // A stale step keeps nothing and writes nothing.
    let stale = StepCommit {
        expected_seq: 3,
        ..continuing.clone()
    };
    let error = store
        .commit_step_and_continue(stale, lease.clone(), T0 + 1)
        .await
        .unwrap_err();
    assert!(matches!(error, Error::Conflict(_)), "{error:?}");
    assert!(store.list_actions("r1").await.unwrap().is_empty());

    let next = store
        .commit_step_and_continue(continuing, lease, T0 + 1)
        .await
        .unwrap();
    assert_eq!((next.run_id.as_str(), next.seq), ("r1", 1));
    // Every event due at `now`, in inbox order: what arrived meanwhile is not skipped; the
    // consumed start event and the timer due later are not there.
    let bodies: Vec<_> = next.events.iter().map(|e| e.event.clone()).collect();
    assert_eq!(bodies, [json!({"cancel": true}), json!({"continue": 1})]);
    assert_eq!(names(&*store, "r1").await, ["A"]);

    // Still leased, up to and including `now + lease_ms`: no one else claims it.
    for now in [T0 + 1, T0 + 1 + LEASE] {
        assert!(store.claim_runs(claim("b", now)).await.unwrap().is_empty());
    }
    // Its holder steps it on and lets go; the timer is claimable when due.
    let last = StepCommit {
        consumed_events: next.events.iter().map(|e| e.id).collect(),
        ..step("a", 1, "r1")
    };
    store.commit_step(last).await.unwrap();
    let timer = store.claim_runs(claim("b", T0 + 5_000)).await.unwrap();
    assert_eq!(timer.len(), 1);
    assert_eq!(timer[0].seq, 2);
    let bodies: Vec<_> = timer[0].events.iter().map(|e| e.event.clone()).collect();
    assert_eq!(bodies, [json!({"timer": 1})]);
}

// --- Effects ------------------------------------------------------------------------------

pub async fn effects_are_leased_and_attempts_counted(store: Arc<dyn Store>) {
    seed(&*store).await;
    with_effects(&*store, &[T0, T0 + 100]).await;

    let first = store.claim_effects(claim("a", T0)).await.unwrap();
    assert_eq!(first.len(), 1, "only the due effect");
    assert_eq!((first[0].due_at, first[0].attempts), (T0, 0));
    assert_eq!(first[0].effect, json!({"effect": 0}));
    assert!(
        store
            .claim_effects(claim("b", T0 + 50))
            .await
            .unwrap()
            .is_empty()
    );

    let second = store.claim_effects(claim("b", T0 + 100)).await.unwrap();
    assert_eq!(second.len(), 1);
    assert_eq!(second[0].effect, json!({"effect": 1}));

    // The first lease ran out (the worker died?): the effect is claimed again, and the
    // attempt count says a previous attempt may have gone out.
    let retry = store
        .claim_effects(claim("c", T0 + LEASE + 1))
        .await
        .unwrap();
    assert_eq!(retry.len(), 1);
    assert_eq!((retry[0].id, retry[0].attempts), (first[0].id, 1));

    let limited = store
        .claim_effects(Claim {
            limit: 1,
            ..claim("d", T0 + 10 * LEASE)
        })
        .await;
    assert_eq!(limited.unwrap().len(), 1);
}

pub async fn complete_effect_appends_outcome_once(store: Arc<dyn Store>) {
    seed(&*store).await;
    with_effects(&*store, &[T0]).await;
    let effect = store.claim_effects(claim("a", T0)).await.unwrap().remove(0);

    let outcome = NewEvent {
        run_id: "r1".into(),
        event: json_text(&json!({"outcome": 200})),
        due_at: T0 + 5,
    };
    store
        .complete_effect(effect.id, "a", outcome.clone(), Handoff::default())
        .await
        .unwrap();
    // A duplicate completion (say, a retried call of the same worker) is harmless.
    store
        .complete_effect(effect.id, "a", outcome.clone(), Handoff::default())
        .await
        .unwrap();

    assert!(
        store
            .claim_effects(claim("b", T0 + 10 * LEASE))
            .await
            .unwrap()
            .is_empty()
    );
    let claimed = store.claim_runs(claim("b", T0 + 5)).await.unwrap();
    assert_eq!(claimed.len(), 1);
    let bodies: Vec<_> = claimed[0].events.iter().map(|e| e.event.clone()).collect();
    assert_eq!(bodies, [json!({"outcome": 200})]);
    assert_eq!(claimed[0].events[0].due_at, T0 + 5);
}

pub async fn release_all_leases_frees_runs_and_effects(store: Arc<dyn Store>) {
    seed(&*store).await;
    with_effects(&*store, &[T0]).await;
    push(&*store, "r1", json!({"n": 2}), T0).await;
    assert_eq!(store.claim_runs(claim("a", T0)).await.unwrap().len(), 1);
    assert_eq!(store.claim_effects(claim("a", T0)).await.unwrap().len(), 1);

    store.release_all_leases().await.unwrap();

    let runs = store.claim_runs(claim("b", T0)).await.unwrap();
    assert_eq!(runs.len(), 1);
    assert_eq!(runs[0].seq, 1);
    let effects = store.claim_effects(claim("b", T0)).await.unwrap();
    assert_eq!(effects.len(), 1);
    assert_eq!(effects[0].attempts, 1);
}

// --- Events and scheduling ----------------------------------------------------------------

pub async fn push_event_appends_and_rejects_unknown_run(store: Arc<dyn Store>) {
    seed(&*store).await;
    store.create_run(new_run("r1", T0)).await.unwrap();
    push(&*store, "r1", json!({"cancel": true}), T0).await;
    let claimed = store.claim_runs(claim("a", T0)).await.unwrap();
    assert_eq!(claimed[0].events.len(), 2);
    assert_eq!(claimed[0].events[1].event, json!({"cancel": true}));

    let unknown = NewEvent {
        run_id: "nope".into(),
        event: json_text(&json!({})),
        due_at: T0,
    };
    let error = store.push_event(unknown).await.unwrap_err();
    assert!(matches!(error, Error::NotFound(_)), "{error:?}");
}

pub async fn next_due_tracks_pending_work(store: Arc<dyn Store>) {
    assert_eq!(store.next_due().await.unwrap(), None);
    seed(&*store).await;
    store.create_run(new_run("r1", T0)).await.unwrap();
    assert_eq!(store.next_due().await.unwrap(), Some(T0));

    // Leased work counts from when its lease ends: claiming then must find it.
    let claimed = store.claim_runs(claim("a", T0)).await.unwrap();
    let due = store.next_due().await.unwrap().unwrap();
    assert!(due > T0 && due <= T0 + LEASE + 1, "{due}");
    assert_eq!(store.claim_runs(claim("b", due)).await.unwrap().len(), 1);

    // A step leaves a timer and an effect; the effect is due first.
    let wait = StepCommit {
        consumed_events: vec![claimed[0].events[0].id],
        new_events: vec![NewEvent {
            run_id: "r1".into(),
            event: json_text(&json!({})),
            due_at: T0 + 1_000,
        }],
        new_effects: vec![NewEffect {
            effect: json_text(&json!({})),
            due_at: T0 + 500,
        }],
        ..step("b", 0, "r1")
    };
    store.commit_step(wait).await.unwrap();
    assert_eq!(store.next_due().await.unwrap(), Some(T0 + 500));

    // While the effect is leased, the timer is next.
    let effect = store
        .claim_effects(claim("a", T0 + 500))
        .await
        .unwrap()
        .remove(0);
    assert_eq!(store.next_due().await.unwrap(), Some(T0 + 1_000));

    // Its outcome, due at once, comes before the timer.
    let outcome = NewEvent {
        run_id: "r1".into(),
        event: json_text(&json!({})),
        due_at: T0 + 600,
    };
    store
        .complete_effect(effect.id, "a", outcome, Handoff::default())
        .await
        .unwrap();
    assert_eq!(store.next_due().await.unwrap(), Some(T0 + 600));
}

pub async fn a_run_created_with_its_first_step_commits_both(store: Arc<dyn Store>) {
    seed(&*store).await;
    let first = StepCommit {
        actions: vec![action("A", ActionStatus::Running).into()],
        new_effects: vec![NewEffect {
            effect: json_text(&json!({"http": "A"})),
            due_at: T0,
        }],
        ..step("node-a", 0, "r1")
    };
    let new = NewRun {
        started: Some(first),
        ..new_run("r1", T0)
    };
    store.create_run(new).await.unwrap();
    let run = store.get_run("r1").await.unwrap().unwrap();
    assert_eq!(run.seq, 1, "the first step is committed");
    assert_eq!(names(&*store, "r1").await, ["A"]);
    assert!(
        store
            .claim_runs(claim("b", T0 + 1))
            .await
            .unwrap()
            .is_empty(),
        "no Start event left, no lease held"
    );
    assert_eq!(
        store.claim_effects(claim("b", T0 + 1)).await.unwrap().len(),
        1
    );
    // The run is free for the next event.
    store
        .push_event(NewEvent {
            run_id: "r1".into(),
            event: json_text(&json!({"n": 2})),
            due_at: T0 + 2,
        })
        .await
        .unwrap();
    let claimed = store.claim_runs(claim("b", T0 + 2)).await.unwrap();
    assert_eq!((claimed.len(), claimed[0].seq), (1, 1));
}

// --- Triggers -----------------------------------------------------------------------------

pub async fn record_fire_dedups_within_the_window(store: Arc<dyn Store>) {
    seed(store.as_ref()).await;
    let fire = |run_id: &str, now: i64| Fire {
        runs: vec![new_run(run_id, now)],
        history: history(&format!("h-{run_id}"), now, Some(run_id)),
        dedup: Some(DedupKey {
            workflow: WF.into(),
            key: "delivery-1".into(),
            answer: json!({ "runs": [run_id] }),
            expires_at: now + 1_000,
        }),
    };
    assert_eq!(
        store.record_fire(fire("r1", T0)).await.unwrap(),
        FireOutcome::Recorded
    );
    let repeat = store.record_fire(fire("r2", T0 + 500)).await.unwrap();
    assert_eq!(
        repeat,
        FireOutcome::Duplicate {
            answer: json!({ "runs": ["r1"] })
        }
    );
    assert!(
        store.get_run("r2").await.unwrap().is_none(),
        "a duplicate writes nothing"
    );
    let histories = store
        .list_trigger_histories(WF, "manual", 10)
        .await
        .unwrap();
    assert_eq!(histories.len(), 1);
    // Past the window the key is forgotten and the delivery is a new fire.
    assert_eq!(
        store.record_fire(fire("r3", T0 + 2_000)).await.unwrap(),
        FireOutcome::Recorded
    );
    assert!(store.get_run("r3").await.unwrap().is_some());
}

pub async fn record_fire_without_runs_records_history(store: Arc<dyn Store>) {
    seed(store.as_ref()).await;
    let skipped = Fire {
        runs: Vec::new(),
        history: history("h1", T0, None),
        dedup: None,
    };
    assert_eq!(
        store.record_fire(skipped).await.unwrap(),
        FireOutcome::Recorded
    );
    let two = Fire {
        runs: vec![new_run("r1", T0 + 1), new_run("r2", T0 + 1)],
        history: history("h2", T0 + 1, Some("r1")),
        dedup: None,
    };
    store.record_fire(two).await.unwrap();
    let histories = store
        .list_trigger_histories(WF, "manual", 10)
        .await
        .unwrap();
    let ids: Vec<_> = histories.iter().map(|h| h.id.as_str()).collect();
    assert_eq!(ids, ["h2", "h1"], "newest first");
    assert_eq!(histories[0].run_id.as_deref(), Some("r1"));
    assert_eq!(ids_of_runs(store.as_ref()).await.len(), 2);
    assert_eq!(
        store
            .list_trigger_histories(WF, "manual", 1)
            .await
            .unwrap()
            .len(),
        1
    );
    assert!(
        store
            .list_trigger_histories(WF, "other", 10)
            .await
            .unwrap()
            .is_empty()
    );
}

pub async fn subscriptions_are_upserted_and_listed(store: Arc<dyn Store>) {
    let mut sub = subscription("s1", "orders");
    store.insert_subscription(sub.clone()).await.unwrap();
    store
        .insert_subscription(subscription("s2", "billing"))
        .await
        .unwrap();
    sub.state = SubscriptionState::Active;
    sub.subscribe_response = Some(json!({ "statusCode": 201, "body": { "id": "abc" } }));
    sub.attempts = 1;
    sub.updated_at = T0 + 5;
    store
        .update_subscription(update(&sub, SubscriptionState::Subscribing, None))
        .await
        .unwrap();
    let orders = store.list_subscriptions(Some("orders")).await.unwrap();
    assert_eq!(orders, vec![sub]);
    assert_eq!(store.list_subscriptions(None).await.unwrap().len(), 2);
    assert!(
        store
            .list_subscriptions(Some("none"))
            .await
            .unwrap()
            .is_empty()
    );
    // Only entries owed an unsubscribe are queued, earliest due first, up to the limit.
    assert!(store.list_owed_unsubscribes(10).await.unwrap().is_empty());
    let mut later = subscription("s3", "orders");
    later.state = SubscriptionState::Unsubscribing;
    later.next_attempt_at = Some(T0 + 100);
    let mut sooner = subscription("s4", "billing");
    sooner.state = SubscriptionState::Unsubscribing;
    sooner.next_attempt_at = Some(T0 + 10);
    store.insert_subscription(later).await.unwrap();
    store.insert_subscription(sooner).await.unwrap();
    let owed: Vec<_> = store
        .list_owed_unsubscribes(10)
        .await
        .unwrap()
        .into_iter()
        .map(|s| s.id)
        .collect();
    assert_eq!(owed, ["s4", "s3"]);
    assert_eq!(store.list_owed_unsubscribes(1).await.unwrap().len(), 1);
}

pub async fn set_workflow_key_replaces_one_key(store: Arc<dyn Store>) {
    store
        .save_workflow(save(WF, "v1", T0, "p1", "s1"))
        .await
        .unwrap();
    let updated = store
        .set_workflow_key(WF, false, "p2", T0 + 1)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (updated.primary_key.as_str(), updated.secondary_key.as_str()),
        ("p2", "s1")
    );
    let updated = store
        .set_workflow_key(WF, true, "s2", T0 + 2)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (updated.primary_key.as_str(), updated.secondary_key.as_str()),
        ("p2", "s2")
    );
    assert!(
        store
            .set_workflow_key("missing", true, "x", T0)
            .await
            .unwrap()
            .is_none()
    );
}

// --- Waits of webhook actions ---------------------------------------------------------------

/// A run `r1` whose action `Hook` waits for its callback until `T0 + 1_000`.
async fn with_wait(store: &dyn Store) {
    seed(store).await;
    store.create_run(new_run("r1", T0)).await.unwrap();
    let claimed = store.claim_runs(claim("a", T0)).await.unwrap();
    let open = StepCommit {
        consumed_events: vec![claimed[0].events[0].id],
        waits: vec![WaitWrite::Open {
            action: "Hook".into(),
            opened_at: T0,
            timeout_at: T0 + 1_000,
        }],
        ..step("a", 0, "r1")
    };
    store.commit_step(open).await.unwrap();
}

/// A handoff that asks for the run's lease.
fn leasing(owner: &str) -> Handoff {
    Handoff {
        lease: Some(LeaseRun {
            owner: owner.into(),
            lease_ms: LEASE,
        }),
        step: None,
    }
}

fn delivery(key: Option<&str>, now: i64) -> CallbackDelivery {
    CallbackDelivery {
        run_id: "r1".into(),
        action: "Hook".into(),
        delivery_key: key.map(str::to_owned),
        event: json_text(&json!({ "callback": key })),
        now,
        handoff: Handoff::default(),
    }
}

pub async fn one_callback_resolves_a_wait(store: Arc<dyn Store>) {
    with_wait(&*store).await;
    assert_eq!(
        store.next_due().await.unwrap(),
        Some(T0 + 1_000),
        "the timeout is due work"
    );
    let open = store.list_waits(None, 10).await.unwrap();
    assert_eq!(open.len(), 1);
    assert_eq!(
        (
            open[0].run_id.as_str(),
            open[0].workflow.as_str(),
            open[0].action.as_str()
        ),
        ("r1", WF, "Hook")
    );
    assert_eq!((open[0].opened_at, open[0].timeout_at), (T0, T0 + 1_000));
    assert_eq!(store.list_waits(Some(WF), 10).await.unwrap().len(), 1);
    assert!(
        store
            .list_waits(Some("other"), 10)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        store
            .accept_callback(delivery(Some("k1"), T0 + 5))
            .await
            .unwrap(),
        CallbackOutcome::Accepted(Delivered::Queued)
    );
    assert_eq!(
        store
            .accept_callback(delivery(Some("k1"), T0 + 6))
            .await
            .unwrap(),
        CallbackOutcome::Repeat
    );
    assert_eq!(
        store
            .accept_callback(delivery(Some("k2"), T0 + 7))
            .await
            .unwrap(),
        CallbackOutcome::Refused {
            by: "Callback".into()
        }
    );
    assert_eq!(
        store.accept_callback(delivery(None, T0 + 8)).await.unwrap(),
        CallbackOutcome::Refused {
            by: "Callback".into()
        }
    );
    assert!(
        store.list_waits(None, 10).await.unwrap().is_empty(),
        "a resolved wait is not open"
    );
    let claimed = store.claim_runs(claim("a", T0 + 10)).await.unwrap();
    assert_eq!(claimed[0].events.len(), 1, "only the winner's event");
    assert_eq!(claimed[0].events[0].event, json!({ "callback": "k1" }));
    assert_eq!(
        store.resolve_timeouts(T0 + 2_000, 10).await.unwrap(),
        0,
        "a resolved wait does not time out"
    );
    let unknown = CallbackDelivery {
        action: "Other".into(),
        ..delivery(None, T0)
    };
    assert_eq!(
        store.accept_callback(unknown).await.unwrap(),
        CallbackOutcome::NotFound
    );
}

pub async fn a_callback_leases_its_run_when_free(store: Arc<dyn Store>) {
    with_wait(&*store).await;
    let delivered = CallbackDelivery {
        handoff: leasing("a"),
        ..delivery(Some("k1"), T0 + 5)
    };
    let CallbackOutcome::Accepted(Delivered::Claimed(claimed)) =
        store.accept_callback(delivered).await.unwrap()
    else {
        panic!("a free run is leased with the callback");
    };
    assert_eq!((claimed.run_id.as_str(), claimed.seq), ("r1", 1));
    let bodies: Vec<_> = claimed.events.iter().map(|e| e.event.clone()).collect();
    assert_eq!(bodies, [json!({ "callback": "k1" })]);
    assert!(
        store
            .claim_runs(claim("b", T0 + 6))
            .await
            .unwrap()
            .is_empty(),
        "the lease is live"
    );
    let resumed = StepCommit {
        consumed_events: vec![claimed.events[0].id],
        ..step("a", claimed.seq, "r1")
    };
    store.commit_step(resumed).await.unwrap();
}

pub async fn a_callback_does_not_lease_a_run_held_by_another(store: Arc<dyn Store>) {
    with_wait(&*store).await;
    store
        .push_event(NewEvent {
            run_id: "r1".into(),
            event: json_text(&json!({ "tick": 1 })),
            due_at: T0 + 4,
        })
        .await
        .unwrap();
    let held = store
        .claim_runs(claim("b", T0 + 4))
        .await
        .unwrap()
        .remove(0);
    let delivered = CallbackDelivery {
        handoff: leasing("a"),
        ..delivery(Some("k1"), T0 + 5)
    };
    assert_eq!(
        store.accept_callback(delivered).await.unwrap(),
        CallbackOutcome::Accepted(Delivered::Queued)
    );
    let stepped = StepCommit {
        consumed_events: held.events.iter().map(|e| e.id).collect(),
        ..step("b", held.seq, "r1")
    };
    store.commit_step(stepped).await.unwrap();
    let later = store.claim_runs(claim("c", T0 + 6)).await.unwrap();
    let bodies: Vec<_> = later[0].events.iter().map(|e| e.event.clone()).collect();
    assert_eq!(
        bodies,
        [json!({ "callback": "k1" })],
        "a regular claim finds it"
    );
}

pub async fn a_completed_effect_leases_its_run_when_free(store: Arc<dyn Store>) {
    seed(&*store).await;
    with_effects(&*store, &[T0, T0]).await;
    let effects = store.claim_effects(claim("a", T0)).await.unwrap();
    assert_eq!(effects.len(), 2);
    let outcome = |n: u32| NewEvent {
        run_id: "r1".into(),
        event: json_text(&json!({ "outcome": n })),
        due_at: T0 + 5,
    };
    let Delivered::Claimed(claimed) = store
        .complete_effect(effects[0].id, "a", outcome(1), leasing("a"))
        .await
        .unwrap()
    else {
        panic!("a free run is leased with the outcome");
    };
    assert_eq!(claimed.run_id, "r1");
    let bodies: Vec<_> = claimed.events.iter().map(|e| e.event.clone()).collect();
    assert_eq!(bodies, [json!({ "outcome": 1 })]);
    // While it is leased, the next outcome is only recorded.
    assert_eq!(
        store
            .complete_effect(effects[1].id, "a", outcome(2), leasing("a"))
            .await
            .unwrap(),
        Delivered::Queued
    );
    let resumed = StepCommit {
        consumed_events: vec![claimed.events[0].id],
        ..step("a", claimed.seq, "r1")
    };
    store.commit_step(resumed).await.unwrap();
    let later = store.claim_runs(claim("b", T0 + 6)).await.unwrap();
    let bodies: Vec<_> = later[0].events.iter().map(|e| e.event.clone()).collect();
    assert_eq!(bodies, [json!({ "outcome": 2 })]);
}

/// The step computed where a callback arrived (`Handoff::step`) is committed with it, in place
/// of its event, when the run is at the step's `seq`, free, and has nothing else due.
pub async fn a_callback_commits_the_step_computed_with_it(store: Arc<dyn Store>) {
    with_wait(&*store).await;
    let ahead = StepCommit {
        actions: vec![action("Hook", ActionStatus::Succeeded).into()],
        new_effects: vec![NewEffect {
            effect: json_text(&json!({"http": "Next"})),
            due_at: T0 + 5,
        }],
        ..step("a", 1, "r1")
    };
    let delivered = CallbackDelivery {
        handoff: Handoff {
            step: Some(ahead),
            ..leasing("a")
        },
        ..delivery(Some("k1"), T0 + 5)
    };
    assert_eq!(
        store.accept_callback(delivered).await.unwrap(),
        CallbackOutcome::Accepted(Delivered::Stepped)
    );
    assert_eq!(store.get_run("r1").await.unwrap().unwrap().seq, 2);
    assert_eq!(names(&*store, "r1").await, ["Hook"]);
    let effects = store.claim_effects(claim("b", T0 + 6)).await.unwrap();
    let effects: Vec<_> = effects.iter().map(|e| e.effect.clone()).collect();
    assert_eq!(effects, [json!({"http": "Next"})]);
    // The event was applied, not appended, and the run is left free.
    push(&*store, "r1", json!({"tick": 1}), T0 + 6).await;
    let later = store.claim_runs(claim("b", T0 + 6)).await.unwrap();
    assert_eq!(later[0].seq, 2);
    let bodies: Vec<_> = later[0].events.iter().map(|e| e.event.clone()).collect();
    assert_eq!(bodies, [json!({"tick": 1})]);
    // The wait is resolved like any other.
    assert_eq!(
        store
            .accept_callback(delivery(Some("k1"), T0 + 7))
            .await
            .unwrap(),
        CallbackOutcome::Repeat
    );
}

/// A step computed ahead is left unused — its event appended as without it — when the run
/// moved on since, is held by a live lease, or has an earlier event due (that comes first).
pub async fn a_step_computed_ahead_needs_a_free_current_run(store: Arc<dyn Store>) {
    seed(&*store).await;
    with_effects(&*store, &[T0, T0, T0, T0]).await;
    let effects = store.claim_effects(claim("x", T0)).await.unwrap();
    let outcome = |n: usize| NewEvent {
        run_id: "r1".into(),
        event: json_text(&json!({ "outcome": n })),
        due_at: T0 + 5,
    };
    let ahead = |seq: i64| Handoff {
        step: Some(StepCommit {
            actions: vec![action("Done", ActionStatus::Succeeded).into()],
            ..step("x", seq, "r1")
        }),
        lease: None,
    };
    let complete = |n: usize, handoff: Handoff| {
        let store = store.clone();
        let id = effects[n].id;
        async move { store.complete_effect(id, "x", outcome(n), handoff).await }
    };
    // The run is at seq 1: a step computed at 0 is stale.
    assert_eq!(complete(0, ahead(0)).await.unwrap(), Delivered::Queued);
    // Current, but the first outcome is due before this one.
    assert_eq!(complete(1, ahead(1)).await.unwrap(), Delivered::Queued);
    let held = store
        .claim_runs(claim("b", T0 + 5))
        .await
        .unwrap()
        .remove(0);
    let bodies: Vec<_> = held.events.iter().map(|e| e.event.clone()).collect();
    assert_eq!(bodies, [json!({"outcome": 0}), json!({"outcome": 1})]);
    // Current, nothing else due, but another step holds the run.
    assert_eq!(complete(2, ahead(1)).await.unwrap(), Delivered::Queued);
    assert!(
        names(&*store, "r1").await.is_empty(),
        "no step ahead was used"
    );
    let stepped = StepCommit {
        consumed_events: held.events.iter().map(|e| e.id).collect(),
        ..step("b", held.seq, "r1")
    };
    store.commit_step(stepped).await.unwrap();
    let later = store
        .claim_runs(claim("c", T0 + 6))
        .await
        .unwrap()
        .remove(0);
    let bodies: Vec<_> = later.events.iter().map(|e| e.event.clone()).collect();
    assert_eq!(bodies, [json!({"outcome": 2})]);
    let stepped = StepCommit {
        consumed_events: vec![later.events[0].id],
        ..step("c", later.seq, "r1")
    };
    store.commit_step(stepped).await.unwrap();
    // Free, current and with nothing due: the step goes in with the outcome.
    assert_eq!(complete(3, ahead(3)).await.unwrap(), Delivered::Stepped);
    assert_eq!(names(&*store, "r1").await, ["Done"]);
    assert_eq!(store.get_run("r1").await.unwrap().unwrap().seq, 4);
    assert!(
        store
            .claim_runs(claim("d", T0 + 7))
            .await
            .unwrap()
            .is_empty()
    );
}

pub async fn a_due_wait_times_out_once(store: Arc<dyn Store>) {
    with_wait(&*store).await;
    assert_eq!(store.resolve_timeouts(T0 + 999, 10).await.unwrap(), 0);
    assert_eq!(store.resolve_timeouts(T0 + 1_000, 10).await.unwrap(), 1);
    assert_eq!(store.resolve_timeouts(T0 + 1_001, 10).await.unwrap(), 0);
    assert_eq!(
        store
            .accept_callback(delivery(None, T0 + 1_002))
            .await
            .unwrap(),
        CallbackOutcome::Refused {
            by: "TimedOut".into()
        }
    );
    let claimed = store.claim_runs(claim("a", T0 + 1_003)).await.unwrap();
    assert_eq!(claimed[0].events[0].event["type"], "WaitTimedOut");
    assert_eq!(claimed[0].events[0].event["action"], "Hook");
}

pub async fn a_closed_wait_refuses_callbacks(store: Arc<dyn Store>) {
    with_wait(&*store).await;
    let claimed = store.claim_runs(claim("a", T0 + 1)).await.unwrap();
    assert!(claimed.is_empty());
    store
        .push_event(NewEvent {
            run_id: "r1".into(),
            event: json_text(&json!({})),
            due_at: T0 + 1,
        })
        .await
        .unwrap();
    let claimed = store.claim_runs(claim("a", T0 + 1)).await.unwrap();
    let close = StepCommit {
        consumed_events: vec![claimed[0].events[0].id],
        waits: vec![WaitWrite::Close {
            action: "Hook".into(),
        }],
        ..step("a", 1, "r1")
    };
    store.commit_step(close).await.unwrap();
    assert_eq!(
        store.accept_callback(delivery(None, T0 + 2)).await.unwrap(),
        CallbackOutcome::Refused {
            by: "Closed".into()
        }
    );
    assert_eq!(
        store.next_due().await.unwrap(),
        None,
        "a closed wait is no due work"
    );
}

pub async fn a_retried_effect_is_due_again_later(store: Arc<dyn Store>) {
    seed(&*store).await;
    with_effects(&*store, &[T0]).await;
    let effect = store.claim_effects(claim("a", T0)).await.unwrap().remove(0);
    store.retry_effect(effect.id, "a", T0 + 500).await.unwrap();
    assert!(
        store
            .claim_effects(claim("b", T0 + 499))
            .await
            .unwrap()
            .is_empty()
    );
    let again = store.claim_effects(claim("b", T0 + 500)).await.unwrap();
    assert_eq!(again.len(), 1);
    assert_eq!(again[0].attempts, 1);
}

pub async fn a_step_adds_ledger_entries(store: Arc<dyn Store>) {
    with_wait(&*store).await;
    store
        .push_event(NewEvent {
            run_id: "r1".into(),
            event: json_text(&json!({})),
            due_at: T0 + 1,
        })
        .await
        .unwrap();
    let claimed = store.claim_runs(claim("a", T0 + 1)).await.unwrap();
    let owed = StepCommit {
        consumed_events: vec![claimed[0].events[0].id],
        subscriptions: vec![subscription("s-r1", WF)],
        ..step("a", 1, "r1")
    };
    store.commit_step(owed).await.unwrap();
    assert_eq!(store.list_subscriptions(Some(WF)).await.unwrap().len(), 1);
}

// --- Several nodes ------------------------------------------------------------------------

/// A node whose effect lease ran out and was taken over must not record an outcome: the new
/// owner does (exactly one outcome per effect, from its current owner).
pub async fn an_effect_taken_over_is_not_completed_by_its_old_owner(store: Arc<dyn Store>) {
    seed(&*store).await;
    with_effects(&*store, &[T0]).await;
    let effect = store.claim_effects(claim("a", T0)).await.unwrap().remove(0);
    let later = T0 + LEASE + 1;
    assert_eq!(
        store.claim_effects(claim("b", later)).await.unwrap().len(),
        1
    );
    let outcome = |by: &str| NewEvent {
        run_id: "r1".into(),
        event: json_text(&json!({ "by": by })),
        due_at: later,
    };

    let error = store
        .complete_effect(effect.id, "a", outcome("a"), Handoff::default())
        .await
        .unwrap_err();
    assert!(matches!(error, Error::Conflict(_)), "{error:?}");
    store
        .complete_effect(effect.id, "b", outcome("b"), Handoff::default())
        .await
        .unwrap();

    let claimed = store.claim_runs(claim("c", later)).await.unwrap();
    let bodies: Vec<_> = claimed[0].events.iter().map(|e| e.event.clone()).collect();
    assert_eq!(bodies, [json!({ "by": "b" })]);
}

pub async fn an_effect_taken_over_is_not_retried_by_its_old_owner(store: Arc<dyn Store>) {
    seed(&*store).await;
    with_effects(&*store, &[T0]).await;
    let effect = store.claim_effects(claim("a", T0)).await.unwrap().remove(0);
    let later = T0 + LEASE + 1;
    assert_eq!(
        store.claim_effects(claim("b", later)).await.unwrap().len(),
        1
    );

    let error = store
        .retry_effect(effect.id, "a", later + 10 * LEASE)
        .await
        .unwrap_err();
    assert!(matches!(error, Error::Conflict(_)), "{error:?}");
    // Still b's, due as before: once b's lease runs out it is claimable again.
    let again = store
        .claim_effects(claim("c", later + LEASE + 1))
        .await
        .unwrap();
    assert_eq!(again.len(), 1, "the old owner's retry moved nothing");
    store
        .retry_effect(effect.id, "c", later + 10 * LEASE)
        .await
        .unwrap();
    assert!(
        store
            .claim_effects(claim("d", later + 2 * LEASE + 2))
            .await
            .unwrap()
            .is_empty(),
        "the owner's retry moved it"
    );
}

/// Ledger entries move by compare-and-set: a transition from a state the entry has left is
/// refused, so of two nodes settling the same entry only one wins.
pub async fn ledger_transitions_compare_and_set(store: Arc<dyn Store>) {
    let mut sub = subscription("s1", WF);
    store.insert_subscription(sub.clone()).await.unwrap();
    let error = store.insert_subscription(sub.clone()).await.unwrap_err();
    assert!(matches!(error, Error::Conflict(_)), "{error:?}");

    // A transition carries the history entry of the attempt that made it, written with it
    // and only if it applies.
    let attempt = |id: &str| TriggerHistoryRecord {
        trigger: "events".into(),
        kind: "Subscribe".into(),
        ..history(id, T0, None)
    };
    sub.state = SubscriptionState::Active;
    store
        .update_subscription(SubscriptionUpdate {
            history: Some(attempt("h1")),
            ..update(&sub, SubscriptionState::Subscribing, None)
        })
        .await
        .unwrap();
    let mut stale = sub.clone();
    stale.state = SubscriptionState::Failed;
    let error = store
        .update_subscription(SubscriptionUpdate {
            history: Some(attempt("h2")),
            ..update(&stale, SubscriptionState::Subscribing, None)
        })
        .await
        .unwrap_err();
    assert!(matches!(error, Error::Conflict(_)), "{error:?}");
    assert_eq!(store.list_subscriptions(Some(WF)).await.unwrap(), vec![sub]);
    let written = store
        .list_trigger_histories(WF, "events", 10)
        .await
        .unwrap();
    assert_eq!(written, vec![attempt("h1")]);

    let error = store
        .update_subscription(update(
            &subscription("none", WF),
            SubscriptionState::Subscribing,
            None,
        ))
        .await
        .unwrap_err();
    assert!(matches!(error, Error::NotFound(_)), "{error:?}");
}

/// Owed unsubscribes are leased: two nodes never hold the same one, only the holder records
/// its outcome, and an expired lease lets another node take it.
pub async fn owed_unsubscribes_are_leased(store: Arc<dyn Store>) {
    store
        .insert_subscription(owed_unsubscribe("due", T0))
        .await
        .unwrap();
    store
        .insert_subscription(owed_unsubscribe("later", T0 + 100))
        .await
        .unwrap();

    let mut a = store.claim_unsubscribes(claim("a", T0)).await.unwrap();
    assert_eq!(a.len(), 1, "only the due entry");
    assert_eq!(a[0].id, "due");
    assert!(
        store
            .claim_unsubscribes(claim("b", T0 + 100))
            .await
            .unwrap()
            .iter()
            .all(|s| s.id == "later"),
        "a's lease keeps b away from `due`"
    );

    let mut done = a.remove(0);
    done.state = SubscriptionState::Removed;
    let error = store
        .update_subscription(update(&done, SubscriptionState::Unsubscribing, Some("b")))
        .await
        .unwrap_err();
    assert!(matches!(error, Error::Conflict(_)), "{error:?}");

    // a's lease runs out: c takes the entry over, and a can no longer record its outcome.
    let c = store
        .claim_unsubscribes(claim("c", T0 + LEASE + 1))
        .await
        .unwrap();
    assert!(c.iter().any(|s| s.id == "due"), "{c:?}");
    let error = store
        .update_subscription(update(&done, SubscriptionState::Unsubscribing, Some("a")))
        .await
        .unwrap_err();
    assert!(matches!(error, Error::Conflict(_)), "{error:?}");
    store
        .update_subscription(update(&done, SubscriptionState::Unsubscribing, Some("c")))
        .await
        .unwrap();
    let owed: Vec<_> = store
        .list_owed_unsubscribes(10)
        .await
        .unwrap()
        .into_iter()
        .map(|s| s.id)
        .collect();
    assert_eq!(owed, ["later"]);

    // An entry can leave the ledger instead, on the same conditions, with its history entry.
    let mut later = store
        .claim_unsubscribes(claim("d", T0 + 2 * LEASE))
        .await
        .unwrap();
    assert_eq!(later.len(), 1);
    let mut gone = later.remove(0);
    gone.state = SubscriptionState::Removed;
    let removal = |owner: &str| SubscriptionUpdate {
        remove: true,
        history: Some(TriggerHistoryRecord {
            trigger: "events".into(),
            kind: "Unsubscribe".into(),
            ..history(&format!("by-{owner}"), T0, None)
        }),
        ..update(&gone, SubscriptionState::Unsubscribing, Some(owner))
    };
    let error = store.update_subscription(removal("a")).await.unwrap_err();
    assert!(matches!(error, Error::Conflict(_)), "{error:?}");
    store.update_subscription(removal("d")).await.unwrap();
    let left: Vec<_> = store
        .list_subscriptions(Some(WF))
        .await
        .unwrap()
        .into_iter()
        .map(|s| s.id)
        .collect();
    assert_eq!(left, ["due"]);
    let written = store
        .list_trigger_histories(WF, "events", 10)
        .await
        .unwrap();
    let ids: Vec<_> = written.iter().map(|h| h.id.as_str()).collect();
    assert_eq!(ids, ["by-d"]);
    let error = store.update_subscription(removal("d")).await.unwrap_err();
    assert!(matches!(error, Error::NotFound(_)), "{error:?}");
}

pub async fn a_workflow_lock_is_held_until_dropped(store: Arc<dyn Store>) {
    let held = store.lock_workflow(WF).await.unwrap();
    let waiter = {
        let store = store.clone();
        tokio::spawn(async move { store.lock_workflow(WF).await.map(drop) })
    };
    // The waiter cannot finish while the lock is held (however long we look).
    for _ in 0..20 {
        tokio::task::yield_now().await;
    }
    assert!(!waiter.is_finished(), "the lock was taken twice");
    drop(held);
    waiter.await.unwrap().unwrap();
    // Released again by the waiter's drop: it can be taken once more.
    drop(store.lock_workflow(WF).await.unwrap());
}

/// A write that makes work due wakes the loop that carries it out (a wake-up is a permit:
/// it is kept until the loop waits).
pub async fn writes_that_make_work_due_wake_the_loops(store: Arc<dyn Store>) {
    let wake = store.wake_ups();
    seed(&*store).await;
    store.create_run(new_run("r1", T0)).await.unwrap();
    wake.runs.notified().await;

    let claimed = store.claim_runs(claim("a", T0)).await.unwrap();
    let step = StepCommit {
        consumed_events: vec![claimed[0].events[0].id],
        new_effects: vec![NewEffect {
            effect: json_text(&json!({})),
            due_at: T0,
        }],
        subscriptions: vec![subscription("s-r1", WF)],
        ..step("a", 0, "r1")
    };
    store.commit_step(step).await.unwrap();
    wake.effects.notified().await;
    wake.unsubscribes.notified().await;

    store
        .insert_subscription(owed_unsubscribe("owed", T0))
        .await
        .unwrap();
    wake.unsubscribes.notified().await;
}

// --- Helpers ------------------------------------------------------------------------------

fn history(id: &str, now: i64, run_id: Option<&str>) -> TriggerHistoryRecord {
    TriggerHistoryRecord {
        id: id.into(),
        workflow: WF.into(),
        trigger: "manual".into(),
        kind: "Fire".into(),
        status: if run_id.is_some() {
            "Succeeded"
        } else {
            "Skipped"
        }
        .into(),
        start_time: now,
        end_time: now,
        run_id: run_id.map(str::to_owned),
        detail: json!({}),
    }
}

fn update(
    sub: &SubscriptionRecord,
    expected: SubscriptionState,
    owner: Option<&str>,
) -> SubscriptionUpdate {
    SubscriptionUpdate {
        record: sub.clone(),
        expected,
        owner: owner.map(str::to_owned),
        history: None,
        remove: false,
    }
}

fn owed_unsubscribe(id: &str, due: i64) -> SubscriptionRecord {
    SubscriptionRecord {
        state: SubscriptionState::Unsubscribing,
        next_attempt_at: Some(due),
        ..subscription(id, WF)
    }
}

fn subscription(id: &str, workflow: &str) -> SubscriptionRecord {
    SubscriptionRecord {
        id: id.into(),
        workflow: workflow.into(),
        trigger: "events".into(),
        version_id: "v1".into(),
        state: SubscriptionState::Subscribing,
        target: "http://127.0.0.1/subscribe".into(),
        fingerprint: "f1".into(),
        callback_url: "http://127.0.0.1/callback".into(),
        subscribe_response: None,
        unsubscribe: Some(
            json!({ "inputs": { "method": "DELETE", "uri": "http://127.0.0.1/x" }, "parameters": {} }),
        ),
        attempts: 0,
        next_attempt_at: None,
        last_error: None,
        created_at: T0,
        updated_at: T0,
    }
}

async fn ids_of_runs(store: &dyn Store) -> Vec<String> {
    ids(store, query(100, None, None)).await
}

fn document(version_id: &str) -> Value {
    json!({"definition": {"version": version_id}, "parameters": {}})
}

/// A workflow save: backends' own tests use the suite's fixtures too.
pub fn save(
    name: &str,
    version_id: &str,
    now: i64,
    primary: &str,
    secondary: &str,
) -> SaveWorkflow {
    SaveWorkflow {
        name: name.into(),
        version_id: version_id.into(),
        document: document(version_id),
        enabled: true,
        now,
        primary_key: primary.into(),
        secondary_key: secondary.into(),
    }
}

pub async fn a_step_ending_the_run_drops_its_unsent_effects(store: Arc<dyn Store>) {
    seed(&*store).await;
    // One call going out now, one retry due later.
    with_effects(&*store, &[T0, T0 + 5_000]).await;
    let in_flight = store.claim_effects(claim("x", T0)).await.unwrap().remove(0);
    push(&*store, "r1", json!({"cancel": true}), T0 + 1).await;
    let claimed = store.claim_runs(claim("a", T0 + 1)).await.unwrap();
    let cancel = StepCommit {
        consumed_events: vec![claimed[0].events[0].id],
        run: Some(finished(RunStatus::Cancelled, T0 + 1)),
        ..step("a", claimed[0].seq, "r1")
    };
    store.commit_step(cancel).await.unwrap();
    // The retry due later is gone; the call in flight completes (and the run ignores it).
    assert!(
        store
            .claim_effects(claim("y", T0 + 10 * LEASE))
            .await
            .unwrap()
            .iter()
            .all(|e| e.id == in_flight.id),
        "only the call in flight may be left"
    );
    store
        .complete_effect(
            in_flight.id,
            "y",
            NewEvent {
                run_id: "r1".into(),
                event: json_text(&json!({"outcome": 200})),
                due_at: T0 + 2,
            },
            Handoff::default(),
        )
        .await
        .unwrap();
    assert!(
        store
            .claim_effects(claim("z", T0 + 100 * LEASE))
            .await
            .unwrap()
            .is_empty()
    );
}

fn timer(trigger: &str, recurrence: Value, due_at: i64) -> RecurrenceTimer {
    RecurrenceTimer {
        workflow: WF.into(),
        trigger: trigger.into(),
        recurrence,
        anchor: T0,
        due_at,
    }
}

async fn timers(store: &dyn Store) -> Vec<(String, i64)> {
    store
        .list_recurrences(Some(WF))
        .await
        .unwrap()
        .into_iter()
        .map(|t| (t.trigger, t.due_at))
        .collect()
}

pub async fn recurrence_timers_are_kept_replaced_and_deleted(store: Arc<dyn Store>) {
    let every = |n: u32| json!({"frequency": "Minute", "interval": n});
    store
        .set_recurrences(
            WF,
            vec![timer("a", every(1), T0), timer("b", every(2), T0 + 10)],
        )
        .await
        .unwrap();
    assert_eq!(
        timers(&*store).await,
        [("a".to_owned(), T0), ("b".to_owned(), T0 + 10)]
    );
    assert_eq!(store.next_due().await.unwrap(), Some(T0));
    // Unchanged: kept with its due occurrence; changed: rescheduled; missing: deleted.
    store
        .set_recurrences(
            WF,
            vec![
                timer("a", every(1), T0 + 999),
                timer("b", every(3), T0 + 50),
            ],
        )
        .await
        .unwrap();
    assert_eq!(
        timers(&*store).await,
        [("a".to_owned(), T0), ("b".to_owned(), T0 + 50)]
    );
    store
        .set_recurrences(WF, vec![timer("b", every(3), T0 + 50)])
        .await
        .unwrap();
    assert_eq!(timers(&*store).await, [("b".to_owned(), T0 + 50)]);
    store
        .set_recurrences("other", vec![timer("a", every(1), T0)])
        .await
        .unwrap();
    store.set_recurrences(WF, Vec::new()).await.unwrap();
    assert!(timers(&*store).await.is_empty());
    assert_eq!(store.list_recurrences(None).await.unwrap().len(), 1);
}

pub async fn a_recurrence_occurrence_fires_once(store: Arc<dyn Store>) {
    seed(&*store).await;
    let recurrence = json!({"frequency": "Second", "interval": 1});
    store
        .set_recurrences(WF, vec![timer("tick", recurrence, T0)])
        .await
        .unwrap();
    let claim_at = |owner: &str, now: i64| Claim {
        owner: owner.into(),
        now,
        lease_ms: LEASE,
        limit: 10,
    };
    assert!(
        store
            .claim_recurrences(claim_at("a", T0 - 1))
            .await
            .unwrap()
            .is_empty()
    );
    let claimed = store.claim_recurrences(claim_at("a", T0)).await.unwrap();
    assert_eq!(claimed.len(), 1);
    assert_eq!(
        (claimed[0].trigger.as_str(), claimed[0].due_at),
        ("tick", T0)
    );
    assert!(
        store
            .claim_recurrences(claim_at("b", T0))
            .await
            .unwrap()
            .is_empty(),
        "leased"
    );
    let fire = |owner: &str, run_id: &str, next: Option<i64>| RecurrenceFire {
        workflow: WF.into(),
        trigger: "tick".into(),
        occurrence: T0,
        owner: owner.into(),
        fire: Some(Fire {
            runs: vec![new_run(run_id, T0)],
            history: history(&format!("h-{run_id}"), T0, Some(run_id)),
            dedup: None,
        }),
        next,
    };
    assert!(
        !store
            .fire_recurrence(fire("b", "r0", Some(T0 + 1_000)))
            .await
            .unwrap()
    );
    assert!(
        store
            .fire_recurrence(fire("a", "r1", Some(T0 + 1_000)))
            .await
            .unwrap()
    );
    // The same occurrence again (a retry after a lost answer, another node): nothing.
    assert!(
        !store
            .fire_recurrence(fire("a", "r2", Some(T0 + 1_000)))
            .await
            .unwrap()
    );
    assert_eq!(ids_of_runs(&*store).await, ["r1"]);
    assert_eq!(timers(&*store).await, [("tick".to_owned(), T0 + 1_000)]);

    // A node whose lease ran out cannot fire what another node claimed since.
    let late = store
        .claim_recurrences(claim_at("a", T0 + 1_000))
        .await
        .unwrap();
    assert_eq!(late[0].due_at, T0 + 1_000);
    let again = store
        .claim_recurrences(claim_at("c", T0 + 1_000 + LEASE + 1))
        .await
        .unwrap();
    assert_eq!(again.len(), 1);
    let stale = RecurrenceFire {
        occurrence: T0 + 1_000,
        ..fire("a", "r3", Some(T0 + 2_000))
    };
    assert!(!store.fire_recurrence(stale).await.unwrap());
    // A missed occurrence moves the timer without a run; a schedule that ended deletes it.
    let skipped = RecurrenceFire {
        occurrence: T0 + 1_000,
        fire: None,
        ..fire("c", "r4", None)
    };
    assert!(store.fire_recurrence(skipped).await.unwrap());
    assert_eq!(ids_of_runs(&*store).await, ["r1"]);
    assert!(timers(&*store).await.is_empty());

    // Start-up releases timer leases too.
    store
        .set_recurrences(
            WF,
            vec![timer(
                "tick",
                json!({"frequency": "Hour", "interval": 1}),
                T0,
            )],
        )
        .await
        .unwrap();
    assert_eq!(
        store
            .claim_recurrences(claim_at("a", T0))
            .await
            .unwrap()
            .len(),
        1
    );
    store.release_all_leases().await.unwrap();
    assert_eq!(
        store
            .claim_recurrences(claim_at("b", T0))
            .await
            .unwrap()
            .len(),
        1
    );
}

/// Creates the workflow the suite's runs belong to.
async fn seed(store: &dyn Store) {
    store
        .save_workflow(save(WF, "orders-1", T0 - 1_000, "pk", "sk"))
        .await
        .unwrap();
}

fn start_event(run_id: &str) -> Value {
    json!({"start": run_id})
}

/// A new run of the suite's workflow (`seed` creates it), with its start event.
pub fn new_run(id: &str, start_time: i64) -> NewRun {
    NewRun {
        run: RunRecord {
            id: id.into(),
            workflow: WF.into(),
            version_id: "orders-1".into(),
            trigger_name: "manual".into(),
            status: RunStatus::Running,
            start_time,
            end_time: None,
            trigger: json!({"name": "manual", "outputs": {"body": {"id": id}}}).into(),
            outputs: None,
            error: None,
            variables: None,
            seq: 0,
        },
        first_event: json_text(&start_event(id)),
        started: None,
    }
}

/// Creates run `r1` and commits a step (consuming its start event) that leaves one effect
/// per due time, numbered `{"effect": i}` in order.
async fn with_effects(store: &dyn Store, due: &[i64]) {
    store.create_run(new_run("r1", T0)).await.unwrap();
    let claimed = store.claim_runs(claim("setup", T0)).await.unwrap();
    let effects = (0..)
        .zip(due)
        .map(|(i, &due_at)| NewEffect {
            effect: json_text(&json!({"effect": i})),
            due_at,
        })
        .collect();
    let step = StepCommit {
        consumed_events: vec![claimed[0].events[0].id],
        new_effects: effects,
        ..step("setup", 0, "r1")
    };
    store.commit_step(step).await.unwrap();
}

async fn push(store: &dyn Store, run_id: &str, event: Value, due_at: i64) {
    store
        .push_event(NewEvent {
            run_id: run_id.into(),
            event: json_text(&event),
            due_at,
        })
        .await
        .unwrap();
}

fn claim(owner: &str, now: i64) -> Claim {
    Claim {
        owner: owner.into(),
        now,
        lease_ms: LEASE,
        limit: 10,
    }
}

/// An empty step: only bumps `seq` and releases the lease.
fn step(owner: &str, expected_seq: i64, run_id: &str) -> StepCommit {
    StepCommit {
        run_id: run_id.into(),
        owner: owner.into(),
        expected_seq,
        ..StepCommit::default()
    }
}

fn action(name: &str, status: ActionStatus) -> ActionRecord {
    ActionRecord {
        run_id: "r1".into(),
        name: name.into(),
        status,
        code: None,
        start_time: Some(T0),
        end_time: None,
        inputs: Some(json!({"uri": format!("https://example.test/{name}")})),
        outputs: None,
        error: None,
        repetition: String::new(),
    }
}

fn finished(status: RunStatus, end_time: i64) -> RunUpdate {
    RunUpdate {
        status,
        end_time: Some(end_time),
        outputs: Some(json!({"result": status.as_str()})),
        error: (status == RunStatus::Failed).then(|| json!({"code": "ActionFailed"})),
        variables: None,
    }
}

fn query(limit: u32, status: Option<RunStatus>, before: Option<(i64, &str)>) -> RunQuery {
    RunQuery {
        workflow: WF.into(),
        status,
        limit,
        before: before.map(|(time, id)| (time, id.to_owned())),
    }
}

async fn ids(store: &dyn Store, query: RunQuery) -> Vec<String> {
    store
        .list_runs(query)
        .await
        .unwrap()
        .into_iter()
        .map(|run| run.id)
        .collect()
}

async fn names(store: &dyn Store, run_id: &str) -> Vec<String> {
    store
        .list_actions(run_id)
        .await
        .unwrap()
        .into_iter()
        .map(|a| a.name)
        .collect()
}

#[cfg(test)]
mod tests {
    /// Every case is listed in `store_conformance_tests!`: a case missing from the list would
    /// silently never run.
    #[test]
    fn every_case_is_in_the_macro() {
        let source = include_str!("testing.rs");
        let (list, cases) = source.split_once("// --- Workflows").unwrap();
        let names: Vec<_> = cases
            .lines()
            .filter_map(|line| line.strip_prefix("pub async fn "))
            .filter_map(|rest| rest.split_once('('))
            .map(|(name, _)| name)
            .collect();
        assert!(names.len() >= 20, "found only {names:?}");
        let unlisted: Vec<_> = names
            .iter()
            .filter(|name| !list.contains(&format!("            {name},\n")))
            .collect();
        assert!(
            unlisted.is_empty(),
            "missing from store_conformance_tests!: {unlisted:?}"
        );
    }
}

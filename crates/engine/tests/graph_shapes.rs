//! Graph shapes too large to keep as scenario files: a step must cost about the same whatever
//! the shape of the definition (durability.md §7), because definitions come from API users.
//!
//! The definition is built in code, then run like a scenario; each check runs on its own thread
//! with a deadline so that a regression fails instead of hanging the suite.

use hookflow_engine::{
    ActionStatus, Environment, Event, Limits, Plan, RunState, RunStatus, StepContext, step,
};
use hookflow_model::parse_definition;
use serde_json::{Map, json};
use std::sync::mpsc;
use std::time::Duration;

/// `Start` succeeds; then `rungs` diamonds, each two actions that run only after the previous
/// join *failed* and a join after both. Every action after `Start` is skipped, and no branch
/// ended in failure, so the run succeeds. Deciding that walks back through the skipped
/// predecessors of the last join: `2^rungs` paths unless each action is looked at once.
#[test]
fn a_ladder_of_skipped_diamonds_ends_quickly() {
    let rungs = 60;
    let (status, skipped) = within(Duration::from_secs(20), move || run_ladder(rungs));
    assert_eq!(status, RunStatus::Succeeded);
    assert_eq!(skipped, 3 * rungs);
}

fn run_ladder(rungs: usize) -> (RunStatus, usize) {
    let mut actions = Map::new();
    actions.insert(
        "Start".into(),
        json!({ "type": "Compose", "inputs": 0, "runAfter": {} }),
    );
    let mut previous = "Start".to_owned();
    for rung in 1..=rungs {
        let (left, right, join) = (format!("L{rung}"), format!("R{rung}"), format!("J{rung}"));
        for side in [&left, &right] {
            let action =
                json!({ "type": "Compose", "inputs": rung, "runAfter": { &previous: ["Failed"] } });
            actions.insert(side.clone(), action);
        }
        let run_after = json!({ &left: ["Succeeded"], &right: ["Succeeded"] });
        actions.insert(
            join.clone(),
            json!({ "type": "Compose", "inputs": rung, "runAfter": run_after }),
        );
        previous = join;
    }
    let definition = parse_definition(&json!({
        "triggers": { "manual": { "type": "Request", "kind": "Http" } },
        "actions": actions,
    }))
    .expect("valid definition");
    let plan = Plan::new(&definition);
    let parameters = Map::new();
    let ctx = StepContext {
        definition: &definition,
        plan: &plan,
        parameters: &parameters,
        workflow_name: "wf",
        run_id: "run-1",
        now: 1000,
        env: &NoRandom,
        limits: &Limits {
            http_timeout_ms: 120_000,
            webhook_timeout_ms: 3_600_000,
            max_webhook_timeout_ms: 86_400_000,
            max_actions_per_step: u32::MAX,
        },
    };
    let mut state = RunState::new(&definition, json!({ "name": "manual", "outputs": {} }));
    step(&mut state, Event::Start, &ctx);
    let skipped = state
        .actions()
        .filter(|(_, a)| a.status == ActionStatus::Skipped)
        .count();
    (state.status, skipped)
}

/// A Foreach over 100,000 elements (the maximum) whose body is synchronous runs in one step:
/// the step's agenda, not recursion, carries it, so it neither exhausts the stack nor slows
/// down per iteration.
#[test]
fn a_foreach_over_the_maximum_of_items_ends_in_one_step() {
    let (status, rows) = within(Duration::from_secs(60), || {
        let definition = parse_definition(&json!({
            "triggers": { "manual": { "type": "Request", "kind": "Http" } },
            "actions": {
                "Each": {
                    "type": "Foreach",
                    "foreach": "@range(0, 100000)",
                    "actions": { "Double": { "type": "Compose", "inputs": "@mul(item(), 2)", "runAfter": {} } },
                    "runAfter": {}
                },
                "Last": { "type": "Compose", "inputs": "@outputs('Double')", "runAfter": { "Each": ["Succeeded"] } }
            }
        }))
        .expect("valid definition");
        let plan = Plan::new(&definition);
        let parameters = Map::new();
        let ctx = StepContext {
            definition: &definition,
            plan: &plan,
            parameters: &parameters,
            workflow_name: "wf",
            run_id: "run-1",
            now: 1_000,
            env: &NoRandom,
            limits: &Limits {
                http_timeout_ms: 120_000,
                webhook_timeout_ms: 3_600_000,
                max_webhook_timeout_ms: 86_400_000,
                max_actions_per_step: u32::MAX,
            },
        };
        let mut state = RunState::new(&definition, json!({ "name": "manual", "outputs": {} }));
        let transition = step(&mut state, Event::Start, &ctx);
        (state.status, transition.changed_actions.len())
    });
    assert_eq!(status, RunStatus::Succeeded);
    assert_eq!(rows, 100_000 + 2);
}

struct NoRandom;

impl Environment for NoRandom {
    fn random_u128(&self) -> u128 {
        0
    }

    fn action_callback_url(&self, run_id: &str, action: &str) -> String {
        format!("http://engine.test/{run_id}/{action}")
    }
}

/// Runs `f` on its own thread; fails the test if it has not returned after `deadline`.
fn within<T: Send + 'static>(deadline: Duration, f: impl FnOnce() -> T + Send + 'static) -> T {
    let (sender, receiver) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = sender.send(f());
    });
    match receiver.recv_timeout(deadline) {
        Ok(value) => value,
        Err(_) => panic!("did not finish within {deadline:?}"),
    }
}

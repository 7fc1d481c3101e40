//! Data-driven tests of the run state machine: every `tests/scenarios/*.json` is a definition, a
//! trigger and a list of timed events; [`transcript`] applies the events with [`step`] and renders
//! what each one did (effects, webhook waits opened or closed, unsubscribe calls, changed actions,
//! run status), which must match the `.snap` beside
//! the scenario. Run with `UPDATE_SNAPSHOTS=1` to rewrite the snapshots instead of comparing;
//! review the diff, never edit them by hand.
//!
//! A scenario named `err_*` must end with the run Failed; any other must not. Besides the
//! snapshots, every scenario is checked for determinism (two applications give the same
//! transcript) and for what a crash + reload relies on: the rows each transition reports as
//! changed, written to a simulated store and read back with [`RunState::restore`], give the
//! live state after every event, and continuing from the restored state ends where the live
//! run ends.

use hookflow_engine::{
    ActionState, Effect, Environment, Event, Limits, Plan, RunFields, RunState, RunStatus,
    StepContext, Timer, Transition, Unsubscribe, WaitChange, step,
};
use hookflow_model::{Definition, effective_parameters, parse_definition};
use serde_json::{Map, Value};
use std::cell::Cell;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

#[test]
fn scenarios_match_snapshots() {
    let mut failures = Vec::new();
    for file in scenario_files() {
        let scenario = Scenario::load(&file);
        let actual = transcript(&scenario);
        if actual.contains("BUG:") {
            failures.push(format!("{}: unreported changes:\n{actual}", file.display()));
        }
        check_final_status(&file, &scenario, &mut failures);
        check_snapshot(&file, &actual, &mut failures);
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn scenarios_are_deterministic() {
    for file in scenario_files() {
        let scenario = Scenario::load(&file);
        assert_eq!(
            transcript(&scenario),
            transcript(&scenario),
            "{}: two applications of the same events differ",
            file.display()
        );
    }
}

#[test]
fn restoring_from_reported_rows_changes_nothing() {
    for file in scenario_files() {
        let scenario = Scenario::load(&file);
        let name = file.display();
        let (live_final, live_outward) = run_all(&scenario);
        for cut in 0..=scenario.events.len() {
            let env = CountingEnv::default();
            let mut state = scenario.fresh_state();
            let mut store = Store::new(&scenario, &state);
            for (at, event) in &scenario.events[..cut] {
                let transition = step(&mut state, event.clone(), &scenario.ctx(*at, &env));
                store.write(&scenario.definition, &state, &transition);
            }
            let mut restored = store.restore(&scenario.definition);
            assert_eq!(
                restored, state,
                "{name}: after event {cut}, the rows reported as changed do not restore the live state"
            );
            let mut effects = Vec::new();
            for (at, event) in &scenario.events[cut..] {
                let transition = step(&mut restored, event.clone(), &scenario.ctx(*at, &env));
                effects.push(Outward::of(transition));
            }
            assert_eq!(
                restored, live_final,
                "{name}: restored after event {cut} and continued, the run ends elsewhere"
            );
            assert_eq!(
                effects,
                live_outward[cut..],
                "{name}: restored after event {cut} and continued, the effects, waits or unsubscribes differ"
            );
        }
    }
}

/// One scenario file, parsed.
struct Scenario {
    definition: Definition,
    plan: Plan,
    parameters: Map<String, Value>,
    trigger: Value,
    events: Vec<(i64, Event)>,
    limits: Limits,
}

impl Scenario {
    fn load(file: &Path) -> Self {
        let text = std::fs::read_to_string(file).expect("read scenario");
        let value: Value = serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("{}: invalid JSON: {e}", file.display()));
        let definition = parse_definition(&value["definition"]).unwrap_or_else(|diagnostics| {
            panic!("{}: invalid definition:\n{diagnostics:?}", file.display())
        });
        let values = match value.get("parameters") {
            Some(Value::Object(values)) => values.clone(),
            _ => Map::new(),
        };
        let parameters = effective_parameters(&definition, &values);
        let trigger = value.get("trigger").cloned().unwrap_or_else(
            || serde_json::json!({ "name": "manual", "outputs": { "headers": {}, "body": null } }),
        );
        let events = value["events"]
            .as_array()
            .unwrap_or_else(|| panic!("{}: `events` must be an array", file.display()))
            .iter()
            .map(|entry| {
                let at = entry["at"].as_i64().expect("`at`: unix milliseconds");
                let event = serde_json::from_value(entry["event"].clone())
                    .unwrap_or_else(|e| panic!("{}: bad event {entry}: {e}", file.display()));
                (at, event)
            })
            .collect();
        let plan = Plan::new(&definition);
        // `maxActionsPerStep` makes a scenario's steps stop early (and go on with Continue).
        let limits = Limits {
            max_actions_per_step: value["maxActionsPerStep"]
                .as_u64()
                .map_or(LIMITS.max_actions_per_step, |n| n as u32),
            ..LIMITS
        };
        Self {
            definition,
            plan,
            parameters,
            trigger,
            events,
            limits,
        }
    }

    fn fresh_state(&self) -> RunState {
        RunState::new(&self.definition, self.trigger.clone())
    }

    fn ctx<'a>(&'a self, now: i64, env: &'a CountingEnv) -> StepContext<'a> {
        StepContext {
            definition: &self.definition,
            plan: &self.plan,
            parameters: &self.parameters,
            workflow_name: "wf",
            run_id: "run-1",
            now,
            env,
            limits: &self.limits,
        }
    }
}

const LIMITS: Limits = Limits {
    http_timeout_ms: 120_000,
    webhook_timeout_ms: 3_600_000,
    max_webhook_timeout_ms: 86_400_000,
    max_actions_per_step: 1_000,
};

/// Random bits that count up from 1, so `guid()` is different each call yet reproducible.
#[derive(Default)]
struct CountingEnv {
    next: Cell<u128>,
}

impl Environment for CountingEnv {
    fn random_u128(&self) -> u128 {
        self.next.set(self.next.get() + 1);
        self.next.get()
    }

    fn action_callback_url(&self, run_id: &str, action: &str) -> String {
        format!("http://engine.test/workflows/wf/runs/{run_id}/actions/{action}/run?sig=test")
    }
}

/// What one step asks of the outside world: effects, wait changes and unsubscribe calls.
#[derive(Debug, PartialEq)]
struct Outward {
    effects: Vec<Effect>,
    waits: Vec<WaitChange>,
    unsubscribes: Vec<Unsubscribe>,
    timers: Vec<Timer>,
}

impl Outward {
    fn of(transition: Transition) -> Self {
        Self {
            effects: transition.effects,
            waits: transition.waits,
            unsubscribes: transition.unsubscribes,
            timers: transition.timers,
        }
    }
}

/// Applies every event to a fresh run: the final state and what each step asked for.
fn run_all(scenario: &Scenario) -> (RunState, Vec<Outward>) {
    let env = CountingEnv::default();
    let mut state = scenario.fresh_state();
    let outward = scenario
        .events
        .iter()
        .map(|(at, event)| Outward::of(step(&mut state, event.clone(), &scenario.ctx(*at, &env))))
        .collect();
    (state, outward)
}

/// The readable record of a scenario: per event, its effects, the actions it changed and the
/// run's fields when they changed.
fn transcript(scenario: &Scenario) -> String {
    let env = CountingEnv::default();
    let mut state = scenario.fresh_state();
    let mut out = String::new();
    for (index, (at, event)) in scenario.events.iter().enumerate() {
        let event_json = serde_json::to_string(event).expect("events serialize");
        let _ = writeln!(out, "#{} at {at}: {event_json}", index + 1);
        let before = state.clone();
        let transition = step(&mut state, event.clone(), &scenario.ctx(*at, &env));
        render_transition(&mut out, scenario, &before, &state, &transition);
    }
    let _ = writeln!(out, "final: run {}", state.status);
    out
}

fn render_transition(
    out: &mut String,
    scenario: &Scenario,
    before: &RunState,
    after: &RunState,
    transition: &Transition,
) {
    if transition.effects.is_empty()
        && transition.waits.is_empty()
        && transition.unsubscribes.is_empty()
        && transition.changed_actions.is_empty()
        && transition.timers.is_empty()
        && !transition.run_changed
        && !transition.variables_changed
    {
        let _ = writeln!(out, "  (no change)");
    }
    for effect in &transition.effects {
        let _ = writeln!(out, "  effect {}", compact(effect));
    }
    for wait in &transition.waits {
        let _ = match wait {
            WaitChange::Open { action, timeout_at } => {
                writeln!(out, "  wait open {action} timeout_at={timeout_at}")
            }
            WaitChange::Close { action } => writeln!(out, "  wait close {action}"),
        };
    }
    for timer in &transition.timers {
        let _ = writeln!(
            out,
            "  timer due_at={} {}",
            timer.due_at,
            compact(&timer.event)
        );
    }
    for unsubscribe in &transition.unsubscribes {
        let _ = writeln!(
            out,
            "  unsubscribe {} {}",
            unsubscribe.action,
            compact(&unsubscribe.request)
        );
    }
    for key in &transition.changed_actions {
        let name = key.text(&scenario.definition);
        match after.get(key) {
            Some(action) => render_action(out, &name, action),
            None => {
                let _ = writeln!(out, "  action {name}: reported as changed but has no state");
            }
        }
    }
    if transition.variables_changed {
        let _ = writeln!(out, "  variables {}", compact(&after.variables));
    }
    if transition.run_changed {
        let end = after
            .end_time
            .map_or_else(|| "-".to_owned(), |t| t.to_string());
        let _ = writeln!(out, "  run {} end={end}", after.status);
        for (label, value) in [("outputs", &after.outputs), ("error", &after.error)] {
            if let Some(value) = value {
                let _ = writeln!(out, "    {label} {}", compact(value));
            }
        }
    }
    // The store writes only what a transition reports, so an unreported change would be lost.
    for (key, new) in after.actions() {
        if before.get(key) != Some(new) && !transition.changed_actions.contains(key) {
            let name = key.text(&scenario.definition);
            let _ = writeln!(out, "  BUG: action {name} changed without being reported");
        }
    }
    if before.variables != after.variables && !transition.variables_changed {
        let _ = writeln!(out, "  BUG: variables changed without being reported");
    }
    let run_fields = |s: &RunState| (s.status, s.end_time, s.outputs.clone(), s.error.clone());
    if run_fields(before) != run_fields(after) && !transition.run_changed {
        let _ = writeln!(out, "  BUG: run fields changed without being reported");
    }
}

fn render_action(out: &mut String, name: &str, action: &ActionState) {
    let time = |t: Option<i64>| t.map_or_else(|| "-".to_owned(), |t| t.to_string());
    let _ = writeln!(
        out,
        "  action {name}: {} code={} start={} end={}",
        action.status,
        action.code.as_deref().unwrap_or("-"),
        time(action.start_time),
        time(action.end_time),
    );
    for (label, value) in [
        ("inputs", &action.inputs),
        ("outputs", &action.outputs),
        ("error", &action.error),
    ] {
        if let Some(value) = value {
            let _ = writeln!(out, "    {label} {}", compact(value));
        }
    }
}

fn compact(value: &impl serde::Serialize) -> String {
    serde_json::to_string(value).expect("serializable")
}

/// What the runtime's store holds for a run: rows written only when a transition reports them.
struct Store {
    run: RunFields,
    /// By (name, canonical repetition), as the real stores key action rows.
    actions: BTreeMap<(String, String), ActionState>,
}

impl Store {
    fn new(scenario: &Scenario, state: &RunState) -> Self {
        let run = RunFields {
            status: state.status,
            trigger: scenario.trigger.clone().into(),
            end_time: state.end_time,
            outputs: state.outputs.clone(),
            error: state.error.clone(),
            variables: state.variables.clone(),
        };
        Self {
            run,
            actions: BTreeMap::new(),
        }
    }

    fn write(&mut self, definition: &Definition, state: &RunState, transition: &Transition) {
        for key in &transition.changed_actions {
            if let Some(action) = state.get(key) {
                let row = (
                    definition.action(key.id).name.clone(),
                    key.repetition.text(),
                );
                self.actions.insert(row, action.clone());
            }
        }
        if transition.variables_changed {
            self.run.variables = state.variables.clone();
        }
        if transition.run_changed {
            self.run.status = state.status;
            self.run.end_time = state.end_time;
            self.run.outputs = state.outputs.clone();
            self.run.error = state.error.clone();
        }
    }

    fn restore(&self, definition: &Definition) -> RunState {
        let rows = self
            .actions
            .iter()
            .map(|((name, repetition), a)| (name.clone(), repetition.clone(), a.clone()));
        RunState::restore(definition, self.run.clone(), rows)
    }
}

fn check_final_status(file: &Path, scenario: &Scenario, failures: &mut Vec<String>) {
    let (state, _) = run_all(scenario);
    let name = file
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default();
    let failed = state.status == RunStatus::Failed;
    if name.starts_with("err_") != failed {
        failures.push(format!(
            "{}: ends with the run {}; `err_` scenarios (and only they) must end Failed",
            file.display(),
            state.status
        ));
    }
}

/// Compares with (or, under `UPDATE_SNAPSHOTS=1`, writes) the `.snap` beside `file`.
fn check_snapshot(file: &Path, actual: &str, failures: &mut Vec<String>) {
    let snap = file.with_extension("snap");
    if std::env::var_os("UPDATE_SNAPSHOTS").is_some_and(|v| v == "1") {
        std::fs::write(&snap, actual).expect("write .snap");
        return;
    }
    let expected = std::fs::read_to_string(&snap).unwrap_or_default();
    if expected != actual {
        failures.push(format!(
            "{} differs (rerun with UPDATE_SNAPSHOTS=1 to accept):\n--- expected\n{expected}--- actual\n{actual}",
            snap.display()
        ));
    }
}

fn scenario_files() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/scenarios");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
        .map(|entry| entry.expect("directory entry").path())
        .filter(|path| path.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no scenarios in {}", dir.display());
    files
}

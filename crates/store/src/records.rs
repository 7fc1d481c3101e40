//! The records the store keeps, as the runtime reads and writes them.

use hookflow_engine::{ActionStatus, RunStatus};
use serde_json::Value;
use std::sync::Arc;

/// A workflow: its current version and state. The access keys sign callback URLs; they are
/// secrets and never leave the engine.
#[derive(Debug, Clone, PartialEq)]
pub struct WorkflowRecord {
    pub name: String,
    pub enabled: bool,
    /// The version new runs use.
    pub version_id: String,
    pub created_at: i64,
    pub changed_at: i64,
    pub primary_key: String,
    pub secondary_key: String,
}

/// One saved version of a workflow. Immutable: runs point at it.
#[derive(Debug, Clone, PartialEq)]
pub struct VersionRecord {
    pub workflow: String,
    pub version_id: String,
    pub created_at: i64,
    /// The saved document: `{"definition": ..., "parameters": {...}}`.
    pub document: Value,
}

/// Input of [`crate::Store::save_workflow`].
#[derive(Debug, Clone)]
pub struct SaveWorkflow {
    pub name: String,
    pub version_id: String,
    pub document: Value,
    pub enabled: bool,
    pub now: i64,
    /// Used only when the workflow is created.
    pub primary_key: String,
    pub secondary_key: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct SaveOutcome {
    pub created: bool,
    pub workflow: WorkflowRecord,
}

/// A run as history shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct RunRecord {
    pub id: String,
    pub workflow: String,
    pub version_id: String,
    pub trigger_name: String,
    pub status: RunStatus,
    pub start_time: i64,
    pub end_time: Option<i64>,
    /// The trigger object (`{name, inputs, outputs, startTime, ...}`) the run started with.
    pub trigger: Arc<Value>,
    /// The definition's `outputs` section, evaluated when the run ended.
    pub outputs: Option<Value>,
    /// `{code, message}` when the run failed.
    pub error: Option<Value>,
    /// The run's variables (`{name: {type, value}}`) as last written by a step; `None` until
    /// a step initializes one.
    pub variables: Option<Value>,
    /// Bumped by every committed step; fences concurrent writers.
    pub seq: i64,
}

/// One action execution of a run: one per action outside loops, one per (action, iteration)
/// inside Foreach/Until.
#[derive(Debug, Clone, PartialEq)]
pub struct ActionRecord {
    pub run_id: String,
    pub name: String,
    /// Which iteration of the enclosing loops, as canonical text (`hookflow_engine::Repetition`):
    /// `""` outside loops, `"000003"`, `"000001-000004"` nested. Part of the row's key.
    pub repetition: String,
    pub status: ActionStatus,
    /// `OK`, `BadRequest`, `ActionFailed`, `ActionSkipped`, ... (Logic Apps' `code`).
    pub code: Option<String>,
    pub start_time: Option<i64>,
    pub end_time: Option<i64>,
    pub inputs: Option<Value>,
    pub outputs: Option<Value>,
    pub error: Option<Value>,
}

/// Input of [`crate::Store::create_run`] and of a fire: the run (status Running, `seq` 0) and
/// either the first event of its inbox or, when the caller already took the first step, that
/// step — applied in the same transaction as the run's creation (the row written once, as the
/// step leaves it: see [`NewRun::first_fields`]), so the run and its first step cost one
/// commit.
#[derive(Debug, Clone)]
pub struct NewRun {
    pub run: RunRecord,
    pub first_event: JsonText,
    /// The first step, already taken (`expected_seq` 0); `first_event` is then not stored.
    pub started: Option<StepCommit>,
}

/// The fields of a run's row that its steps change, as [`NewRun::first_fields`] gives them.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FirstFields<'a> {
    pub status: RunStatus,
    pub end_time: Option<i64>,
    pub outputs: Option<&'a Value>,
    pub error: Option<&'a Value>,
    pub variables: Option<&'a Value>,
    pub seq: i64,
}

impl NewRun {
    /// The changing fields of the run's row as first written: as its first step left them
    /// when it was taken (`seq` one on), else as created. The row is then written once — its
    /// insert is the step's fence, as a run id is either new or refused.
    pub fn first_fields(&self) -> FirstFields<'_> {
        let run = &self.run;
        let update = self.started.as_ref().and_then(|step| step.run.as_ref());
        FirstFields {
            status: update.map_or(run.status, |u| u.status),
            end_time: update.map_or(run.end_time, |u| u.end_time),
            outputs: update.map_or(run.outputs.as_ref(), |u| u.outputs.as_ref()),
            error: update.map_or(run.error.as_ref(), |u| u.error.as_ref()),
            variables: update
                .and_then(|u| u.variables.as_ref())
                .or(run.variables.as_ref()),
            seq: run.seq + i64::from(self.started.is_some()),
        }
    }
}

/// Filter and page of [`crate::Store::list_runs`].
#[derive(Debug, Clone)]
pub struct RunQuery {
    pub workflow: String,
    pub status: Option<RunStatus>,
    pub limit: u32,
    /// Keyset paging: only runs strictly older than this `(start_time, id)`.
    pub before: Option<(i64, String)>,
}

/// An event to append to a run's inbox, applied no earlier than `due_at` (a timer when in
/// the future).
#[derive(Debug, Clone)]
pub struct NewEvent {
    pub run_id: String,
    /// Serialized where the event is made (see [`ActionWrite`]).
    pub event: JsonText,
    pub due_at: i64,
}

/// An event in a run's inbox.
#[derive(Debug, Clone, PartialEq)]
pub struct InboxEvent {
    pub id: i64,
    pub run_id: String,
    pub event: Value,
    pub due_at: i64,
}

/// An outbound effect to carry out (at least once) and report back as an event.
#[derive(Debug, Clone)]
pub struct NewEffect {
    /// Serialized where the step made it (see [`ActionWrite`]).
    pub effect: JsonText,
    pub due_at: i64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct EffectRecord {
    pub id: i64,
    pub run_id: String,
    pub effect: Value,
    pub due_at: i64,
    /// How many times it was claimed before (0 on the first try): > 0 means a previous
    /// attempt may have gone out (crash or lease expiry).
    pub attempts: u32,
}

/// Parameters of a claim: who claims, when, for how long, how many.
#[derive(Debug, Clone)]
pub struct Claim {
    pub owner: String,
    pub now: i64,
    pub lease_ms: i64,
    pub limit: u32,
}

/// A leased run with its due events, in order.
#[derive(Debug, Clone, PartialEq)]
pub struct ClaimedRun {
    pub run_id: String,
    /// The run's `seq` at claim time; pass it back as [`StepCommit::expected_seq`].
    pub seq: i64,
    pub events: Vec<InboxEvent>,
}

/// JSON serialized once, where it is produced, and written as is.
pub type JsonText = Box<serde_json::value::RawValue>;

/// Serializes `value` for a write.
pub fn json_text<T: serde::Serialize + ?Sized>(value: &T) -> JsonText {
    serde_json::value::to_raw_value(value).expect("JSON values and engine types serialize")
}

/// An action execution as a step writes it: the row of [`ActionRecord`], under the step's run,
/// with its JSON parts serialized from the run's state by the step — not deep-copied into the
/// commit and then serialized by the store, on its single writer.
#[derive(Debug, Clone)]
pub struct ActionWrite {
    pub name: String,
    /// The repetition's canonical text, as in [`ActionRecord::repetition`].
    pub repetition: String,
    pub status: ActionStatus,
    pub code: Option<String>,
    pub start_time: Option<i64>,
    pub end_time: Option<i64>,
    pub inputs: Option<JsonText>,
    pub outputs: Option<JsonText>,
    pub error: Option<JsonText>,
}

impl From<ActionRecord> for ActionWrite {
    /// The write that stores `record` (under its run, which the step names).
    fn from(record: ActionRecord) -> ActionWrite {
        ActionWrite {
            name: record.name,
            repetition: record.repetition,
            status: record.status,
            code: record.code,
            start_time: record.start_time,
            end_time: record.end_time,
            inputs: record.inputs.as_ref().map(json_text),
            outputs: record.outputs.as_ref().map(json_text),
            error: record.error.as_ref().map(json_text),
        }
    }
}

/// Everything one engine step changed, committed atomically by [`crate::Store::commit_step`].
#[derive(Debug, Clone, Default)]
pub struct StepCommit {
    pub run_id: String,
    pub owner: String,
    pub expected_seq: i64,
    /// Inbox events this step applied.
    pub consumed_events: Vec<i64>,
    /// Inserted or replaced by `(run_id, name, repetition)`.
    pub actions: Vec<ActionWrite>,
    pub run: Option<RunUpdate>,
    pub new_events: Vec<NewEvent>,
    pub new_effects: Vec<NewEffect>,
    /// Waits of webhook actions opened or closed by this step.
    pub waits: Vec<WaitWrite>,
    /// Ledger entries to add (unsubscribe calls owed by webhook actions).
    pub subscriptions: Vec<SubscriptionRecord>,
}

/// A change to the wait of a run's webhook action.
#[derive(Debug, Clone, PartialEq)]
pub enum WaitWrite {
    /// The action waits for its callback from `opened_at` until `timeout_at`.
    Open {
        action: String,
        opened_at: i64,
        timeout_at: i64,
    },
    /// The action stopped waiting for another reason (cancelled, subscribe failed); a wait
    /// already resolved stays as it was.
    Close { action: String },
}

/// A callback to a waiting webhook action, for [`crate::Store::accept_callback`].
#[derive(Debug, Clone)]
pub struct CallbackDelivery {
    pub run_id: String,
    pub action: String,
    /// The delivery's `Idempotency-Key` / `webhook-id`, when it has one.
    pub delivery_key: Option<String>,
    /// The event appended to the run's inbox when the callback wins (and its step is not
    /// committed in its place).
    pub event: JsonText,
    pub now: i64,
    /// How the node would take the run on once the callback wins.
    pub handoff: Handoff,
}

/// How the node recording an event for a run (a callback that won its wait, an effect's
/// outcome) would take the run on, best first: by committing the run's next step with the
/// event, or by stepping it at once. Without either, the event waits in the inbox.
#[derive(Debug, Clone, Default)]
pub struct Handoff {
    /// The run's next step, computed ahead from the state this node has cached at
    /// `step.expected_seq`: the event applied alone. Committed *in place of* appending the
    /// event when the run is still at that `seq`, no live lease holds it and no other event
    /// of it is due — the same step a claim would take, without the event's insert, the
    /// claim and a second transaction ([`Delivered::Stepped`]). Otherwise left unused.
    pub step: Option<StepCommit>,
    /// Else lease the run (when no live lease holds it) and return it claimed with its due
    /// events, to step it at once ([`Delivered::Claimed`]).
    pub lease: Option<LeaseRun>,
}

/// What became of an event recorded for a run (see [`Handoff`]).
#[derive(Debug, Clone, PartialEq)]
pub enum Delivered {
    /// The step computed ahead was committed with it: the run moved on.
    Stepped,
    /// Appended, and the run leased to the caller, who must step it.
    Claimed(ClaimedRun),
    /// Appended: a claim will find it.
    Queued,
}

/// Asks a write that gives a run an event to lease the run in the same transaction, when no
/// live lease holds it, and to return it claimed: the node that received the event steps the
/// run at once, without a separate claim (one transaction and one fsync fewer per event).
#[derive(Debug, Clone, PartialEq)]
pub struct LeaseRun {
    pub owner: String,
    pub lease_ms: i64,
}

/// What became of a callback.
#[derive(Debug, Clone, PartialEq)]
pub enum CallbackOutcome {
    /// It resolved the wait; its event went to the run as [`Delivered`] says.
    Accepted(Delivered),
    /// A repeat of the delivery that resolved the wait (same delivery key).
    Repeat,
    /// The wait was resolved before, by `by` (`Callback`, `TimedOut`, `Closed`).
    Refused { by: String },
    /// No such wait.
    NotFound,
}

/// The run fields a step may change.
#[derive(Debug, Clone, PartialEq)]
pub struct RunUpdate {
    pub status: RunStatus,
    pub end_time: Option<i64>,
    pub outputs: Option<Value>,
    pub error: Option<Value>,
    /// `Some`: replace the run's variables (a step that changed one); `None`: keep them.
    pub variables: Option<Value>,
}

/// Where a trigger subscription stands in its lifecycle (the subscription ledger).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SubscriptionState {
    /// The intent is recorded; the subscribe call may or may not have reached the service.
    Subscribing,
    /// The service accepted the subscription; the workflow relies on it.
    Active,
    /// No longer wanted: the unsubscribe call is due (retried until it succeeds).
    Unsubscribing,
    /// Unsubscribed (or never needed an unsubscribe call). Terminal.
    Removed,
    /// The subscribe call failed; nothing to undo. Terminal.
    Failed,
    /// Unsubscribe kept failing and was given up. Terminal.
    Abandoned,
}

impl SubscriptionState {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Subscribing => "Subscribing",
            Self::Active => "Active",
            Self::Unsubscribing => "Unsubscribing",
            Self::Removed => "Removed",
            Self::Failed => "Failed",
            Self::Abandoned => "Abandoned",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        [
            Self::Subscribing,
            Self::Active,
            Self::Unsubscribing,
            Self::Removed,
            Self::Failed,
            Self::Abandoned,
        ]
        .into_iter()
        .find(|s| s.as_str().eq_ignore_ascii_case(text))
    }

    pub fn is_terminal(self) -> bool {
        matches!(self, Self::Removed | Self::Failed | Self::Abandoned)
    }
}

/// One subscription the engine holds (or held) at an external service for a webhook trigger.
/// Written before the subscribe call goes out, so a crash in between is found and reconciled.
#[derive(Debug, Clone, PartialEq)]
pub struct SubscriptionRecord {
    pub id: String,
    pub workflow: String,
    pub trigger: String,
    /// The version whose trigger definition made it (its unsubscribe inputs undo it).
    pub version_id: String,
    pub state: SubscriptionState,
    /// The subscribe call's target (`inputs.subscribe.uri`), for display.
    pub target: String,
    /// Hash of the evaluated subscribe request: equal means a save changed nothing the
    /// subscription depends on.
    pub fingerprint: String,
    /// The callback URL handed to the service.
    pub callback_url: String,
    /// `{statusCode, headers, body}` of the subscribe response, once received.
    pub subscribe_response: Option<Value>,
    /// What undoes it: `{"inputs": <the trigger's unsubscribe inputs as written>,
    /// "parameters": <effective parameter values>}`, evaluated when the unsubscribe is due
    /// (with `action().outputs` = the subscribe response). `None`: no unsubscribe call.
    /// Kept here rather than looked up in a version, because the version of a save that
    /// failed half-way was never stored.
    pub unsubscribe: Option<Value>,
    /// Calls made so far in the current state (subscribe or unsubscribe attempts).
    pub attempts: u32,
    /// When the next unsubscribe attempt is due.
    pub next_attempt_at: Option<i64>,
    pub last_error: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

/// A conditional transition of a ledger entry, for [`crate::Store::update_subscription`].
#[derive(Debug, Clone, PartialEq)]
pub struct SubscriptionUpdate {
    /// The entry as it is to be stored (found by `record.id`).
    pub record: SubscriptionRecord,
    /// The state the caller read it in: the update applies only if it is still there.
    pub expected: SubscriptionState,
    /// The claimant whose lease (from `claim_unsubscribes`) must still hold, if any.
    pub owner: Option<String>,
    /// The history entry of the attempt that made this transition, written with it (and
    /// only if it applies).
    pub history: Option<TriggerHistoryRecord>,
    /// The entry leaves the ledger instead of taking `record`'s state (same conditions): a
    /// webhook action's unsubscribe, done. The ledger then holds what is live or needs an
    /// operator, not one row per action execution ever run.
    pub remove: bool,
}

/// One entry of a trigger's history: a fire (Succeeded with its run, Skipped, Failed) or a
/// subscribe/unsubscribe attempt.
#[derive(Debug, Clone, PartialEq)]
pub struct TriggerHistoryRecord {
    pub id: String,
    pub workflow: String,
    pub trigger: String,
    /// `Fire`, `Subscribe` or `Unsubscribe`.
    pub kind: String,
    /// `Succeeded`, `Skipped` or `Failed`.
    pub status: String,
    pub start_time: i64,
    pub end_time: i64,
    /// The first run a fire started.
    pub run_id: Option<String>,
    /// Everything else worth showing: run ids of a split fire, the service's status and body,
    /// the error.
    pub detail: Value,
}

/// A trigger fire, recorded atomically: its runs (none when skipped), its history entry and,
/// for a delivery carrying an idempotency key, the answer a repeat will get.
#[derive(Debug, Clone)]
pub struct Fire {
    pub runs: Vec<NewRun>,
    pub history: TriggerHistoryRecord,
    pub dedup: Option<DedupKey>,
}

/// Remembers a delivery's key (`Idempotency-Key`, `webhook-id`) with the answer it got.
#[derive(Debug, Clone, PartialEq)]
pub struct DedupKey {
    pub workflow: String,
    pub key: String,
    pub answer: Value,
    /// Until when a repeat is recognised.
    pub expires_at: i64,
}

#[derive(Debug, Clone, PartialEq)]
pub enum FireOutcome {
    Recorded,
    /// The key was seen within its retention window: nothing was written; here is the
    /// first answer.
    Duplicate {
        answer: Value,
    },
}

/// An open wait of a webhook action, as the operator's view lists it.
#[derive(Debug, Clone, PartialEq)]
pub struct WaitRecord {
    pub run_id: String,
    pub workflow: String,
    pub action: String,
    pub opened_at: i64,
    pub timeout_at: i64,
    /// The action's record: its inputs say whether subscribe has answered.
    pub action_inputs: Option<Value>,
}

/// The next occurrence of one Recurrence trigger of an enabled workflow: the trigger's timer,
/// one row per `(workflow, trigger)`, claimed with a lease like any other work.
#[derive(Debug, Clone, PartialEq)]
pub struct RecurrenceTimer {
    pub workflow: String,
    pub trigger: String,
    /// The trigger's `recurrence` object as saved: a save that changes it reschedules, one that
    /// does not keeps the row (and its due occurrence) as it is.
    pub recurrence: Value,
    /// When the schedule was created: its start when the recurrence has no `startTime`.
    pub anchor: i64,
    /// The occurrence the timer waits for.
    pub due_at: i64,
}

/// Input of [`crate::Store::fire_recurrence`]: what became of one occurrence of a claimed
/// timer, and the next one.
#[derive(Debug, Clone)]
pub struct RecurrenceFire {
    pub workflow: String,
    pub trigger: String,
    /// The occurrence handled (the timer's `due_at` when claimed).
    pub occurrence: i64,
    /// Who claimed the timer.
    pub owner: String,
    /// The run(s) and history entry of the fire; `None` for an occurrence that was missed and
    /// is skipped.
    pub fire: Option<Fire>,
    /// The next occurrence; `None` when the schedule ended (the timer is deleted).
    pub next: Option<i64>,
}

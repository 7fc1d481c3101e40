//! Reading run history and cancelling runs.

use crate::{Error, Handle, Result, redact::history_view};
use hookflow_engine::{Event, RunStatus, format_time};
use hookflow_store::{ActionRecord, NewEvent, RunQuery, RunRecord};
use serde_json::{Value, json};

impl Handle {
    /// Runs of `workflow`, newest first.
    pub async fn list_runs(
        &self,
        workflow: &str,
        status: Option<RunStatus>,
        limit: u32,
        before: Option<(i64, String)>,
    ) -> Result<Vec<RunRecord>> {
        self.workflow_exists_or_has_runs(workflow).await?;
        let query = RunQuery {
            workflow: workflow.to_owned(),
            status,
            limit,
            before,
        };
        Ok(self.inner.store.list_runs(query).await?)
    }

    pub async fn get_run(&self, workflow: &str, run_id: &str) -> Result<RunRecord> {
        self.inner
            .store
            .get_run(run_id)
            .await?
            .filter(|run| run.workflow == workflow)
            .ok_or_else(|| Error::NotFound(format!("run '{run_id}' of workflow '{workflow}'")))
    }

    /// Every action record of a run, as history may show them (secrets hidden).
    pub async fn list_actions(&self, workflow: &str, run_id: &str) -> Result<Vec<ActionRecord>> {
        let compiled = self.compiled_of_run(workflow, run_id).await?;
        let records = self.inner.store.list_actions(run_id).await?;
        Ok(records
            .into_iter()
            .map(|r| history_view(&compiled, r))
            .collect())
    }

    /// The compiled version a run executes (history is redacted by its parameters).
    async fn compiled_of_run(
        &self,
        workflow: &str,
        run_id: &str,
    ) -> Result<std::sync::Arc<crate::compiled::Compiled>> {
        let run = self.get_run(workflow, run_id).await?;
        self.compiled(&run.version_id).await
    }

    /// An action's record: the one outside loops, or for an action inside Foreach/Until its
    /// latest repetition with how many there are.
    pub async fn get_action(
        &self,
        workflow: &str,
        run_id: &str,
        action: &str,
    ) -> Result<(ActionRecord, Option<u64>)> {
        let compiled = self.compiled_of_run(workflow, run_id).await?;
        if let Some(record) = self.inner.store.get_action(run_id, action).await? {
            return Ok((history_view(&compiled, record), None));
        }
        let mut repetitions = self.inner.store.list_repetitions(run_id, action).await?;
        let count = repetitions.len() as u64;
        repetitions
            .pop()
            .map(|latest| (history_view(&compiled, latest), Some(count)))
            .ok_or_else(|| Error::NotFound(format!("action '{action}' in run '{run_id}'")))
    }

    /// Every execution of an action, by repetition (one, `""`, for an action outside loops).
    pub async fn list_repetitions(
        &self,
        workflow: &str,
        run_id: &str,
        action: &str,
    ) -> Result<Vec<ActionRecord>> {
        let compiled = self.compiled_of_run(workflow, run_id).await?;
        let repetitions = self.inner.store.list_repetitions(run_id, action).await?;
        if repetitions.is_empty() {
            return Err(Error::NotFound(format!(
                "action '{action}' in run '{run_id}'"
            )));
        }
        Ok(repetitions
            .into_iter()
            .map(|r| history_view(&compiled, r))
            .collect())
    }

    /// Asks the run to stop. The cancel is an inbox event, applied in order with the run's
    /// other events, so it races with nothing.
    pub async fn cancel_run(&self, workflow: &str, run_id: &str) -> Result<()> {
        let run = self.get_run(workflow, run_id).await?;
        if run.status.is_terminal() {
            return Err(Error::Conflict(format!(
                "run '{run_id}' has already ended ({})",
                run.status
            )));
        }
        let event = NewEvent {
            run_id: run_id.to_owned(),
            event: hookflow_store::json_text(&Event::Cancel),
            due_at: self.now(),
        };
        self.inner.store.push_event(event).await?;
        Ok(())
    }

    /// Open waits of webhook actions (of one workflow, or all), oldest first: what the outside
    /// world owes us.
    pub async fn list_waits(&self, workflow: Option<&str>, limit: u32) -> Result<Vec<Value>> {
        let waits = self.inner.store.list_waits(workflow, limit).await?;
        Ok(waits
            .into_iter()
            .map(|wait| {
                let response = wait
                    .action_inputs
                    .as_ref()
                    .and_then(|i| i.get("subscribeResponse"));
                let subscription = match response
                    .and_then(|r| r.get("statusCode"))
                    .and_then(Value::as_u64)
                {
                    None => "Subscribing",
                    Some(200..=299) => "Subscribed",
                    Some(_) => "SubscribeFailed",
                };
                json!({
                    "run": wait.run_id,
                    "workflow": wait.workflow,
                    "action": wait.action,
                    "since": format_time(wait.opened_at),
                    "deadline": format_time(wait.timeout_at),
                    "subscription": subscription,
                })
            })
            .collect())
    }

    /// Cancels every run of `workflow` still running (deleting a workflow cancels its runs).
    pub(crate) async fn cancel_running_runs(&self, workflow: &str) -> Result<()> {
        let mut before = None;
        loop {
            let query = RunQuery {
                workflow: workflow.to_owned(),
                status: Some(RunStatus::Running),
                limit: 500,
                before,
            };
            let runs = self.inner.store.list_runs(query).await?;
            for run in &runs {
                let event = NewEvent {
                    run_id: run.id.clone(),
                    event: hookflow_store::json_text(&Event::Cancel),
                    due_at: self.now(),
                };
                self.inner.store.push_event(event).await?;
            }
            match runs.last() {
                Some(last) if runs.len() == 500 => {
                    before = Some((last.start_time, last.id.clone()))
                }
                _ => break,
            }
        }
        Ok(())
    }

    /// Run history outlives a deleted workflow, so listing runs only needs one of the two.
    async fn workflow_exists_or_has_runs(&self, workflow: &str) -> Result<()> {
        if self.inner.store.get_workflow(workflow).await?.is_some() {
            return Ok(());
        }
        let probe = RunQuery {
            workflow: workflow.to_owned(),
            status: None,
            limit: 1,
            before: None,
        };
        if self.inner.store.list_runs(probe).await?.is_empty() {
            return Err(Error::NotFound(format!("workflow '{workflow}'")));
        }
        Ok(())
    }
}

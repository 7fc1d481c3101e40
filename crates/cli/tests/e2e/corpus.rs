//! The conformance corpus (`shared/conformance/definitions`, beside the repository) run end to
//! end: every file that needs only local HTTP services is applied as a workflow, with its URLs
//! pointed at a local stub, fired, and checked against the status and outputs Azure Logic Apps
//! would give (logicapps-spec.md). One table row per file.
//!
//! Where hookflow's result differs from Logic Apps', the row keeps the Logic Apps expectation
//! and the file is listed in `corpus-known-gaps.txt` (`file: reason`). The test fails when a
//! row that is not listed fails, and when a listed row passes, so the list stays accurate.

use crate::support::{Engine, Received, Service, status_json};
use futures_util::future::join_all;
use serde_json::{Value, json};
use std::{
    collections::BTreeMap,
    path::PathBuf,
    time::{Duration, Instant},
};

const KNOWN_GAPS: &str = include_str!("corpus-known-gaps.txt");

/// How a row's run is started.
enum Fire {
    /// A Request trigger: its `listCallbackUrl`, plus a relative path, called with `method`,
    /// `headers` and a JSON body.
    Request {
        method: &'static str,
        relative_path: &'static str,
        headers: Vec<(&'static str, &'static str)>,
        body: Value,
    },
    /// An HttpWebhook trigger: saving the workflow subscribes at `subscribe` (a stub path); the
    /// test, as the subscribed service, posts `body` to the callback URL it was given.
    Webhook {
        subscribe: &'static str,
        callback_field: &'static str,
        body: Value,
    },
    /// A Recurrence trigger, fired at once with "Run trigger" (`POST .../triggers/{t}/run`)
    /// rather than waiting for its schedule.
    Recurrence,
    /// Not run, with the reason.
    Skip(&'static str),
}

/// One expectation on a finished (or, for `Running`, a waiting) run.
enum Check {
    /// Status code of the trigger call's HTTP response.
    ResponseStatus(u16),
    /// A JSON pointer into the trigger call's response body.
    ResponseBody(&'static str, Value),
    /// A response header of the trigger call.
    ResponseHeader(&'static str, &'static str),
    /// A JSON pointer into the run (`GET .../runs/{id}`).
    Run(&'static str, Value),
    /// An action's status.
    Action(&'static str, &'static str),
    /// A JSON pointer into an action's record (`GET .../runs/{id}/actions`).
    ActionField(&'static str, &'static str, Value),
    /// How many requests the stub got with this method on this path (below the row's prefix).
    Calls(&'static str, &'static str, usize),
    /// A JSON pointer into the body of the first request the stub got on this path.
    CallBody(&'static str, &'static str, Value),
    /// A header of the first request the stub got on this path.
    CallHeader(&'static str, &'static str, &'static str),
}

struct Row {
    file: &'static str,
    fire: Fire,
    /// The run's final status in Logic Apps (`Running`: still waiting after a pause).
    status: &'static str,
    checks: Vec<Check>,
}

fn request(body: Value) -> Fire {
    Fire::Request {
        method: "POST",
        relative_path: "",
        headers: vec![],
        body,
    }
}

fn rows() -> Vec<Row> {
    use Check::*;
    vec![
        Row {
            file: "01-stateful1-httpwebhook-switch-until.json",
            fire: request(json!({})),
            // The Switch matches no case (str is "" or "xxx"); whatever its default HTTP
            // does, Ifff runs after it and Terminate_1 ends the run Failed with its runError.
            status: "Failed",
            checks: vec![
                ResponseStatus(200),
                ResponseHeader("header1", "value1"),
                ResponseBody("/not interpolated", json!(" @outputs('Compose')")),
                Run("/error/code", json!("afawef")),
                Run("/error/message", json!("fareoiugoareu")),
                Action("Compose_1", "Succeeded"),
                ActionField("Compose", "/outputs", json!(["xx"])),
            ],
        },
        Row {
            file: "03-wvd-autoscale-recurrence-webhook.json",
            fire: Fire::Recurrence,
            // The runbook (the stub) never calls back: the webhook action, and the run, wait.
            // Two subscribe calls: saving starts the schedule, whose first occurrence (no
            // startTime) is at once, and "Run trigger" fires once more.
            status: "Running",
            checks: vec![
                Calls("POST", "/runbook-webhook", 2),
                Run("/trigger/inputs/frequency", json!("Minute")),
            ],
        },
        Row {
            file: "05-docs-pubsubhubbub-webhook-trigger.json",
            fire: Fire::Webhook {
                subscribe: "/subscribe",
                callback_field: "hub.callback",
                body: json!({ "article": "technology-1" }),
            },
            status: "Succeeded",
            checks: vec![
                CallBody("/subscribe", "/hub.mode", json!("subscribe")),
                Run(
                    "/trigger/outputs/body",
                    json!({ "article": "technology-1" }),
                ),
            ],
        },
        Row {
            file: "06-lint-httpwebhook-action-unsubscribe-url.json",
            fire: request(json!({})),
            // The subscribe call carries no callback URL, so nothing can call back: the
            // action (and the run) waits.
            status: "Running",
            checks: vec![Calls("POST", "/sub", 1), Calls("POST", "/unsub", 0)],
        },
        Row {
            file: "07-quickstart-logic-app-create.json",
            fire: Fire::Recurrence,
            status: "Succeeded",
            // Two runs: the schedule's first occurrence (at once) and "Run trigger".
            checks: vec![
                Action("actionType", "Succeeded"),
                Calls("GET", "/status/", 2),
            ],
        },
        Row {
            file: "08-scheduler-run-once-http.json",
            fire: request(json!({ "startTime": "2000-01-01T00:00:00Z" })),
            status: "Succeeded",
            checks: vec![
                Action("Delay_until", "Succeeded"),
                Action("Call_HTTP", "Succeeded"),
                Action("Primary_actions", "Succeeded"),
                Action("Error_actions", "Skipped"),
                Calls("POST", "/run-once-job", 1),
                Calls("POST", "/run-once-job-failed", 0),
            ],
        },
        Row {
            file: "09-monitoring-view-conditional.json",
            fire: Fire::Skip("its first action is a 10-minute Wait: too long for this test"),
            status: "",
            checks: vec![],
        },
        Row {
            file: "10-logicappunit-loop.json",
            fire: request(json!({ "numberOfIterations": 2 })),
            status: "Succeeded",
            checks: vec![
                ResponseStatus(200),
                ResponseBody("/loopCounter", json!(2)),
                ResponseBody("/serviceOneResponses/0/got/iterationNumber", json!(1)),
                ResponseBody("/serviceOneResponses/1/got/iterationNumber", json!(2)),
                ResponseBody("/serviceTwoResponses/1/got/got/iterationNumber", json!(2)),
                Calls("POST", "/api/v1/doSomethingInsideUntilLoop", 2),
                Calls("POST", "/api/v1.1/doSomethingInsideForEachLoop", 2),
            ],
        },
        Row {
            file: "11-purchase-order.json",
            fire: request(
                json!({ "OrderNumber": 7, "Product": "SKU101", "Quantity": 10, "Address": { "City": "Oslo" } }),
            ),
            status: "Succeeded",
            checks: vec![
                ResponseStatus(200),
                ActionField("ApprovedPO", "/outputs/POamount", json!(200)),
                ActionField("ApprovedPO", "/outputs/ApproverName", json!("pariksg")),
                ActionField("ApprovedPO", "/outputs/ApprovalStatus", json!("Approve")),
                Action("Low_Priority", "Succeeded"),
                Action("Response", "Succeeded"),
            ],
        },
        Row {
            file: "12-logicappunit-http.json",
            fire: Fire::Request {
                method: "POST",
                relative_path: "",
                headers: vec![("x-api-key", "serviceone-auth-webhook-apikey")],
                body: json!({ "customerId": 54624, "id": "msg-1", "correlationId": "corr-1", "timestamp": "2022-08-27T08:45:00.1493711Z" }),
            },
            // With the app setting ServiceTwo-DefaultAddressType configured ("business").
            status: "Succeeded",
            checks: vec![
                ResponseStatus(200),
                ResponseBody("", json!("Webhook processed successfully")),
                CallHeader(
                    "/api/v1/customers/54624",
                    "x-api-key",
                    "ApiKey serviceone-auth-apikey",
                ),
                CallBody(
                    "/api/v1.1/membership/customers/54624",
                    "/addresses/0/addressType",
                    json!("business"),
                ),
            ],
        },
        Row {
            file: "13-variables-all-ops.json",
            fire: request(json!({})),
            status: "Succeeded",
            checks: vec![
                Calls("POST", "/request", 2),
                Calls("GET", "/request", 1),
                Calls("POST", "", 29),
                Calls("GET", "", 1),
                Action("Decrement_variable2", "Succeeded"),
            ],
        },
        Row {
            file: "14-nested-loops-and-do-until.json",
            fire: Fire::Recurrence,
            status: "Succeeded",
            checks: vec![Action("Try", "Succeeded"), Action("Catch", "Skipped")],
        },
        Row {
            file: "15-sample-test-http-action.json",
            fire: request(json!({})),
            // With the app setting httpuri pointing at the stub.
            status: "Succeeded",
            checks: vec![
                ResponseStatus(200),
                ResponseBody("/method", json!("GET")),
                Calls("GET", "/httpuri", 1),
            ],
        },
        Row {
            file: "16-shipping-switch-wait.json",
            fire: request(json!({ "OrderNumber": 42, "Priority": 1 })),
            status: "Succeeded",
            checks: vec![
                ResponseStatus(200),
                Action("Express_Shipping", "Succeeded"),
                ActionField("Delivered", "/outputs", json!(42)),
            ],
        },
        Row {
            file: "17-logicappunit-http-async.json",
            fire: request(
                json!({ "customerId": 54624, "id": "msg-1", "correlationId": "corr-1", "timestamp": "2022-08-27T08:45:00.1493711Z" }),
            ),
            // With the app setting ServiceTwo-DefaultAddressType configured ("business").
            status: "Succeeded",
            checks: vec![
                Action("Success_Response_(Async)", "Succeeded"),
                Action("Parse_Customer", "Succeeded"),
                Action("Update_Customer_Details_in_Service_Two", "Succeeded"),
                CallBody(
                    "/api/v1.1/membership/customers/54624",
                    "/addresses/0/addressType",
                    json!("business"),
                ),
            ],
        },
        Row {
            file: "18-condition-case-insensitive.json",
            fire: request(json!({})),
            status: "Succeeded",
            checks: vec![ResponseStatus(200), ResponseBody("", json!("yippee"))],
        },
        Row {
            file: "19-http-trigger-foreach.json",
            fire: request(json!({})),
            status: "Succeeded",
            checks: vec![
                Calls("POST", "/request", 3),
                Calls("GET", "/request", 1),
                Action("After_foreach_action", "Succeeded"),
            ],
        },
        Row {
            file: "20-dapr-sample-http-chain.json",
            fire: request(json!({})),
            status: "Succeeded",
            checks: vec![
                ResponseStatus(200),
                ResponseBody("/value/path", json!("/c20/api/HttpTrigger1")),
                CallBody("/v1.0/state/statestore", "/0/value/method", json!("GET")),
                Calls("POST", "/v1.0/bindings/servicebus", 1),
            ],
        },
        Row {
            file: "21-logicappunit-http-chunking.json",
            fire: Fire::Recurrence,
            status: "Succeeded",
            checks: vec![
                Action("Get_Action", "Succeeded"),
                Action("Post_Action", "Succeeded"),
            ],
        },
        Row {
            file: "22-http-variable-types.json",
            fire: request(json!({})),
            status: "Succeeded",
            checks: vec![
                Action("Initialize-String-Null-Expression", "Succeeded"),
                Action("HTTP", "Succeeded"),
                Calls("GET", "/_vti_bin/DN/DataService.svc/CurrencyRatesXML", 1),
            ],
        },
        Row {
            file: "23-simple-foreach.json",
            fire: request(json!([[1, 2], [3]])),
            status: "Succeeded",
            checks: vec![ResponseStatus(200), ResponseBody("", json!(10))],
        },
        Row {
            file: "24-wait-async-response.json",
            fire: request(json!({})),
            // The Wait count is the unreplaced placeholder "{{WaitTimeInSecondsPlaceHolder}}":
            // not an integer, so the Wait fails and the Response never runs.
            status: "Failed",
            checks: vec![Action("Delay", "Failed"), Action("Response", "Skipped")],
        },
        Row {
            file: "25-http-if-increment.json",
            fire: request(json!({})),
            status: "Succeeded",
            checks: vec![
                Calls("POST", "/request", 1),
                Calls("GET", "/request", 1),
                Action("Inside_if_if", "Succeeded"),
                Action("After_if_action", "Succeeded"),
            ],
        },
        Row {
            file: "26-simple-scoped.json",
            fire: request(json!({})),
            status: "Succeeded",
            checks: vec![ResponseStatus(200), ResponseBody("", json!(4))],
        },
        Row {
            file: "27-request-relative-path.json",
            fire: Fire::Request {
                method: "PUT",
                relative_path: "boom/1/pow/two",
                headers: vec![("x-correlation-id", "corr-27")],
                body: json!({ "k": "v" }),
            },
            status: "Succeeded",
            checks: vec![
                ResponseStatus(200),
                ResponseBody(
                    "/outputs/relativePathParameters",
                    json!({ "bang": "1", "whack": "two" }),
                ),
                ResponseBody("/outputs/body", json!({ "k": "v" })),
                ResponseBody("/clientTrackingId", json!("corr-27")),
            ],
        },
        Row {
            file: "28-nested-conditions.json",
            fire: request(json!({})),
            status: "Succeeded",
            checks: vec![
                ResponseStatus(200),
                Action("Condition_10", "Succeeded"),
                Action("Condition_1", "Succeeded"),
            ],
        },
        Row {
            file: "29-http-hello-world.json",
            fire: request(json!({ "phone": "+358 1", "address": { "country": "Finland" } })),
            status: "Succeeded",
            checks: vec![
                ResponseStatus(200),
                ResponseBody("", json!({ "phone": "+358 1" })),
            ],
        },
        Row {
            file: "30-template-try-catch.json",
            fire: request(json!({})),
            status: "Succeeded",
            checks: vec![
                Action("Business_Logic", "Succeeded"),
                Action("Try", "Succeeded"),
                Action("Catch", "Skipped"),
            ],
        },
        Row {
            file: "31-dapr-sample-lowercase-compose.json",
            fire: request(json!({})),
            status: "Succeeded",
            checks: vec![
                ResponseStatus(200),
                ResponseBody(
                    "/value",
                    json!("Hello from Logic App workflow running with Dapr!"),
                ),
            ],
        },
        Row {
            file: "32-unicode-keys.json",
            fire: Fire::Skip(
                "polling Http trigger: its recurrence is validated, but polling is not run yet",
            ),
            status: "",
            checks: vec![],
        },
        Row {
            file: "33-foreach-append-string.json",
            fire: request(json!({})),
            status: "Succeeded",
            checks: vec![ResponseStatus(200), ResponseBody("", json!("\"a\"b"))],
        },
        Row {
            file: "34-loops-pager-until.json",
            fire: request(json!({})),
            status: "Succeeded",
            checks: vec![
                Action("Until", "Succeeded"),
                ActionField("Increment_variable", "/repetitionCount", json!(9)),
            ],
        },
        Row {
            file: "35-condition-nested-without-array.json",
            fire: request(json!({})),
            status: "Succeeded",
            checks: vec![ResponseStatus(200), ResponseBody("", json!("yippee"))],
        },
        Row {
            file: "36-multi-variable-query.json",
            fire: request(json!({})),
            status: "Succeeded",
            checks: vec![
                ActionField("Filter_array", "/outputs/body", json!([])),
                Action("Initialize_variables_5", "Succeeded"),
            ],
        },
        Row {
            file: "37-long-running-po.json",
            fire: request(json!({ "OrderNumber": "PO-1", "Product": "SKU101", "Quantity": 2 })),
            // 40 is not above 100: Response_2 (400), then Terminate Succeeded.
            status: "Succeeded",
            checks: vec![
                ResponseStatus(400),
                Action("Response_2", "Succeeded"),
                Action("OrderDenied", "Succeeded"),
            ],
        },
        Row {
            file: "38-condition-operation.json",
            fire: request(json!({})),
            // xml('foobar'): not XML, so the condition's expression fails.
            status: "Failed",
            checks: vec![
                Action("Compose", "Succeeded"),
                Action("Condition", "Failed"),
            ],
        },
        Row {
            file: "39-logicappunit-fluent.json",
            fire: request(json!({ "name": "fluent" })),
            status: "Succeeded",
            checks: vec![
                ResponseStatus(200),
                ResponseBody("/got", json!({ "name": "fluent" })),
                ResponseBody(
                    "/path",
                    json!(
                        "/c39/api/v1/service?one=oneValue&two=twoValue&three=&four=fourValue&five=55555"
                    ),
                ),
                CallHeader("/api/v1/service", "MyCustomHeader", "MyValue"),
                Action("Response_Failure", "Skipped"),
            ],
        },
        Row {
            file: "40-conditionals-recurrence.json",
            fire: Fire::Recurrence,
            // goalOwner is null, so the first `or` operand holds: Terminate (Succeeded).
            status: "Succeeded",
            checks: vec![
                Action("Terminate", "Succeeded"),
                Action("Terminate_2", "Skipped"),
            ],
        },
    ]
}

/// `c01` for `01-...json`: the workflow's name and its URLs' path prefix on the stub.
fn short_name(file: &str) -> String {
    format!("c{}", &file[..2])
}

/// Replaces the scheme and host of every absolute URL in `text` (but the `$schema`) with
/// `base`, keeping paths and queries.
fn rewrite_urls(text: &str, base: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find("http") {
        out.push_str(&rest[..at]);
        let tail = &rest[at..];
        let scheme = ["https://", "http://"]
            .into_iter()
            .find(|scheme| tail.starts_with(scheme));
        let Some(scheme) = scheme else {
            out.push_str("http");
            rest = &tail[4..];
            continue;
        };
        let host_len = tail[scheme.len()..]
            .find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':')))
            .unwrap_or(tail.len() - scheme.len());
        let host = &tail[scheme.len()..scheme.len() + host_len];
        if host == "schema.management.azure.com" {
            out.push_str(&tail[..scheme.len() + host_len]);
        } else {
            out.push_str(base);
        }
        rest = &tail[scheme.len() + host_len..];
    }
    out.push_str(rest);
    out
}

struct Outcome {
    response: Option<(u16, reqwest::header::HeaderMap, Value)>,
    run: Value,
    actions: Vec<Value>,
    received: Vec<Received>,
}

fn pointer<'a>(value: &'a Value, pointer: &str) -> &'a Value {
    value.pointer(pointer).unwrap_or(&Value::Null)
}

/// The mismatches between the outcome and the row's expectations.
fn mismatches(row: &Row, prefix: &str, outcome: &Outcome) -> Vec<String> {
    let mut wrong = vec![];
    if outcome.run["status"] != row.status {
        wrong.push(format!(
            "run status {} (want {}), error {}",
            outcome.run["status"], row.status, outcome.run["error"]
        ));
    }
    let action = |name: &str| {
        outcome
            .actions
            .iter()
            .find(|a| a["name"] == name)
            .cloned()
            .unwrap_or(Value::Null)
    };
    let calls = |method: &str, path: &str| -> Vec<&Received> {
        let full = format!("{prefix}{path}");
        outcome
            .received
            .iter()
            .filter(|r| r.path == full && (method.is_empty() || r.method == method))
            .collect()
    };
    for check in &row.checks {
        let problem = match check {
            Check::ResponseStatus(want) => match &outcome.response {
                Some((status, _, _)) if status == want => None,
                other => Some(format!(
                    "response status {:?} (want {want})",
                    other.as_ref().map(|r| r.0)
                )),
            },
            Check::ResponseBody(at, want) => {
                let body = outcome
                    .response
                    .as_ref()
                    .map(|r| &r.2)
                    .unwrap_or(&Value::Null);
                let got = pointer(body, at);
                (got != want).then(|| format!("response body {at:?} = {got} (want {want})"))
            }
            Check::ResponseHeader(name, want) => {
                let got = outcome
                    .response
                    .as_ref()
                    .and_then(|r| r.1.get(*name))
                    .and_then(|v| v.to_str().ok());
                (got != Some(want))
                    .then(|| format!("response header {name} = {got:?} (want {want})"))
            }
            Check::Run(at, want) => {
                let got = pointer(&outcome.run, at);
                (got != want).then(|| format!("run {at:?} = {got} (want {want})"))
            }
            Check::Action(name, want) => {
                let got = &action(name)["status"];
                (got != want).then(|| format!("action {name} status {got} (want {want})"))
            }
            Check::ActionField(name, at, want) => {
                let record = action(name);
                let got = pointer(&record, at);
                (got != want).then(|| format!("action {name} {at:?} = {got} (want {want})"))
            }
            Check::Calls(method, path, want) => {
                let got = calls(method, path).len();
                (got != *want).then(|| format!("{got} {method} calls on {path:?} (want {want})"))
            }
            Check::CallBody(path, at, want) => {
                let got = calls("", path)
                    .first()
                    .map(|r| pointer(&r.body, at).clone())
                    .unwrap_or(Value::Null);
                (got != *want).then(|| format!("call {path:?} body {at:?} = {got} (want {want})"))
            }
            Check::CallHeader(path, name, want) => {
                let got = calls("", path)
                    .first()
                    .and_then(|r| r.headers.get(*name).cloned());
                let got = got.as_ref().and_then(|v| v.to_str().ok());
                (got != Some(want))
                    .then(|| format!("call {path:?} header {name} = {got:?} (want {want})"))
            }
        };
        wrong.extend(problem);
    }
    wrong
}

fn corpus_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/conformance/definitions")
}

/// Runs one row; `Err` when it could not even be started.
async fn run_row(engine: &Engine, service: &Service, row: &Row) -> Result<Outcome, String> {
    let name = short_name(row.file);
    let prefix = format!("/{name}");
    let text = std::fs::read_to_string(corpus_dir().join(row.file)).map_err(|e| e.to_string())?;
    let file: Value = serde_json::from_str(&text).map_err(|e| e.to_string())?;
    let definition = serde_json::to_string(&file["definition"]).unwrap();
    let definition: Value = serde_json::from_str(&rewrite_urls(
        &definition,
        &format!("{}{prefix}", service.base),
    ))
    .unwrap();
    let (status, saved) = engine
        .put_workflow(
            &name,
            &json!({ "definition": definition, "parameters": {} }),
        )
        .await;
    if status != 200 && status != 201 {
        return Err(format!("PUT answered {status}: {saved}"));
    }
    let trigger = definition["triggers"]
        .as_object()
        .and_then(|t| t.keys().next().cloned())
        .unwrap_or_default();
    let (response, run_id) = match &row.fire {
        Fire::Skip(_) => unreachable!(),
        Fire::Request {
            method,
            relative_path,
            headers,
            body,
        } => {
            let (status, callback) = engine
                .post(
                    &format!("/api/workflows/{name}/triggers/{trigger}/listCallbackUrl"),
                    json!({}),
                )
                .await;
            if status != 200 {
                return Err(format!("listCallbackUrl answered {status}: {callback}"));
            }
            let mut url = callback["value"].as_str().unwrap_or_default().to_owned();
            if !relative_path.is_empty() {
                let query = url
                    .split_once('?')
                    .map(|(_, q)| q.to_owned())
                    .unwrap_or_default();
                let base = callback["basePath"].as_str().unwrap_or_default();
                url = format!("{}/{relative_path}?{query}", base.trim_end_matches('/'));
            }
            let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
            let mut request = engine.client.request(method, &url).json(body);
            for (header, value) in headers {
                request = request.header(*header, *value);
            }
            let response = request.send().await.map_err(|e| e.to_string())?;
            let run_id = response
                .headers()
                .get("x-ms-workflow-run-id")
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned);
            let headers = response.headers().clone();
            let (status, body) = status_json(response).await;
            (Some((status, headers, body)), run_id)
        }
        Fire::Recurrence => {
            let (status, body) = engine
                .post(
                    &format!("/api/workflows/{name}/triggers/{trigger}/run"),
                    json!({}),
                )
                .await;
            if status != 202 {
                return Err(format!("run trigger answered {status}: {body}"));
            }
            (None, body["runId"].as_str().map(str::to_owned))
        }
        Fire::Webhook {
            subscribe,
            callback_field,
            body,
        } => {
            let path = format!("{prefix}{subscribe}");
            let subscribed = service.wait_for(&path, 1).await;
            let callback = subscribed[0].body[*callback_field]
                .as_str()
                .ok_or_else(|| format!("no {callback_field} in {:?}", subscribed[0].body))?
                .to_owned();
            let response = engine
                .client
                .post(&callback)
                .json(body)
                .send()
                .await
                .map_err(|e| e.to_string())?;
            let run_id = response
                .headers()
                .get("x-ms-workflow-run-id")
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned);
            let (status, answer) = status_json(response).await;
            if !(200..300).contains(&status) {
                return Err(format!("callback answered {status}: {answer}"));
            }
            (None, run_id)
        }
    };
    let run_id = match run_id {
        Some(id) => id,
        None => {
            let (_, runs) = engine.get(&format!("/api/workflows/{name}/runs")).await;
            runs["value"][0]["name"]
                .as_str()
                .ok_or_else(|| format!("no run of {name}: {runs}"))?
                .to_owned()
        }
    };
    let run = if row.status == "Running" {
        tokio::time::sleep(Duration::from_millis(1500)).await;
        engine
            .get(&format!("/api/workflows/{name}/runs/{run_id}"))
            .await
            .1
    } else {
        wait_until_ended(engine, &name, &run_id).await
    };
    let actions = engine.actions(&name, &run_id).await;
    // Calls another run makes (a Recurrence's first occurrence, fired at save) may land after
    // this run ended: await the expected count (more is still caught by the check).
    for check in row
        .checks
        .iter()
        .filter(|_| matches!(row.fire, Fire::Recurrence))
    {
        if let Check::Calls(method, path, want) = check {
            let full = format!("{prefix}{path}");
            let matches =
                |r: &Received| r.path == full && (method.is_empty() || r.method == *method);
            service.wait_for_matching(&full, matches, *want).await;
        }
    }
    let received = service
        .received()
        .into_iter()
        .filter(|r| r.path == prefix || r.path.starts_with(&format!("{prefix}/")))
        .collect();
    Ok(Outcome {
        response,
        run,
        actions,
        received,
    })
}

/// The run once it has ended, or as it is when the deadline passes.
async fn wait_until_ended(engine: &Engine, workflow: &str, run_id: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(25);
    loop {
        let (_, run) = engine
            .get(&format!("/api/workflows/{workflow}/runs/{run_id}"))
            .await;
        if run["status"] != "Running" || Instant::now() > deadline {
            return run;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// `file: reason` lines of the known-gaps file.
fn known_gaps() -> BTreeMap<String, String> {
    KNOWN_GAPS
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .map(|line| {
            let (file, reason) = line
                .split_once(':')
                .unwrap_or_else(|| panic!("known gap without a reason: {line}"));
            (file.trim().to_owned(), reason.trim().to_owned())
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_runnable_corpus_file_ends_as_logic_apps_would() {
    let rows = rows();
    // One row per corpus file, no more, no less.
    let mut files: Vec<String> = std::fs::read_dir(corpus_dir())
        .expect("the corpus beside the repository")
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".json"))
        .collect();
    files.sort();
    let listed: Vec<String> = rows.iter().map(|row| row.file.to_owned()).collect();
    assert_eq!(listed, files, "one row per corpus file, in order");
    let gaps = known_gaps();
    for file in gaps.keys() {
        assert!(
            rows.iter()
                .any(|row| row.file == file && !matches!(row.fire, Fire::Skip(_))),
            "known gap {file} is not a run row"
        );
    }

    let dir = tempfile::tempdir().unwrap();
    let service = Service::start().await;
    let engine = Engine::start(&dir);
    let runnable: Vec<&Row> = rows
        .iter()
        .filter(|row| !matches!(row.fire, Fire::Skip(_)))
        .collect();
    let outcomes = join_all(runnable.iter().map(|row| async {
        let prefix = format!("/{}", short_name(row.file));
        match run_row(&engine, &service, row).await {
            Ok(outcome) => mismatches(row, &prefix, &outcome),
            Err(error) => vec![format!("could not run: {error}")],
        }
    }))
    .await;

    let mut problems = vec![];
    for (row, wrong) in runnable.iter().zip(&outcomes) {
        let gap = gaps.get(row.file);
        match (wrong.is_empty(), gap) {
            (true, None) => eprintln!("corpus {}: ran, as Logic Apps", row.file),
            (false, Some(reason)) => {
                eprintln!("corpus {}: known gap ({reason}): {wrong:?}", row.file)
            }
            (true, Some(_)) => problems.push(format!(
                "{} now ends as Logic Apps would: remove it from corpus-known-gaps.txt",
                row.file
            )),
            (false, None) => problems.push(format!("{}: {}", row.file, wrong.join("; "))),
        }
    }
    for row in &rows {
        if let Fire::Skip(reason) = row.fire {
            eprintln!("corpus {}: skipped ({reason})", row.file);
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

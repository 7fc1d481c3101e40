//! Several `hookflow serve` nodes on one PostgreSQL schema (only with
//! HOOKFLOW_E2E_DATABASE_URL set; skipped with a message otherwise): runs started on one node
//! are resumed by callbacks landing on another, a node is killed mid-load, and still every run
//! ends exactly once; workflow changes made on several nodes at once subscribe once.

use crate::support::{DATABASE_URL_ENV, Engine, Received, Service, fire, request_workflow};
use serde_json::{Value, json};

const NODES: usize = 3;
const RUNS: usize = 30;

/// Request → `Call` (Http) → `Wait_for_approval` (HttpWebhook) → `Decide` (Compose).
fn relay_workflow(service: &str) -> Value {
    request_workflow(json!({
        "Call": {
            "type": "Http",
            "inputs": { "method": "POST", "uri": format!("{service}/echo/@{{triggerBody()['document']}}"), "body": "@triggerBody()" },
            "runAfter": {}
        },
        "Wait_for_approval": {
            "type": "HttpWebhook",
            "inputs": {
                "subscribe": {
                    "method": "POST",
                    "uri": format!("{service}/hooks/subscribe"),
                    "body": { "callbackUrl": "@{listCallbackUrl()}", "document": "@triggerBody()['document']" }
                },
                "unsubscribe": {
                    "method": "DELETE",
                    "uri": format!("{service}/hooks/subscriptions/@{{action().outputs.body.id}}")
                }
            },
            "runAfter": { "Call": ["Succeeded"] }
        },
        "Decide": {
            "type": "Compose",
            "inputs": { "decision": "@body('Wait_for_approval')?['decision']" },
            "runAfter": { "Wait_for_approval": ["Succeeded"] }
        }
    }))
}

fn skip() -> bool {
    if std::env::var(DATABASE_URL_ENV).is_err() {
        eprintln!("skipped: several nodes need PostgreSQL; set {DATABASE_URL_ENV}");
        return true;
    }
    false
}

/// The callback URL the service was given for run `n` (the newest, should its subscribe
/// have been made again by the node that took the run's work over).
async fn callback_of(service: &Service, n: usize) -> String {
    let document = format!("doc-{n}");
    let subscribed = service
        .wait_for_matching(
            &document,
            |r: &Received| r.path == "/hooks/subscribe" && r.body["document"] == document,
            1,
        )
        .await;
    subscribed.last().unwrap().body["callbackUrl"]
        .as_str()
        .unwrap()
        .to_owned()
}

fn node(nodes: &[Option<Engine>], i: usize) -> &Engine {
    nodes[i].as_ref().expect("a live node")
}

async fn post(engine: &Engine, url: &str, body: Value) -> (u16, Value) {
    let response = engine.client.post(url).json(&body).send().await.unwrap();
    crate::support::status_json(response).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn runs_end_exactly_once_across_three_nodes_with_one_killed_mid_load() {
    if skip() {
        return;
    }
    // One data directory, hence one schema, for every node.
    let dir = tempfile::tempdir().unwrap();
    let service = Service::start().await;
    let mut nodes: Vec<Option<Engine>> = (0..NODES)
        .map(|_| Some(Engine::start_with(dir.path(), &[])))
        .collect();
    node(&nodes, 0)
        .create_workflow("relay", &relay_workflow(&service.base))
        .await;
    let trigger = node(&nodes, 0).callback_url("relay", "manual").await;

    // Runs are started round-robin over the nodes.
    let mut started = Vec::new();
    for n in 0..RUNS {
        let on = node(&nodes, n % NODES);
        let (status, run_id, body) = fire(
            &on.client,
            &on.rebase(&trigger),
            json!({ "document": format!("doc-{n}") }),
        )
        .await;
        assert_eq!(status, 202, "{body}");
        started.push(run_id.unwrap());
    }

    // The first half is resumed by a callback to the next node (not the one that started
    // the run); then the third node dies with the rest in flight.
    let killed = NODES - 1;
    for n in 0..RUNS / 2 {
        let callback = callback_of(&service, n).await;
        let to = node(&nodes, (n + 1) % NODES);
        let (status, body) = post(to, &to.rebase(&callback), json!({ "decision": n })).await;
        assert_eq!(status, 200, "run {n}: {body}");
    }
    nodes[killed].take().unwrap().kill9();

    // The second half is resumed through the survivors, again never through the node that
    // started the run; the killed node's work is taken over when its leases expire.
    let survivor_other_than = |starter: usize| if starter == 0 { 1 } else { 0 };
    for n in RUNS / 2..RUNS {
        let callback = callback_of(&service, n).await;
        let to = node(&nodes, survivor_other_than(n % NODES));
        let (status, body) = post(to, &to.rebase(&callback), json!({ "decision": n })).await;
        assert_eq!(status, 200, "run {n}: {body}");
    }

    // Every callback was accepted once: the same callback again, on the other survivor, is
    // refused.
    for n in 0..RUNS {
        let callback = callback_of(&service, n).await;
        let to = node(&nodes, n % 2);
        let (status, body) = post(to, &to.rebase(&callback), json!({ "decision": -1 })).await;
        assert_eq!(status, 409, "run {n}'s second callback: {body}");
    }

    // Every run ended once, each action once in its history, with its own callback's data.
    let reader = node(&nodes, 0);
    for (n, run_id) in started.iter().enumerate() {
        let run = reader.wait_for_end("relay", run_id).await;
        assert_eq!(run["status"], "Succeeded", "run {n}: {run}");
        let actions = reader.actions("relay", run_id).await;
        let mut names: Vec<&str> = actions
            .iter()
            .map(|a| a["name"].as_str().unwrap())
            .collect();
        names.sort_unstable();
        assert_eq!(names, ["Call", "Decide", "Wait_for_approval"], "run {n}");
        assert!(
            actions.iter().all(|a| a["status"] == "Succeeded"),
            "run {n}: {actions:?}"
        );
        let decide = actions.iter().find(|a| a["name"] == "Decide").unwrap();
        assert_eq!(decide["outputs"]["decision"], json!(n), "run {n}");
    }
    let (_, runs) = reader.get("/api/workflows/relay/runs?top=1000").await;
    assert_eq!(runs["value"].as_array().unwrap().len(), RUNS, "{runs}");
    let (_, waits) = reader.get("/api/waits").await;
    assert_eq!(waits["value"].as_array().unwrap().len(), 0, "{waits}");

    // Outbound calls are at least once: a call the killed node had in flight is made again,
    // with the same idempotency key, so the service can tell.
    for n in 0..RUNS {
        let calls = service.received_on(&format!("/echo/doc-{n}"));
        assert!(!calls.is_empty(), "run {n} made no call");
        let keys: std::collections::HashSet<_> = calls
            .iter()
            .map(|c| c.headers["idempotency-key"].to_str().unwrap().to_owned())
            .collect();
        assert_eq!(keys.len(), 1, "run {n}: {keys:?}");
    }
}

/// The same webhook-trigger workflow saved on every node at once subscribes once: workflow
/// changes are serialised by a lock in the database, not in one process.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_workflow_saved_on_every_node_at_once_subscribes_once() {
    if skip() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let service = Service::start().await;
    // Nodes behind one load balancer hand out one callback URL.
    let public = ["--public-url", "http://hookflow.example"];
    let nodes: Vec<Engine> = (0..NODES)
        .map(|_| Engine::start_with(dir.path(), &public))
        .collect();
    let document = crate::support::webhook_workflow(&service.base, "shared", json!({}));
    let saves = nodes
        .iter()
        .map(|node| node.put_workflow("events", &document));
    let mut statuses: Vec<u16> = futures_util::future::join_all(saves)
        .await
        .into_iter()
        .map(|(status, body)| {
            assert!(status == 200 || status == 201, "{body}");
            status
        })
        .collect();
    statuses.sort_unstable();
    assert_eq!(statuses, [200, 200, 201]);

    let subscribes = service
        .received_on("/hooks/subscribe")
        .into_iter()
        .filter(|r| r.body["topic"] == "shared")
        .count();
    assert_eq!(subscribes, 1);
    let (_, ledger) = nodes[2].get("/api/workflows/events/subscriptions").await;
    let states: Vec<&str> = ledger["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["state"].as_str().unwrap())
        .collect();
    assert_eq!(states, ["Active"], "{ledger}");
}

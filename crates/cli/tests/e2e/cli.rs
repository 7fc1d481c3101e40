//! The CLI: `validate` offline, and `apply`, `workflows`, `runs`, `run show` against a running
//! engine, in human and `--json` forms.

use crate::support::{Engine, fire};
use serde_json::{Value, json};
use std::process::{Command, Output};

fn hookflow(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_hookflow"))
        .args(args)
        .output()
        .expect("running hookflow")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn validate_lists_every_problem_and_exits_non_zero() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.json");
    std::fs::write(
        &bad,
        json!({
            "triggers": { "manual": { "type": "Request", "kind": "Http" } },
            "actions": {
                "A": { "type": "Teleport", "runAfter": {} },
                "B": { "type": "Compose", "inputs": "@nope()", "runAfter": { "Ghost": ["Succeeded"] } }
            }
        })
        .to_string(),
    )
    .unwrap();
    let output = hookflow(&["validate", bad.to_str().unwrap()]);
    assert!(!output.status.success());
    let stderr = text(&output.stderr);
    assert!(stderr.contains("definition.actions.A.type"), "{stderr}");
    assert!(
        stderr.contains("definition.actions.B.runAfter.Ghost"),
        "{stderr}"
    );
    assert!(stderr.contains("nope"), "{stderr}");

    // A real Logic Apps definition from the conformance corpus validates unchanged.
    let corpus = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/conformance/definitions/29-http-hello-world.json"
    );
    let file: Value = serde_json::from_str(
        &std::fs::read_to_string(corpus).expect("the shared conformance corpus beside the repo"),
    )
    .unwrap();
    let good = dir.path().join("good.json");
    std::fs::write(
        &good,
        json!({ "definition": file["definition"] }).to_string(),
    )
    .unwrap();
    let output = hookflow(&["validate", good.to_str().unwrap()]);
    assert!(output.status.success(), "{}", text(&output.stderr));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn apply_then_list_workflows_runs_and_show_a_run() {
    let dir = tempfile::tempdir().unwrap();
    let engine = Engine::start_with(dir.path(), &["--api-token", "s3cret"]);
    let file = dir.path().join("greet.json");
    std::fs::write(
        &file,
        json!({
            "definition": {
                "triggers": { "manual": { "type": "Request", "kind": "Http" } },
                "actions": { "Greet": { "type": "Compose", "inputs": "Hello @{triggerBody()?['name']}", "runAfter": {} } }
            }
        })
        .to_string(),
    )
    .unwrap();
    let remote = ["--server", engine.base.as_str(), "--token", "s3cret"];
    let run_cli = |args: &[&str]| {
        let mut all: Vec<&str> = args.to_vec();
        all.extend_from_slice(&remote);
        let output = hookflow(&all);
        assert!(
            output.status.success(),
            "hookflow {args:?}: {}",
            text(&output.stderr)
        );
        text(&output.stdout)
    };

    let applied = tokio::task::block_in_place(|| {
        run_cli(&["apply", file.to_str().unwrap(), "--name", "greet"])
    });
    assert!(applied.starts_with("created workflow greet"), "{applied}");
    let denied = hookflow(&["workflows", "--server", engine.base.as_str()]);
    assert!(!denied.status.success(), "the API token is required");
    assert!(text(&denied.stderr).contains("Unauthorized"));

    let listed = tokio::task::block_in_place(|| run_cli(&["workflows"]));
    assert!(
        listed.lines().nth(1).unwrap().starts_with("greet"),
        "{listed}"
    );

    let url = {
        let response = engine
            .client
            .post(engine.url("/api/workflows/greet/triggers/manual/listCallbackUrl"))
            .bearer_auth("s3cret")
            .send()
            .await
            .unwrap();
        response.json::<Value>().await.unwrap()["value"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let (status, run_id, _) = fire(&engine.client, &url, json!({ "name": "Grace" })).await;
    assert_eq!(status, 202, "trigger URLs need no API token");
    let run_id = run_id.unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    let runs = loop {
        let runs = tokio::task::block_in_place(|| run_cli(&["runs", "greet", "--json"]));
        let parsed: Value = serde_json::from_str(&runs).unwrap();
        if parsed["value"][0]["status"] == "Succeeded" {
            break parsed;
        }
        assert!(std::time::Instant::now() < deadline, "{runs}");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    };
    assert_eq!(runs["value"][0]["name"], run_id.as_str());
    let table = tokio::task::block_in_place(|| run_cli(&["runs", "greet"]));
    assert!(
        table.contains(&run_id) && table.contains("Succeeded"),
        "{table}"
    );

    let shown =
        tokio::task::block_in_place(|| run_cli(&["run", "show", "greet", &run_id, "--json"]));
    let shown: Value = serde_json::from_str(&shown).unwrap();
    assert_eq!(shown["actions"][0]["outputs"], "Hello Grace");
    let human = tokio::task::block_in_place(|| run_cli(&["run", "show", "greet", &run_id]));
    assert!(
        human.contains("Greet") && human.contains("Succeeded"),
        "{human}"
    );
}

/// A database that cannot be reached is a clear start-up error naming it (without its
/// password), not a hang or a panic.
#[test]
fn serve_refuses_an_unreachable_database_clearly() {
    let dir = tempfile::tempdir().unwrap();
    // Port 1 on loopback: nothing listens there.
    let output = hookflow(&[
        "serve",
        "--listen",
        "127.0.0.1:0",
        "--data-dir",
        dir.path().to_str().unwrap(),
        "--database-url",
        "postgres://hookflow:secret@127.0.0.1:1/hookflow",
    ]);
    assert!(!output.status.success());
    let stderr = text(&output.stderr);
    assert!(stderr.contains("cannot connect to PostgreSQL"), "{stderr}");
    assert!(stderr.contains("127.0.0.1:1"), "{stderr}");
    assert!(!stderr.contains("secret"), "{stderr}");
}

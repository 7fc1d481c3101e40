//! HTTP-level tests of `hookflow-server`. The router is built the way `hookflow serve` builds
//! it — a SQLite store in a temporary directory, a started runtime — and called with
//! `tower::ServiceExt::oneshot`, without a socket.
//!
//! Every response any test receives is checked against `openapi.json` (see [`spec::check`]):
//! its status must be documented for the operation, an empty documented response must have
//! an empty body, and a JSON body must match the documented schema. Together with the tests
//! of `mod openapi` — every documented operation is served, and every route declared in
//! `src/` is listed in `ROUTES` and documented — this keeps the document true.

mod support {
    //! The app under test and the request helpers every test uses.

    use crate::spec;
    use axum::{
        Router,
        body::{Body, Bytes},
        http::{HeaderMap, Method, Request, StatusCode, header},
    };
    use hookflow_runtime::{Options, Runtime, SystemClock};
    use hookflow_server::ServerOptions;
    use hookflow_store::Store;
    use hookflow_store_sqlite::{SqliteOptions, SqliteStore};
    use http_body_util::BodyExt;
    use serde_json::{Value, json};
    use std::{sync::Arc, time::Duration};
    use tokio_util::sync::CancellationToken;
    use tower::ServiceExt;

    /// Base of the callback URLs the runtime hands out in tests (never dialled: oneshot).
    pub const PUBLIC_URL: &str = "http://127.0.0.1:0";

    pub fn server_options() -> ServerOptions {
        ServerOptions {
            api_token: None,
            max_body_bytes: 1024 * 1024,
            inbound_timeout: Duration::from_secs(10),
        }
    }

    /// The router over a fresh store and a started runtime; stops the runtime when dropped.
    pub struct App {
        router: Router,
        /// Sent as `Authorization: Bearer ...` by the helpers (not by [`App::raw`]).
        token: Option<String>,
        shutdown: CancellationToken,
        _dir: tempfile::TempDir,
    }

    impl Drop for App {
        fn drop(&mut self) {
            self.shutdown.cancel();
        }
    }

    /// A response, read whole.
    #[derive(Debug)]
    pub struct Reply {
        pub status: StatusCode,
        pub headers: HeaderMap,
        pub body: Bytes,
    }

    impl Reply {
        pub fn json(&self) -> Value {
            serde_json::from_slice(&self.body).unwrap_or_else(|e| {
                panic!(
                    "{} body is not JSON ({e}): {:?}",
                    self.status,
                    String::from_utf8_lossy(&self.body)
                )
            })
        }

        /// Asserts the status, showing the body when it differs.
        #[track_caller]
        pub fn expect(self, status: u16) -> Self {
            assert_eq!(
                self.status.as_u16(),
                status,
                "unexpected status; body: {}",
                String::from_utf8_lossy(&self.body)
            );
            self
        }

        /// Asserts the error shape `{"error": {"code", "message"}}` with this status and code.
        #[track_caller]
        pub fn expect_error(self, status: u16, code: &str) -> Value {
            let reply = self.expect(status);
            let body = reply.json();
            assert_eq!(body["error"]["code"], code, "{body}");
            assert!(
                body["error"]["message"]
                    .as_str()
                    .is_some_and(|m| !m.is_empty()),
                "{body}"
            );
            body
        }

        pub fn run_id(&self) -> String {
            self.headers
                .get(hookflow_api::RUN_ID_HEADER)
                .unwrap_or_else(|| panic!("no run id header on a {} response", self.status))
                .to_str()
                .expect("ASCII run id")
                .to_owned()
        }
    }

    impl App {
        pub async fn start() -> App {
            Self::with(server_options()).await
        }

        pub async fn with(options: ServerOptions) -> App {
            let dir = tempfile::tempdir().expect("temp dir");
            let store =
                SqliteStore::open(&dir.path().join("hookflow.db"), SqliteOptions::default())
                    .expect("open store");
            let store: Arc<dyn Store> = Arc::new(store);
            let shutdown = CancellationToken::new();
            let runtime_options = Options {
                public_url: PUBLIC_URL.into(),
                http_timeout: Duration::from_secs(60),
                max_response_bytes: 1024 * 1024,
                lease: Duration::from_secs(30),
                max_concurrent_effects: 8,
                max_concurrent_steps: 8,
                node_id: "test-node".into(),
                unsubscribe_retry_base: Duration::from_millis(50),
                webhook_timeout: Duration::from_secs(3600),
                max_webhook_timeout: Duration::from_secs(3600),
                outbound: hookflow_runtime::OutboundOptions::standard(),
                dedup_retention: Duration::from_secs(3600),
            };
            let (handle, _loops) = Runtime::start(
                runtime_options,
                store,
                Arc::new(SystemClock),
                shutdown.clone(),
            )
            .await
            .expect("runtime starts");
            let token = options.api_token.clone();
            App {
                router: hookflow_server::router(handle, options),
                token,
                shutdown,
                _dir: dir,
            }
        }

        /// Sends `request` as is, and checks the response against the OpenAPI document.
        pub async fn raw(&self, request: Request<Body>) -> Reply {
            let method = request.method().clone();
            let path = request.uri().path().to_owned();
            let response = self
                .router
                .clone()
                .oneshot(request)
                .await
                .expect("the router is infallible");
            let (parts, body) = response.into_parts();
            let body = body.collect().await.expect("body reads").to_bytes();
            let reply = Reply {
                status: parts.status,
                headers: parts.headers,
                body,
            };
            spec::check(&method, &path, &reply);
            reply
        }

        /// `method uri`, with a JSON body when given, and the app's bearer token.
        pub async fn send(&self, method: Method, uri: &str, body: Option<&Value>) -> Reply {
            let mut builder = Request::builder().method(method).uri(uri);
            if let Some(token) = &self.token {
                builder = builder.header(header::AUTHORIZATION, format!("Bearer {token}"));
            }
            let request = match body {
                Some(body) => builder
                    .header(header::CONTENT_TYPE, "application/json")
                    .body(Body::from(serde_json::to_vec(body).expect("JSON"))),
                None => builder.body(Body::empty()),
            };
            self.raw(request.expect("valid request")).await
        }

        pub async fn get(&self, uri: &str) -> Reply {
            self.send(Method::GET, uri, None).await
        }

        pub async fn post(&self, uri: &str, body: Option<&Value>) -> Reply {
            self.send(Method::POST, uri, body).await
        }

        pub async fn put_workflow(&self, name: &str, document: &Value) -> Reply {
            self.send(
                Method::PUT,
                &format!("/api/workflows/{name}"),
                Some(document),
            )
            .await
        }

        /// Creates (or updates) a workflow, which must be valid.
        pub async fn save(&self, name: &str, document: &Value) -> Value {
            let reply = self.put_workflow(name, document).await;
            assert!(
                matches!(reply.status.as_u16(), 200 | 201),
                "saving '{name}' failed: {}",
                String::from_utf8_lossy(&reply.body)
            );
            reply.json()
        }

        /// `listCallbackUrl`'s answer.
        pub async fn callback(&self, workflow: &str, trigger: &str) -> Value {
            self.post(
                &format!("/api/workflows/{workflow}/triggers/{trigger}/listCallbackUrl"),
                None,
            )
            .await
            .expect(200)
            .json()
        }

        /// The path and query of a trigger's callback URL, ready to send to the router.
        pub async fn callback_path(&self, workflow: &str, trigger: &str) -> String {
            local_path(
                self.callback(workflow, trigger).await["value"]
                    .as_str()
                    .expect("value"),
            )
        }

        /// Sends `body` (JSON) to a trigger URL, as a caller outside would (no bearer token).
        pub async fn fire(
            &self,
            method: Method,
            path_and_query: &str,
            body: Option<&Value>,
        ) -> Reply {
            let mut builder = Request::builder().method(method).uri(path_and_query);
            let body = match body {
                Some(body) => {
                    builder = builder.header(header::CONTENT_TYPE, "application/json");
                    Body::from(serde_json::to_vec(body).expect("JSON"))
                }
                None => Body::empty(),
            };
            self.raw(builder.body(body).expect("valid request")).await
        }

        /// Polls the run through the API until it has status `want`; panics if it ends with
        /// another status or the deadline passes.
        pub async fn wait_for_run_status(&self, workflow: &str, run_id: &str, want: &str) -> Value {
            let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
            loop {
                let run = self
                    .get(&format!("/api/workflows/{workflow}/runs/{run_id}"))
                    .await
                    .expect(200)
                    .json();
                let status = run["status"].as_str().expect("status").to_owned();
                if status == want {
                    return run;
                }
                assert!(
                    status == "Running",
                    "run {run_id} ended {status}, not {want}: {run}"
                );
                assert!(
                    tokio::time::Instant::now() < deadline,
                    "run {run_id} still {status} at the deadline: {run}"
                );
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }

        /// Fires a workflow's `manual` trigger with `body` and waits for the run to succeed.
        pub async fn run_to_success(&self, workflow: &str, body: &Value) -> Value {
            let path = self.callback_path(workflow, "manual").await;
            let run_id = self
                .fire(Method::POST, &path, Some(body))
                .await
                .expect(202)
                .run_id();
            self.wait_for_run_status(workflow, &run_id, "Succeeded")
                .await
        }
    }

    /// `http://127.0.0.1:0/a/b?c` → `/a/b?c`.
    pub fn local_path(url: &str) -> String {
        url.strip_prefix(PUBLIC_URL)
            .unwrap_or_else(|| panic!("{url} is not under {PUBLIC_URL}"))
            .to_owned()
    }

    /// A Request trigger (`manual`, POST) and a Compose of the trigger body.
    pub fn hello() -> Value {
        json!({
            "definition": {
                "triggers": { "manual": { "type": "Request", "kind": "Http" } },
                "actions": { "Say": { "type": "Compose", "inputs": "@triggerBody()", "runAfter": {} } },
                "outputs": { "said": { "type": "Object", "value": "@outputs('Say')" } }
            }
        })
    }

    /// A Request trigger whose Response action echoes the body.
    pub fn echo() -> Value {
        json!({
            "definition": {
                "triggers": { "manual": { "type": "Request", "kind": "Http" } },
                "actions": {
                    "Reply": {
                        "type": "Response",
                        "inputs": { "statusCode": 200, "headers": { "X-Echo": "yes" }, "body": { "echo": "@triggerBody()" } },
                        "runAfter": {}
                    }
                }
            }
        })
    }

    /// An Http call to `uri`, then a Response after it succeeds.
    pub fn call_then_reply(uri: &str) -> Value {
        json!({
            "definition": {
                "triggers": { "manual": { "type": "Request", "kind": "Http" } },
                "actions": {
                    "Call": { "type": "Http", "inputs": { "method": "GET", "uri": uri }, "runAfter": {} },
                    "Reply": { "type": "Response", "inputs": { "statusCode": 200 }, "runAfter": { "Call": ["Succeeded"] } }
                }
            }
        })
    }
}

mod spec {
    //! `openapi.json`, and checks of responses against it.

    use crate::support::Reply;
    use axum::http::{Method, header};
    use serde_json::Value;
    use std::sync::LazyLock;

    pub const TEXT: &str = include_str!("../openapi.json");

    pub static DOC: LazyLock<Value> =
        LazyLock::new(|| serde_json::from_str(TEXT).expect("openapi.json is JSON"));

    pub const METHODS: &[&str] = &[
        "get", "put", "post", "delete", "options", "head", "patch", "trace",
    ];

    /// Follows `$ref`s (local JSON pointers) to the value they name.
    pub fn resolve(value: &Value) -> &Value {
        let mut value = value;
        while let Some(pointer) = value.get("$ref").and_then(Value::as_str) {
            let pointer = pointer
                .strip_prefix('#')
                .unwrap_or_else(|| panic!("non-local $ref {pointer}"));
            value = DOC
                .pointer(pointer)
                .unwrap_or_else(|| panic!("$ref {pointer} does not resolve"));
        }
        value
    }

    /// Does `path` (concrete) match `template`? `{relativePath}` as the last segment takes the
    /// rest of the path; any other `{x}` takes one segment.
    pub fn matches(template: &str, path: &str) -> bool {
        let want: Vec<&str> = template.split('/').collect();
        let got: Vec<&str> = path.split('/').collect();
        for (i, segment) in want.iter().enumerate() {
            let is_param = segment.starts_with('{') && segment.ends_with('}');
            if is_param && i == want.len() - 1 && *segment == "{relativePath}" {
                return got.len() > i && got[i..].iter().all(|s| !s.is_empty());
            }
            match got.get(i) {
                Some(g) if is_param && !g.is_empty() => {}
                Some(g) if g == segment => {}
                _ => return false,
            }
        }
        got.len() == want.len()
    }

    /// The documented path template `path` falls under.
    pub fn template_of(path: &str) -> Option<&'static str> {
        DOC["paths"]
            .as_object()
            .expect("paths")
            .keys()
            .map(String::as_str)
            .find(|t| matches(t, path))
    }

    /// The router's own 404 for an unknown route.
    pub fn is_fallback(reply: &Reply) -> bool {
        reply.status == 404
            && serde_json::from_slice::<Value>(&reply.body).is_ok_and(|body| {
                body == serde_json::json!({ "error": { "code": "NotFound", "message": "no such route" } })
            })
    }

    /// Checks one response against the document: the route and method are documented, the
    /// status is among the operation's responses, and the body fits what is documented for it.
    #[track_caller]
    pub fn check(method: &Method, path: &str, reply: &Reply) {
        if is_fallback(reply) {
            return;
        }
        let Some(template) = template_of(path) else {
            panic!(
                "{method} {path} answered {} but no path of openapi.json matches it",
                reply.status
            );
        };
        let Some(operation) = DOC["paths"][template].get(method.as_str().to_ascii_lowercase())
        else {
            // axum's method router answers methods a route does not serve.
            assert_eq!(
                reply.status, 405,
                "{method} {path} answered but {method} is not documented for {template}"
            );
            return;
        };
        let status = reply.status.as_str();
        let responses = &operation["responses"];
        let Some(documented) = responses.get(status).or_else(|| responses.get("default")) else {
            panic!(
                "{method} {template} answered {status}, which openapi.json does not document; body: {}",
                String::from_utf8_lossy(&reply.body)
            );
        };
        let documented = resolve(documented);
        let Some(content) = documented.get("content").and_then(Value::as_object) else {
            assert!(
                reply.body.is_empty(),
                "{method} {template} {status} is documented without content but has a body: {}",
                String::from_utf8_lossy(&reply.body)
            );
            return;
        };
        let content_type = reply
            .headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        let media_type = content_type.split(';').next().unwrap_or_default().trim();
        if reply.body.is_empty() && content_type.is_empty() {
            // Only a Response action's answer may be empty, and its content is documented as any.
            assert!(
                template.contains("/paths/invoke"),
                "{method} {template} {status} has an empty body"
            );
            return;
        }
        let schema = content
            .get(media_type)
            .or_else(|| content.get("*/*"))
            .unwrap_or_else(|| {
                panic!(
                    "{method} {template} {status}: content type {content_type:?} is not documented"
                )
            });
        if media_type == "application/json" {
            let body: Value = serde_json::from_slice(&reply.body).unwrap_or_else(|e| {
                panic!(
                    "{method} {template} {status}: body is not JSON ({e}): {}",
                    String::from_utf8_lossy(&reply.body)
                )
            });
            let mut errors = Vec::new();
            validate(&schema["schema"], &body, "body", &mut errors);
            assert!(
                errors.is_empty(),
                "{method} {template} {status}: body does not match openapi.json:\n{}\n{body}",
                errors.join("\n")
            );
        }
    }

    /// The JSON Schema keywords openapi.json uses: `$ref`, `type`, `const`, `enum`,
    /// `properties`, `required`, `additionalProperties`, `items`, `anyOf`, `oneOf`, and
    /// `format: date-time`. Others (descriptions, defaults) are ignored.
    pub fn validate(schema: &Value, value: &Value, at: &str, errors: &mut Vec<String>) {
        if schema.get("$ref").is_some() {
            validate(resolve(schema), value, at, errors);
        }
        if let Some(types) = schema.get("type") {
            let types: Vec<&str> = match types {
                Value::String(one) => vec![one.as_str()],
                Value::Array(many) => many.iter().filter_map(Value::as_str).collect(),
                _ => panic!("bad type keyword {types}"),
            };
            if !types.iter().any(|t| has_type(value, t)) {
                errors.push(format!("{at}: expected {types:?}, got {value}"));
                return;
            }
        }
        if schema
            .get("const")
            .is_some_and(|expected| value != expected)
        {
            errors.push(format!("{at}: expected {}, got {value}", schema["const"]));
        }
        if schema
            .get("enum")
            .and_then(Value::as_array)
            .is_some_and(|allowed| !allowed.contains(value))
        {
            errors.push(format!("{at}: {value} is not one of {}", schema["enum"]));
        }
        let is_date_time_schema = schema.get("format").and_then(Value::as_str) == Some("date-time");
        if is_date_time_schema && value.as_str().is_some_and(|text| !is_date_time(text)) {
            errors.push(format!("{at}: {value} is not a date-time"));
        }
        if let Some(object) = value.as_object() {
            let properties = schema.get("properties").and_then(Value::as_object);
            for name in schema
                .get("required")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                let name = name.as_str().expect("required names are strings");
                if !object.contains_key(name) {
                    errors.push(format!("{at}: required property '{name}' is missing"));
                }
            }
            for (name, item) in object {
                let item_at = format!("{at}.{name}");
                match properties.and_then(|p| p.get(name)) {
                    Some(property) => validate(property, item, &item_at, errors),
                    None => match schema.get("additionalProperties") {
                        Some(Value::Bool(false)) => {
                            errors.push(format!("{item_at}: property not allowed"))
                        }
                        Some(additional @ Value::Object(_)) => {
                            validate(additional, item, &item_at, errors)
                        }
                        _ => {}
                    },
                }
            }
        }
        if let (Some(items), Some(array)) = (schema.get("items"), value.as_array()) {
            for (i, item) in array.iter().enumerate() {
                validate(items, item, &format!("{at}[{i}]"), errors);
            }
        }
        for (keyword, exactly_one) in [("anyOf", false), ("oneOf", true)] {
            let Some(choices) = schema.get(keyword).and_then(Value::as_array) else {
                continue;
            };
            let mut failures = Vec::new();
            let matched = choices
                .iter()
                .filter(|choice| {
                    let mut errs = Vec::new();
                    validate(choice, value, at, &mut errs);
                    failures.extend(errs.iter().cloned());
                    errs.is_empty()
                })
                .count();
            if matched == 0 || (exactly_one && matched > 1) {
                errors.push(format!(
                    "{at}: {matched} of the {keyword} choices match ({})",
                    failures.join("; ")
                ));
            }
        }
    }

    fn has_type(value: &Value, ty: &str) -> bool {
        match ty {
            "object" => value.is_object(),
            "array" => value.is_array(),
            "string" => value.is_string(),
            "integer" => value.is_i64() || value.is_u64(),
            "number" => value.is_number(),
            "boolean" => value.is_boolean(),
            "null" => value.is_null(),
            other => panic!("unknown JSON type {other}"),
        }
    }

    /// `2024-05-01T12:00:00.1230000Z` and the like.
    fn is_date_time(text: &str) -> bool {
        let b = text.as_bytes();
        b.len() >= 20
            && b[4] == b'-'
            && b[7] == b'-'
            && b[10] == b'T'
            && b[13] == b':'
            && b[16] == b':'
            && text.ends_with('Z')
            && [0..4, 5..7, 8..10, 11..13, 14..16, 17..19]
                .into_iter()
                .all(|r| b[r].iter().all(u8::is_ascii_digit))
    }

    #[test]
    fn path_matching() {
        assert!(matches("/api/workflows/{workflowName}", "/api/workflows/a"));
        assert!(!matches(
            "/api/workflows/{workflowName}",
            "/api/workflows/a/runs"
        ));
        assert!(!matches("/api/workflows/{workflowName}", "/api/workflows/"));
        assert!(matches("/w/{relativePath}", "/w/a/b/c"));
        assert!(!matches("/w/{relativePath}", "/w"));
        assert!(is_date_time("2024-05-01T12:00:00.1230000Z"));
        assert!(!is_date_time("yesterday"));
    }
}

mod workflows {
    //! Create, update, versions, read, list, enable/disable, delete.

    use crate::support::{App, hello};
    use axum::http::Method;
    use serde_json::json;

    #[tokio::test]
    async fn create_is_201_update_is_200_and_versions_grow() {
        let app = App::start().await;
        let created = app.put_workflow("hello", &hello()).await.expect(201).json();
        assert_eq!(created["name"], "hello");
        assert_eq!(created["state"], "Enabled");
        assert_eq!(created["definition"], hello()["definition"]);
        let first = created["version"].as_str().unwrap().to_owned();
        let versions = app
            .get("/api/workflows/hello/versions")
            .await
            .expect(200)
            .json();
        assert_eq!(versions["value"].as_array().unwrap().len(), 1);
        assert_eq!(versions["value"][0]["version"], first.as_str());

        let mut changed = hello();
        changed["definition"]["actions"]["Say"]["inputs"] = json!("changed");
        let updated = app.put_workflow("hello", &changed).await.expect(200).json();
        let second = updated["version"].as_str().unwrap().to_owned();
        assert_ne!(first, second);
        assert_eq!(updated["createdTime"], created["createdTime"]);
        assert_eq!(updated["definition"]["actions"]["Say"]["inputs"], "changed");

        let versions = app
            .get("/api/workflows/hello/versions")
            .await
            .expect(200)
            .json();
        let ids: Vec<_> = versions["value"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v["version"].as_str().unwrap())
            .collect();
        assert_eq!(ids, [second.as_str(), first.as_str()], "newest first");
        assert_eq!(versions["value"][1]["definition"], hello()["definition"]);

        let read = app.get("/api/workflows/hello").await.expect(200).json();
        assert_eq!(read["version"], second.as_str());
        let list = app.get("/api/workflows").await.expect(200).json();
        assert_eq!(list["value"].as_array().unwrap().len(), 1);
        assert_eq!(list["value"][0]["name"], "hello");
        assert!(list.get("nextLink").is_none());
    }

    #[tokio::test]
    async fn state_enable_disable_and_delete() {
        let app = App::start().await;
        let mut document = hello();
        document["state"] = json!("Disabled");
        assert_eq!(
            app.put_workflow("w", &document).await.expect(201).json()["state"],
            "Disabled"
        );
        // A later save without `state` keeps the current one.
        assert_eq!(
            app.put_workflow("w", &hello()).await.expect(200).json()["state"],
            "Disabled"
        );
        assert_eq!(
            app.post("/api/workflows/w/enable", None)
                .await
                .expect(200)
                .json()["state"],
            "Enabled"
        );
        assert_eq!(
            app.get("/api/workflows/w").await.expect(200).json()["state"],
            "Enabled"
        );
        assert_eq!(
            app.post("/api/workflows/w/disable", None)
                .await
                .expect(200)
                .json()["state"],
            "Disabled"
        );

        app.send(Method::DELETE, "/api/workflows/w", None)
            .await
            .expect(200);
        app.get("/api/workflows/w")
            .await
            .expect_error(404, "NotFound");
        app.send(Method::DELETE, "/api/workflows/w", None)
            .await
            .expect_error(404, "NotFound");
        assert_eq!(
            app.get("/api/workflows").await.expect(200).json()["value"],
            json!([])
        );
    }

    #[tokio::test]
    async fn unknown_workflow_is_404_with_the_error_shape() {
        let app = App::start().await;
        let body = app
            .get("/api/workflows/nope")
            .await
            .expect_error(404, "NotFound");
        assert_eq!(body.as_object().unwrap().len(), 1, "only `error`: {body}");
        let error = body["error"].as_object().unwrap();
        assert!(
            !error.contains_key("details"),
            "no details on a 404: {body}"
        );
        assert!(
            error["message"].as_str().unwrap().contains("nope"),
            "{body}"
        );
        for uri in [
            "/api/workflows/nope/versions",
            "/api/workflows/nope/subscriptions",
            "/api/workflows/nope/runs",
            "/api/workflows/nope/runs/r1",
            "/api/workflows/nope/runs/r1/actions",
            "/api/workflows/nope/runs/r1/actions/a",
        ] {
            app.get(uri).await.expect_error(404, "NotFound");
        }
        for uri in [
            "/api/workflows/nope/enable",
            "/api/workflows/nope/disable",
            "/api/workflows/nope/triggers/manual/listCallbackUrl",
        ] {
            app.post(uri, None).await.expect_error(404, "NotFound");
        }
        let body = app
            .get("/api/no/such/route")
            .await
            .expect_error(404, "NotFound");
        assert_eq!(body["error"]["message"], "no such route");
    }

    #[tokio::test]
    async fn bad_names_and_media_types_are_rejected() {
        let app = App::start().await;
        app.put_workflow("bad%20name", &hello())
            .await
            .expect_error(400, "BadRequest");
        let long = "x".repeat(81);
        app.put_workflow(&long, &hello())
            .await
            .expect_error(400, "BadRequest");
        let request = axum::http::Request::put("/api/workflows/w")
            .header("content-type", "text/plain")
            .body(axum::body::Body::from(hello().to_string()))
            .unwrap();
        app.raw(request).await.expect_error(415, "InvalidJson");
        assert_eq!(
            app.get("/api/workflows").await.expect(200).json()["value"],
            json!([])
        );
    }

    #[tokio::test]
    async fn secure_parameters_are_never_returned() {
        let app = App::start().await;
        let document = json!({
            "definition": {
                "parameters": { "apiKey": { "type": "securestring" }, "region": { "type": "string", "defaultValue": "west" } },
                "triggers": { "manual": { "type": "Request", "kind": "Http" } },
                "actions": { "Say": { "type": "Compose", "inputs": "@parameters('region')", "runAfter": {} } }
            },
            "parameters": { "apiKey": { "value": "s3cret-value" }, "region": { "value": "east" } }
        });
        for reply in [
            app.put_workflow("p", &document).await,
            app.get("/api/workflows/p").await,
        ] {
            let text = String::from_utf8_lossy(&reply.body).into_owned();
            assert!(!text.contains("s3cret-value"), "{text}");
            assert_eq!(reply.json()["parameters"]["region"]["value"], "east");
        }
    }
}

mod validation {
    //! Invalid documents: 400 with every problem and its path, and nothing saved.

    use crate::support::{App, hello};
    use axum::{
        body::Body,
        http::{Request, header},
    };
    use serde_json::{Value, json};

    /// One problem each: (what, document, the problems' paths).
    fn cases() -> Vec<(&'static str, Value, Vec<&'static str>)> {
        let manual = json!({ "manual": { "type": "Request", "kind": "Http" } });
        let doc =
            |actions: Value| json!({ "definition": { "triggers": manual, "actions": actions } });
        vec![
            (
                "unknown action type",
                doc(json!({ "Frob": { "type": "Frobnicate", "inputs": {}, "runAfter": {} } })),
                vec!["definition.actions.Frob.type"],
            ),
            (
                "runAfter a missing action",
                doc(
                    json!({ "Send": { "type": "Compose", "inputs": 1, "runAfter": { "Missing": ["Succeeded"] } } }),
                ),
                vec!["definition.actions.Send.runAfter.Missing"],
            ),
            (
                "a runAfter cycle",
                doc(json!({
                    "A": { "type": "Compose", "inputs": 1, "runAfter": { "C": ["Succeeded"] } },
                    "B": { "type": "Compose", "inputs": 2, "runAfter": { "A": ["Succeeded"] } },
                    "C": { "type": "Compose", "inputs": 3, "runAfter": { "B": ["Succeeded"] } }
                })),
                vec!["definition.actions.A.runAfter"],
            ),
            (
                "a malformed expression",
                doc(
                    json!({ "Build": { "type": "Compose", "inputs": { "greeting": "@concat('a', " }, "runAfter": {} } }),
                ),
                vec!["definition.actions.Build.inputs.greeting"],
            ),
            (
                "an unknown function",
                doc(
                    json!({ "Call": { "type": "Compose", "inputs": { "value": "@frobnicate(1)" }, "runAfter": {} } }),
                ),
                vec!["definition.actions.Call.inputs.value"],
            ),
            (
                "a parameter value of the wrong type",
                json!({
                    "definition": {
                        "parameters": { "p": { "type": "int", "defaultValue": 1 } },
                        "triggers": manual,
                        "actions": { "Echo": { "type": "Compose", "inputs": "@parameters('p')", "runAfter": {} } }
                    },
                    "parameters": { "p": { "value": "ten" } }
                }),
                vec!["parameters.p.value"],
            ),
        ]
    }

    /// Every case's problems in one document.
    fn all_in_one() -> (Value, Vec<&'static str>) {
        let mut actions = serde_json::Map::new();
        let mut paths = Vec::new();
        let mut parameters = json!({});
        let mut values = json!({});
        for (_, document, case_paths) in cases() {
            actions.extend(
                document["definition"]["actions"]
                    .as_object()
                    .unwrap()
                    .clone(),
            );
            if let Some(declared) = document["definition"].get("parameters") {
                parameters = declared.clone();
                values = document["parameters"].clone();
            }
            paths.extend(case_paths);
        }
        let document = json!({
            "definition": {
                "parameters": parameters,
                "triggers": { "manual": { "type": "Request", "kind": "Http" } },
                "actions": actions
            },
            "parameters": values
        });
        (document, paths)
    }

    #[track_caller]
    fn assert_problems(body: &Value, paths: &[&str], what: &str) {
        let details = body["error"]["details"]
            .as_array()
            .unwrap_or_else(|| panic!("{what}: no details: {body}"));
        let got: Vec<&str> = details
            .iter()
            .map(|d| d["path"].as_str().expect("path"))
            .collect();
        for path in paths {
            assert!(got.contains(path), "{what}: no problem at {path}: {body}");
        }
        assert_eq!(
            got.len(),
            paths.len(),
            "{what}: unexpected problems: {body}"
        );
        assert!(
            details
                .iter()
                .all(|d| d["message"].as_str().is_some_and(|m| !m.is_empty())),
            "{body}"
        );
        let message = body["error"]["message"].as_str().unwrap();
        assert!(
            message.contains(&format!("{} problem(s)", paths.len())),
            "{message}"
        );
    }

    #[tokio::test]
    async fn each_problem_is_a_400_with_its_path_and_nothing_is_saved() {
        let app = App::start().await;
        let saved = app.save("w", &hello()).await;
        for (what, document, paths) in cases() {
            let body = app
                .put_workflow("w", &document)
                .await
                .expect_error(400, "InvalidDefinition");
            assert_problems(&body, &paths, what);
            let body = app
                .post("/api/workflows/w/validate", Some(&document))
                .await
                .expect_error(400, "InvalidDefinition");
            assert_problems(&body, &paths, what);
            app.put_workflow("fresh", &document)
                .await
                .expect_error(400, "InvalidDefinition");
        }
        assert_eq!(
            app.get("/api/workflows/w").await.expect(200).json()["version"],
            saved["version"]
        );
        assert_eq!(
            app.get("/api/workflows/w/versions")
                .await
                .expect(200)
                .json()["value"]
                .as_array()
                .unwrap()
                .len(),
            1
        );
        app.get("/api/workflows/fresh")
            .await
            .expect_error(404, "NotFound");
    }

    #[tokio::test]
    async fn every_problem_of_a_document_is_listed() {
        let app = App::start().await;
        let saved = app.save("w", &hello()).await;
        let (document, paths) = all_in_one();
        let body = app
            .put_workflow("w", &document)
            .await
            .expect_error(400, "InvalidDefinition");
        assert_problems(&body, &paths, "all in one");
        let body = app
            .post("/api/workflows/w/validate", Some(&document))
            .await
            .expect_error(400, "InvalidDefinition");
        assert_problems(&body, &paths, "all in one (validate)");
        assert_eq!(
            app.get("/api/workflows/w").await.expect(200).json()["version"],
            saved["version"]
        );
        assert_eq!(
            app.get("/api/workflows/w/versions")
                .await
                .expect(200)
                .json()["value"]
                .as_array()
                .unwrap()
                .len(),
            1
        );
        // A valid document validates, and validating saves nothing.
        app.post("/api/workflows/other/validate", Some(&hello()))
            .await
            .expect(200);
        app.get("/api/workflows/other")
            .await
            .expect_error(404, "NotFound");
    }

    #[tokio::test]
    async fn a_body_that_is_not_json_is_a_400_and_nothing_is_saved() {
        let app = App::start().await;
        let saved = app.save("w", &hello()).await;
        for name in ["w", "fresh"] {
            let request = Request::put(format!("/api/workflows/{name}"))
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(r#"{"definition": {"triggers": "#))
                .unwrap();
            let body = app.raw(request).await.expect_error(400, "InvalidJson");
            assert!(body["error"].get("details").is_none(), "{body}");
        }
        let body = app
            .put_workflow("w", &json!([1, 2]))
            .await
            .expect_error(400, "InvalidDefinition");
        assert!(
            !body["error"]["details"].as_array().unwrap().is_empty(),
            "{body}"
        );
        assert_eq!(
            app.get("/api/workflows/w").await.expect(200).json()["version"],
            saved["version"]
        );
        app.get("/api/workflows/fresh")
            .await
            .expect_error(404, "NotFound");
    }
}

mod limits {
    //! `max_body_bytes` on management and trigger requests.

    use crate::support::{App, hello, server_options};
    use axum::http::Method;
    use hookflow_server::ServerOptions;
    use serde_json::json;

    #[tokio::test]
    async fn oversized_bodies_are_413_and_change_nothing() {
        let app = App::with(ServerOptions {
            max_body_bytes: 2048,
            ..server_options()
        })
        .await;
        let mut big = hello();
        big["definition"]["actions"]["Say"]["inputs"] = json!("x".repeat(4096));
        app.put_workflow("w", &big)
            .await
            .expect_error(413, "PayloadTooLarge");
        app.post("/api/workflows/w/validate", Some(&big))
            .await
            .expect_error(413, "PayloadTooLarge");
        app.get("/api/workflows/w")
            .await
            .expect_error(404, "NotFound");

        app.save("w", &hello()).await;
        app.post(
            "/api/workflows/w/triggers/manual/listCallbackUrl",
            Some(&json!({ "pad": "x".repeat(4096) })),
        )
        .await
        .expect_error(413, "PayloadTooLarge");
        let path = app.callback_path("w", "manual").await;
        app.fire(
            Method::POST,
            &path,
            Some(&json!({ "pad": "x".repeat(4096) })),
        )
        .await
        .expect_error(413, "PayloadTooLarge");
        assert_eq!(
            app.get("/api/workflows/w/runs").await.expect(200).json()["value"],
            json!([]),
            "no run started"
        );
        app.fire(Method::POST, &path, Some(&json!({ "small": true })))
            .await
            .expect(202);
    }
}

mod auth {
    //! The bearer token of the management API.

    use crate::support::{App, hello, server_options};
    use axum::{
        body::Body,
        http::{Method, Request, header},
    };
    use hookflow_server::ServerOptions;
    use serde_json::json;

    fn get(uri: &str, authorization: Option<&str>) -> Request<Body> {
        let mut builder = Request::get(uri);
        if let Some(value) = authorization {
            builder = builder.header(header::AUTHORIZATION, value);
        }
        builder.body(Body::empty()).unwrap()
    }

    #[tokio::test]
    async fn the_api_requires_the_token_and_trigger_urls_do_not() {
        let app = App::with(ServerOptions {
            api_token: Some("t0ken".into()),
            ..server_options()
        })
        .await;
        for authorization in [
            None,
            Some("Bearer wrong"),
            Some("t0ken"),
            Some("Basic dDBrZW4="),
            Some("Bearer t0ken2"),
        ] {
            app.raw(get("/api/workflows", authorization))
                .await
                .expect_error(401, "Unauthorized");
        }
        app.raw(get("/api/workflows", Some("Bearer t0ken")))
            .await
            .expect(200);
        app.raw(get("/api/workflows/w", None))
            .await
            .expect_error(401, "Unauthorized");
        let unauthenticated_put = Request::put("/api/workflows/w")
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(hello().to_string()))
            .unwrap();
        app.raw(unauthenticated_put)
            .await
            .expect_error(401, "Unauthorized");
        app.raw(get("/api/workflows/w", Some("Bearer t0ken")))
            .await
            .expect_error(404, "NotFound");

        // The helpers send the token.
        app.save("w", &hello()).await;
        let unauthenticated = Request::post("/api/workflows/w/triggers/manual/listCallbackUrl")
            .body(Body::empty())
            .unwrap();
        app.raw(unauthenticated)
            .await
            .expect_error(401, "Unauthorized");
        let path = app.callback_path("w", "manual").await;

        // Trigger URLs, health and the document need no token.
        let run_id = app
            .fire(Method::POST, &path, Some(&json!({})))
            .await
            .expect(202)
            .run_id();
        app.raw(get("/healthz", None)).await.expect(200);
        app.raw(get("/api/openapi.json", None)).await.expect(200);
        app.raw(get(&format!("/api/workflows/w/runs/{run_id}"), None))
            .await
            .expect_error(401, "Unauthorized");
        app.wait_for_run_status("w", &run_id, "Succeeded").await;
    }
}

mod triggers {
    //! Signed callback URLs: listing them, firing them, and what is refused.

    use crate::support::{App, call_then_reply, echo, hello, local_path, server_options};
    use axum::http::Method;
    use hookflow_server::ServerOptions;
    use serde_json::{Value, json};
    use std::time::Duration;

    #[tokio::test]
    async fn list_callback_url_gives_a_url_that_fires_the_trigger() {
        let app = App::start().await;
        app.save("hello-world", &hello()).await;
        let callback = app.callback("hello-world", "manual").await;
        assert_eq!(callback["method"], "POST");
        assert_eq!(callback["queries"]["api-version"], "2016-10-01");
        assert_eq!(callback["queries"]["sv"], "1.0");
        assert_eq!(callback["queries"]["sp"], "/triggers/manual/run");
        let base_path = callback["basePath"].as_str().unwrap();
        assert!(
            base_path.ends_with("/triggers/manual/paths/invoke"),
            "{base_path}"
        );
        let value = callback["value"].as_str().unwrap();
        assert!(value.starts_with(base_path), "{value}");
        assert!(
            value.contains(callback["queries"]["sig"].as_str().unwrap()),
            "{value}"
        );
        assert!(callback.get("relativePath").is_none());

        let reply = app
            .fire(Method::POST, &local_path(value), Some(&json!({ "n": 1 })))
            .await
            .expect(202);
        assert!(reply.body.is_empty());
        let run_id = reply.run_id();
        let run = app
            .wait_for_run_status("hello-world", &run_id, "Succeeded")
            .await;
        assert_eq!(run["name"], run_id.as_str());
        assert_eq!(run["trigger"]["outputs"]["body"], json!({ "n": 1 }));
        assert_eq!(run["outputs"]["said"]["value"], json!({ "n": 1 }));

        // The secondary key signs another URL that works as well; an explicit Primary is the first.
        let primary = app
            .post(
                "/api/workflows/hello-world/triggers/manual/listCallbackUrl",
                Some(&json!({ "keyType": "Primary" })),
            )
            .await
            .expect(200)
            .json();
        assert_eq!(primary["value"], callback["value"]);
        let secondary = app
            .post(
                "/api/workflows/hello-world/triggers/manual/listCallbackUrl",
                Some(&json!({ "keyType": "secondary" })),
            )
            .await
            .expect(200)
            .json();
        assert_ne!(secondary["queries"]["sig"], callback["queries"]["sig"]);
        let path = local_path(secondary["value"].as_str().unwrap());
        app.fire(Method::POST, &path, None).await.expect(202);
        app.post(
            "/api/workflows/hello-world/triggers/manual/listCallbackUrl",
            Some(&json!({ "keyType": "Tertiary" })),
        )
        .await
        .expect_error(400, "BadRequest");
        app.post(
            "/api/workflows/hello-world/triggers/nope/listCallbackUrl",
            None,
        )
        .await
        .expect_error(404, "NotFound");
    }

    #[tokio::test]
    async fn bad_signatures_methods_and_targets_start_no_run() {
        let app = App::start().await;
        app.save("w", &hello()).await;
        app.save("other", &hello()).await;
        let path = app.callback_path("w", "manual").await;
        let (route, query) = path.split_once('?').unwrap();
        let sig = query
            .split('&')
            .find_map(|pair| pair.strip_prefix("sig="))
            .unwrap();
        let flipped = format!(
            "{}{}",
            if sig.starts_with('A') { 'B' } else { 'A' },
            &sig[1..]
        );
        let without_sig: Vec<&str> = query
            .split('&')
            .filter(|pair| !pair.starts_with("sig="))
            .collect();
        let refused = [
            (
                Method::POST,
                format!("{route}?{}", query.replace(sig, &flipped)),
                401,
                "Unauthorized",
            ),
            (
                Method::POST,
                format!("{route}?{}", without_sig.join("&")),
                401,
                "Unauthorized",
            ),
            (Method::POST, route.to_owned(), 401, "Unauthorized"),
            // A URL of one workflow does not fire another.
            (
                Method::POST,
                path.replace("/workflows/w/", "/workflows/other/"),
                401,
                "Unauthorized",
            ),
            (Method::GET, path.clone(), 405, "MethodNotAllowed"),
            (Method::PUT, path.clone(), 405, "MethodNotAllowed"),
            // No relative path is declared, so none matches.
            (
                Method::POST,
                path.replace("/paths/invoke?", "/paths/invoke/extra?"),
                404,
                "NotFound",
            ),
            (
                Method::POST,
                path.replace("/workflows/w/", "/workflows/missing/"),
                404,
                "NotFound",
            ),
        ];
        for (method, uri, status, code) in refused {
            let reply = app.fire(method.clone(), &uri, Some(&json!({}))).await;
            assert!(reply.headers.get(hookflow_api::RUN_ID_HEADER).is_none());
            reply.expect_error(status, code);
        }
        // A JSON content type with a body that is not JSON.
        let request = axum::http::Request::post(&path)
            .header("content-type", "application/json")
            .body(axum::body::Body::from("{nope"))
            .unwrap();
        app.raw(request).await.expect_error(400, "BadRequest");

        app.post("/api/workflows/w/disable", None).await.expect(200);
        app.fire(Method::POST, &path, Some(&json!({})))
            .await
            .expect_error(404, "NotFound");
        for workflow in ["w", "other"] {
            let runs = app
                .get(&format!("/api/workflows/{workflow}/runs"))
                .await
                .expect(200)
                .json();
            assert_eq!(runs["value"], json!([]), "no run started");
        }
        app.post("/api/workflows/w/enable", None).await.expect(200);
        app.fire(Method::POST, &path, Some(&json!({})))
            .await
            .expect(202);
    }

    #[tokio::test]
    async fn relative_paths_and_queries_reach_the_run() {
        let app = App::start().await;
        let document = json!({
            "definition": {
                "triggers": { "lookup": { "type": "Request", "kind": "Http", "inputs": { "method": "GET", "relativePath": "orders/{id}" } } },
                "actions": { "Id": { "type": "Compose", "inputs": "@triggerOutputs()['relativePathParameters']['id']", "runAfter": {} } }
            }
        });
        app.save("shop", &document).await;
        let callback = app.callback("shop", "lookup").await;
        assert_eq!(callback["method"], "GET");
        assert_eq!(callback["relativePath"], "orders/{id}");
        assert_eq!(callback["relativePathParameters"], json!(["id"]));
        let path = local_path(callback["value"].as_str().unwrap());
        assert!(path.contains("/paths/invoke/orders/{id}?"), "{path}");

        let uri = format!("{}&color=blue", path.replace("{id}", "42"));
        let run_id = app.fire(Method::GET, &uri, None).await.expect(202).run_id();
        let run = app.wait_for_run_status("shop", &run_id, "Succeeded").await;
        assert_eq!(
            run["trigger"]["outputs"]["relativePathParameters"],
            json!({ "id": "42" })
        );
        assert_eq!(
            run["trigger"]["outputs"]["queries"],
            json!({ "color": "blue" })
        );
        let action = app
            .get(&format!("/api/workflows/shop/runs/{run_id}/actions/Id"))
            .await
            .expect(200)
            .json();
        assert_eq!(action["outputs"], "42");

        app.fire(
            Method::GET,
            &path.replace("orders/{id}", "customers/42"),
            None,
        )
        .await
        .expect_error(404, "NotFound");
        app.fire(
            Method::GET,
            &path.replace("orders/{id}", "orders/42/more"),
            None,
        )
        .await
        .expect_error(404, "NotFound");
    }

    /// The designer writes relative paths with a leading `/`; the URL must not get `//`.
    #[tokio::test]
    async fn a_relative_path_with_a_leading_slash() {
        let app = App::start().await;
        let document = json!({
            "definition": {
                "triggers": { "item": { "type": "Request", "kind": "Http", "inputs": { "relativePath": "/items/{sku}" } } },
                "actions": { "Sku": { "type": "Compose", "inputs": "@triggerOutputs()['relativePathParameters']['sku']", "runAfter": {} } }
            }
        });
        app.save("store", &document).await;
        let callback = app.callback("store", "item").await;
        assert_eq!(callback["relativePathParameters"], json!(["sku"]));
        let path = local_path(callback["value"].as_str().unwrap());
        assert!(!path.contains("invoke//"), "{path}");
        let run_id = app
            .fire(Method::POST, &path.replace("{sku}", "a1"), None)
            .await
            .expect(202)
            .run_id();
        let run = app.wait_for_run_status("store", &run_id, "Succeeded").await;
        assert_eq!(
            run["trigger"]["outputs"]["relativePathParameters"],
            json!({ "sku": "a1" })
        );
    }

    #[tokio::test]
    async fn a_response_action_answers_the_caller() {
        let app = App::start().await;
        app.save("echo", &echo()).await;
        let path = app.callback_path("echo", "manual").await;
        let reply = app
            .fire(Method::POST, &path, Some(&json!({ "hi": 1 })))
            .await
            .expect(200);
        assert_eq!(reply.headers["x-echo"], "yes");
        assert_eq!(reply.json(), json!({ "echo": { "hi": 1 } }));
        let run_id = reply.run_id();
        app.wait_for_run_status("echo", &run_id, "Succeeded").await;
    }

    #[tokio::test]
    async fn a_run_that_ends_without_answering_is_502() {
        let app = App::start().await;
        // A port nobody listens on: the call fails at once, so the Response is skipped.
        let closed = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap();
        let mut document = call_then_reply(&format!("http://{closed}/x"));
        // Connection failures are retried by default (spec §5.5): fail at the first one.
        document["definition"]["actions"]["Call"]["inputs"]["retryPolicy"] =
            json!({ "type": "none" });
        app.save("broken", &document).await;
        let path = app.callback_path("broken", "manual").await;
        let reply = app.fire(Method::POST, &path, None).await.expect(502);
        let body = reply.json();
        assert_eq!(body["error"]["code"], "NoResponse", "{body}");
        app.wait_for_run_status("broken", &reply.run_id(), "Failed")
            .await;
    }

    #[tokio::test]
    async fn a_slow_response_is_408_and_the_run_goes_on_until_cancelled() {
        let app = App::with(ServerOptions {
            inbound_timeout: Duration::from_millis(300),
            ..server_options()
        })
        .await;
        // Accepts connections (in its backlog) and never answers.
        let silent = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = silent.local_addr().unwrap();
        app.save("slow", &call_then_reply(&format!("http://{address}/never")))
            .await;
        let path = app.callback_path("slow", "manual").await;
        let reply = app.fire(Method::POST, &path, None).await;
        let run_id = reply.run_id();
        reply.expect_error(408, "ResponseTimedOut");
        let run = app
            .get(&format!("/api/workflows/slow/runs/{run_id}"))
            .await
            .expect(200)
            .json();
        assert_eq!(run["status"], "Running");
        assert!(run.get("endTime").is_none(), "{run}");

        let cancel = format!("/api/workflows/slow/runs/{run_id}/cancel");
        let reply = app.post(&cancel, None).await.expect(202);
        assert!(reply.body.is_empty());
        let run = app.wait_for_run_status("slow", &run_id, "Cancelled").await;
        assert!(run.get("endTime").is_some(), "{run}");
        let actions = app
            .get(&format!("/api/workflows/slow/runs/{run_id}/actions"))
            .await
            .expect(200)
            .json();
        let call = actions["value"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["name"] == "Call")
            .cloned();
        assert_eq!(
            call.as_ref().map(|c| &c["status"]),
            Some(&Value::from("Cancelled")),
            "{actions}"
        );
        app.post(&cancel, None).await.expect_error(409, "Conflict");
        drop(silent);
    }

    #[tokio::test]
    async fn a_trigger_history_records_each_fire_newest_first() {
        let app = App::start().await;
        let mut document = hello();
        document["definition"]["triggers"]["manual"]["conditions"] =
            json!([{ "expression": "@not(equals(triggerBody()?['skip'], true))" }]);
        app.save("w", &document).await;
        let uri = "/api/workflows/w/triggers/manual/histories";
        assert_eq!(app.get(uri).await.expect(200).json()["value"], json!([]));

        let path = app.callback_path("w", "manual").await;
        let run_id = app
            .fire(Method::POST, &path, Some(&json!({ "n": 1 })))
            .await
            .expect(202)
            .run_id();
        // Conditions false: 202 without a run (and without a run id).
        let skipped = app
            .fire(Method::POST, &path, Some(&json!({ "skip": true })))
            .await
            .expect(202);
        assert!(skipped.headers.get(hookflow_api::RUN_ID_HEADER).is_none());
        assert!(skipped.body.is_empty());
        app.wait_for_run_status("w", &run_id, "Succeeded").await;
        let runs = app.get("/api/workflows/w/runs").await.expect(200).json();
        assert_eq!(runs["value"].as_array().unwrap().len(), 1, "{runs}");

        let history = app.get(uri).await.expect(200).json();
        let entries = history["value"].as_array().unwrap();
        assert_eq!(entries.len(), 2, "{history}");
        assert_eq!(entries[0]["kind"], "Fire");
        assert_eq!(entries[0]["status"], "Skipped");
        assert!(entries[0].get("run").is_none(), "{history}");
        assert!(entries[0]["detail"]["reason"].is_string(), "{history}");
        assert_eq!(entries[1]["kind"], "Fire");
        assert_eq!(entries[1]["status"], "Succeeded");
        assert_eq!(entries[1]["run"], run_id.as_str());
        assert_eq!(entries[1]["detail"]["runIds"], json!([run_id]));
        // The entry is the runs' trigger tracking id.
        let run = app
            .get(&format!("/api/workflows/w/runs/{run_id}"))
            .await
            .expect(200)
            .json();
        assert_eq!(run["trigger"]["trackingId"], entries[1]["name"]);

        for top in ["top=1", "$top=1"] {
            let page = app.get(&format!("{uri}?{top}")).await.expect(200).json();
            assert_eq!(page["value"], json!([entries[0]]), "{top}");
        }
        app.get(&format!("{uri}?top=many"))
            .await
            .expect_error(400, "BadRequest");
        // History outlives definitions: an unknown trigger or workflow has an empty one.
        for uri in [
            "/api/workflows/w/triggers/nope/histories",
            "/api/workflows/nope/triggers/manual/histories",
        ] {
            assert_eq!(app.get(uri).await.expect(200).json()["value"], json!([]));
        }
    }

    #[tokio::test]
    async fn regenerating_a_key_invalidates_the_urls_it_signed() {
        let app = App::start().await;
        app.save("w", &hello()).await;
        let old = app.callback_path("w", "manual").await;
        let secondary = local_path(
            app.post(
                "/api/workflows/w/triggers/manual/listCallbackUrl",
                Some(&json!({ "keyType": "Secondary" })),
            )
            .await
            .expect(200)
            .json()["value"]
                .as_str()
                .unwrap(),
        );
        let regenerate = "/api/workflows/w/regenerateAccessKey";
        for body in [
            json!({}),
            json!({ "keyType": null }),
            json!({ "keyType": "Tertiary" }),
        ] {
            app.post(regenerate, Some(&body))
                .await
                .expect_error(400, "BadRequest");
        }
        app.post(
            "/api/workflows/nope/regenerateAccessKey",
            Some(&json!({ "keyType": "Primary" })),
        )
        .await
        .expect_error(404, "NotFound");
        // The refusals changed nothing.
        app.fire(Method::POST, &old, Some(&json!({})))
            .await
            .expect(202);
        assert_eq!(app.callback_path("w", "manual").await, old);

        let before = app.get("/api/workflows/w").await.expect(200).json();
        let after = app
            .post(regenerate, Some(&json!({ "keyType": "primary" })))
            .await
            .expect(200)
            .json();
        assert_eq!(after["name"], "w");
        assert_eq!(after["state"], "Enabled");
        assert_eq!(after["version"], before["version"], "no new version");
        app.fire(Method::POST, &old, Some(&json!({})))
            .await
            .expect_error(401, "Unauthorized");
        let new = app.callback_path("w", "manual").await;
        assert_ne!(new, old);
        app.fire(Method::POST, &new, Some(&json!({})))
            .await
            .expect(202);
        // The other key still signs what it signed.
        app.fire(Method::POST, &secondary, Some(&json!({})))
            .await
            .expect(202);
    }
}

mod runs {
    //! Run history: list (filtered, paged), read, actions, cancel.

    use crate::support::{App, hello};
    use serde_json::json;

    #[tokio::test]
    async fn runs_are_listed_newest_first_filtered_and_paged() {
        let app = App::start().await;
        app.save("w", &hello()).await;
        let mut ids = Vec::new();
        for n in 0..3 {
            ids.push(
                app.run_to_success("w", &json!({ "n": n })).await["name"]
                    .as_str()
                    .unwrap()
                    .to_owned(),
            );
        }
        let all = app.get("/api/workflows/w/runs").await.expect(200).json();
        let listed: Vec<&str> = all["value"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["name"].as_str().unwrap())
            .collect();
        let newest_first: Vec<&str> = ids.iter().rev().map(String::as_str).collect();
        assert_eq!(listed, newest_first);
        assert!(all.get("nextLink").is_none(), "{all}");

        let page = app
            .get("/api/workflows/w/runs?top=2")
            .await
            .expect(200)
            .json();
        let first: Vec<&str> = page["value"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["name"].as_str().unwrap())
            .collect();
        assert_eq!(first, newest_first[..2]);
        let next = page["nextLink"]
            .as_str()
            .expect("a full page has a nextLink");
        let rest = app.get(next).await.expect(200).json();
        let second: Vec<&str> = rest["value"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["name"].as_str().unwrap())
            .collect();
        assert_eq!(second, newest_first[2..]);

        let aliased = app
            .get("/api/workflows/w/runs?$top=1")
            .await
            .expect(200)
            .json();
        assert_eq!(aliased["value"].as_array().unwrap().len(), 1);
        let succeeded = app
            .get("/api/workflows/w/runs?status=succeeded")
            .await
            .expect(200)
            .json();
        assert_eq!(succeeded["value"].as_array().unwrap().len(), 3);
        let failed = app
            .get("/api/workflows/w/runs?status=Failed")
            .await
            .expect(200)
            .json();
        assert_eq!(failed["value"], json!([]));

        app.get("/api/workflows/w/runs?status=Bogus")
            .await
            .expect_error(400, "BadRequest");
        app.get("/api/workflows/w/runs?before=garbage")
            .await
            .expect_error(400, "BadRequest");
        app.get("/api/workflows/w/runs?top=many")
            .await
            .expect_error(400, "BadRequest");
    }

    #[tokio::test]
    async fn a_run_its_actions_and_one_action() {
        let app = App::start().await;
        let saved = app.save("w", &hello()).await;
        app.save("other", &hello()).await;
        let run = app.run_to_success("w", &json!({ "greeting": "hi" })).await;
        let id = run["name"].as_str().unwrap();
        assert_eq!(run["workflow"], "w");
        assert_eq!(run["version"], saved["version"]);
        assert_eq!(run["trigger"]["name"], "manual");
        assert!(run["endTime"].is_string(), "{run}");

        let actions = app
            .get(&format!("/api/workflows/w/runs/{id}/actions"))
            .await
            .expect(200)
            .json();
        let actions = actions["value"].as_array().unwrap();
        assert_eq!(actions.len(), 1, "{actions:?}");
        assert_eq!(actions[0]["name"], "Say");
        assert_eq!(actions[0]["status"], "Succeeded");
        let say = app
            .get(&format!("/api/workflows/w/runs/{id}/actions/Say"))
            .await
            .expect(200)
            .json();
        assert_eq!(say["outputs"], json!({ "greeting": "hi" }));
        assert_eq!(say, actions[0]);

        app.get(&format!("/api/workflows/w/runs/{id}/actions/Nope"))
            .await
            .expect_error(404, "NotFound");
        app.get("/api/workflows/w/runs/no-such-run")
            .await
            .expect_error(404, "NotFound");
        // A run is only found under its own workflow.
        app.get(&format!("/api/workflows/other/runs/{id}"))
            .await
            .expect_error(404, "NotFound");
        app.post(&format!("/api/workflows/other/runs/{id}/cancel"), None)
            .await
            .expect_error(404, "NotFound");
    }

    #[tokio::test]
    async fn cancelling_an_ended_run_is_409() {
        let app = App::start().await;
        app.save("w", &hello()).await;
        let run = app.run_to_success("w", &json!({})).await;
        let id = run["name"].as_str().unwrap();
        let body = app
            .post(&format!("/api/workflows/w/runs/{id}/cancel"), None)
            .await
            .expect_error(409, "Conflict");
        assert!(
            body["error"]["message"]
                .as_str()
                .unwrap()
                .contains("Succeeded"),
            "{body}"
        );
        let after = app
            .get(&format!("/api/workflows/w/runs/{id}"))
            .await
            .expect(200)
            .json();
        assert_eq!(after["status"], "Succeeded");
        app.post("/api/workflows/w/runs/no-such-run/cancel", None)
            .await
            .expect_error(404, "NotFound");
    }

    #[tokio::test]
    async fn history_outlives_a_deleted_workflow() {
        let app = App::start().await;
        app.save("w", &hello()).await;
        let run = app.run_to_success("w", &json!({})).await;
        app.send(axum::http::Method::DELETE, "/api/workflows/w", None)
            .await
            .expect(200);
        let runs = app.get("/api/workflows/w/runs").await.expect(200).json();
        assert_eq!(runs["value"][0]["name"], run["name"]);
    }
}

mod webhooks {
    //! HttpWebhook triggers and actions against a small local service: the subscription
    //! ledger, trigger histories, repeated deliveries, subscribe failures (`502`), key
    //! regeneration, the callback URL of a waiting action (`200`, then `409`), and the list of
    //! waiting actions (`/api/waits`, per workflow).

    use crate::support::{App, Reply, hello, local_path, server_options};
    use axum::{
        Json, Router,
        body::{Body, Bytes},
        extract::{Path, State},
        http::{Method, Request, StatusCode, header},
        routing::{delete, post},
    };
    use hookflow_server::ServerOptions;
    use serde_json::{Value, json};
    use std::{
        sync::{
            Arc, Mutex,
            atomic::{AtomicBool, Ordering},
        },
        time::Duration,
    };

    /// A webhook service on `127.0.0.1`: `POST /subscribe` answers `201 {"id": "1"}` (or
    /// `400` while it refuses), `DELETE /subscriptions/{id}` answers `200`. It keeps every
    /// call it gets.
    struct Service {
        base: String,
        state: Arc<ServiceState>,
        task: tokio::task::JoinHandle<()>,
    }

    #[derive(Default)]
    struct ServiceState {
        refuse: AtomicBool,
        /// (path, JSON body or null), in order.
        calls: Mutex<Vec<(String, Value)>>,
    }

    impl Drop for Service {
        fn drop(&mut self) {
            self.task.abort();
        }
    }

    impl Service {
        async fn start() -> Service {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
                .await
                .expect("bind");
            let base = format!("http://{}", listener.local_addr().expect("address"));
            let state = Arc::new(ServiceState::default());
            let router = Router::new()
                .route("/subscribe", post(subscribe))
                .route("/subscriptions/{id}", delete(unsubscribe))
                .with_state(state.clone());
            let task = tokio::spawn(async move {
                axum::serve(listener, router)
                    .await
                    .expect("the service serves");
            });
            Service { base, state, task }
        }

        fn refuse(&self, refuse: bool) {
            self.state.refuse.store(refuse, Ordering::SeqCst);
        }

        /// The bodies of the calls to `path`.
        fn calls(&self, path: &str) -> Vec<Value> {
            let calls = self.state.calls.lock().expect("calls");
            calls
                .iter()
                .filter(|(p, _)| p == path)
                .map(|(_, body)| body.clone())
                .collect()
        }
    }

    async fn subscribe(
        State(state): State<Arc<ServiceState>>,
        body: Bytes,
    ) -> (StatusCode, Json<Value>) {
        let body = serde_json::from_slice(&body).unwrap_or(Value::Null);
        state
            .calls
            .lock()
            .expect("calls")
            .push(("/subscribe".into(), body));
        if state.refuse.load(Ordering::SeqCst) {
            (
                StatusCode::BAD_REQUEST,
                Json(json!({ "message": "no such topic" })),
            )
        } else {
            (StatusCode::CREATED, Json(json!({ "id": "1" })))
        }
    }

    async fn unsubscribe(
        State(state): State<Arc<ServiceState>>,
        Path(id): Path<String>,
    ) -> StatusCode {
        state
            .calls
            .lock()
            .expect("calls")
            .push((format!("/subscriptions/{id}"), Value::Null));
        StatusCode::OK
    }

    /// An HttpWebhook trigger `events` subscribing at `base` (no retries), unsubscribing by
    /// the id the service gave, and a Compose of the callback's body.
    fn webhook(base: &str) -> Value {
        json!({
            "definition": {
                "triggers": {
                    "events": {
                        "type": "HttpWebhook",
                        "inputs": {
                            "subscribe": {
                                "method": "POST",
                                "uri": format!("{base}/subscribe"),
                                "body": { "callbackUrl": "@{listCallbackUrl()}" },
                                "retryPolicy": { "type": "none" }
                            },
                            "unsubscribe": {
                                "method": "DELETE",
                                "uri": format!("{base}/subscriptions/@{{action().outputs.body.id}}")
                            }
                        }
                    }
                },
                "actions": { "Got": { "type": "Compose", "inputs": "@triggerBody()", "runAfter": {} } }
            }
        })
    }

    async fn ledger(app: &App, uri: &str) -> Vec<Value> {
        app.get(uri).await.expect(200).json()["value"]
            .as_array()
            .expect("value")
            .clone()
    }

    fn states(subscriptions: &[Value]) -> Vec<&str> {
        subscriptions
            .iter()
            .map(|s| s["state"].as_str().expect("state"))
            .collect()
    }

    /// Waits until the workflow's ledger shows `want` (oldest first): unsubscribing happens in
    /// the background.
    async fn wait_for_states(app: &App, workflow: &str, want: &[&str]) -> Vec<Value> {
        let uri = format!("/api/workflows/{workflow}/subscriptions");
        let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
        loop {
            let subscriptions = ledger(app, &uri).await;
            if states(&subscriptions) == want {
                return subscriptions;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "ledger of {workflow}: {subscriptions:?}, want {want:?}"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    async fn histories(app: &App, workflow: &str, trigger: &str) -> Vec<Value> {
        ledger(
            app,
            &format!("/api/workflows/{workflow}/triggers/{trigger}/histories"),
        )
        .await
    }

    /// (kind, status) of history entries.
    fn kinds(entries: &[Value]) -> Vec<(&str, &str)> {
        entries
            .iter()
            .map(|e| (e["kind"].as_str().unwrap(), e["status"].as_str().unwrap()))
            .collect()
    }

    /// POSTs `body` to a callback path, with a delivery id header when given.
    async fn deliver(app: &App, path: &str, body: &Value, id: Option<(&str, &str)>) -> Reply {
        let mut builder = Request::post(path).header(header::CONTENT_TYPE, "application/json");
        if let Some((name, value)) = id {
            builder = builder.header(name, value);
        }
        app.raw(builder.body(Body::from(body.to_string())).unwrap())
            .await
    }

    #[track_caller]
    fn assert_subscribe_failed(body: &Value) {
        let details = body["error"]["details"].as_array().expect("details");
        assert_eq!(details.len(), 1, "{body}");
        assert_eq!(
            details[0]["path"],
            "definition.triggers.events.inputs.subscribe"
        );
        let message = details[0]["message"].as_str().unwrap();
        assert!(
            message.contains("400") && message.contains("no such topic"),
            "{body}"
        );
        assert!(
            body["error"]["message"]
                .as_str()
                .unwrap()
                .contains("events"),
            "{body}"
        );
    }

    #[tokio::test]
    async fn the_ledger_and_the_history_follow_a_webhook_trigger() {
        let app = App::start().await;
        assert!(ledger(&app, "/api/subscriptions").await.is_empty());
        app.save("plain", &hello()).await;
        assert!(
            ledger(&app, "/api/workflows/plain/subscriptions")
                .await
                .is_empty()
        );
        app.get("/api/workflows/nope/subscriptions")
            .await
            .expect_error(404, "NotFound");

        // Saved enabled: subscribed before the save answers.
        let service = Service::start().await;
        let saved = app
            .put_workflow("hooks", &webhook(&service.base))
            .await
            .expect(201)
            .json();
        let subscriptions = ledger(&app, "/api/workflows/hooks/subscriptions").await;
        assert_eq!(subscriptions.len(), 1, "{subscriptions:?}");
        let subscription = &subscriptions[0];
        assert_eq!(subscription["state"], "Active");
        assert_eq!(subscription["workflow"], "hooks");
        assert_eq!(subscription["trigger"], "events");
        assert_eq!(subscription["version"], saved["version"]);
        assert_eq!(
            subscription["target"],
            format!("{}/subscribe", service.base)
        );
        assert_eq!(subscription["attempts"], 1);
        assert_eq!(subscription["nextAttemptTime"], Value::Null);
        assert_eq!(subscription["lastError"], Value::Null);
        assert_eq!(
            subscription["subscribeResponse"],
            json!({ "statusCode": 201, "body": { "id": "1" } })
        );
        assert!(
            subscription.get("callbackUrl").is_none(),
            "the signed URL is not shown: {subscription}"
        );
        assert_eq!(ledger(&app, "/api/subscriptions").await, subscriptions);
        assert!(
            ledger(&app, "/api/workflows/plain/subscriptions")
                .await
                .is_empty()
        );

        // The service was given the URL listCallbackUrl gives (POST, primary key).
        let callback = app.callback("hooks", "events").await;
        assert_eq!(callback["method"], "POST");
        assert_eq!(
            service.calls("/subscribe"),
            [json!({ "callbackUrl": callback["value"] })]
        );

        let history = histories(&app, "hooks", "events").await;
        assert_eq!(kinds(&history), [("Subscribe", "Succeeded")]);
        assert_eq!(history[0]["detail"]["subscription"], subscription["id"]);
        assert_eq!(history[0]["detail"]["statusCode"], 201);
        assert!(history[0].get("run").is_none(), "{history:?}");

        // Each callback starts a run; a repeated delivery gets the first one's run id.
        let path = local_path(callback["value"].as_str().unwrap());
        let mut runs = Vec::new();
        for header in ["Idempotency-Key", "webhook-id"] {
            let body = json!({ "via": header });
            let first = deliver(&app, &path, &body, Some((header, "delivery-1")))
                .await
                .expect(202)
                .run_id();
            let again = deliver(&app, &path, &body, Some((header, "delivery-1")))
                .await
                .expect(202)
                .run_id();
            assert_eq!(again, first, "{header}");
            let run = app.wait_for_run_status("hooks", &first, "Succeeded").await;
            assert_eq!(run["trigger"]["outputs"]["body"], body);
            runs.push(first);
        }
        assert_ne!(runs[0], runs[1]);
        let listed = app
            .get("/api/workflows/hooks/runs")
            .await
            .expect(200)
            .json();
        assert_eq!(listed["value"].as_array().unwrap().len(), 2, "{listed}");
        let history = histories(&app, "hooks", "events").await;
        assert_eq!(
            kinds(&history),
            [
                ("Fire", "Succeeded"),
                ("Fire", "Succeeded"),
                ("Subscribe", "Succeeded")
            ]
        );
        assert_eq!(history[0]["run"], runs[1].as_str());
        assert_eq!(history[1]["run"], runs[0].as_str());

        // Disabled: unsubscribed in the background, with the id the service gave.
        app.post("/api/workflows/hooks/disable", None)
            .await
            .expect(200);
        wait_for_states(&app, "hooks", &["Removed"]).await;
        assert_eq!(service.calls("/subscriptions/1"), [Value::Null]);
        let newest = ledger(
            &app,
            "/api/workflows/hooks/triggers/events/histories?$top=1",
        )
        .await;
        assert_eq!(kinds(&newest), [("Unsubscribe", "Succeeded")]);
    }

    #[tokio::test]
    async fn a_refused_subscribe_is_a_502_and_changes_nothing() {
        let app = App::start().await;
        let service = Service::start().await;
        service.refuse(true);
        let body = app
            .put_workflow("hooks", &webhook(&service.base))
            .await
            .expect_error(502, "WebhookSubscribeFailed");
        assert_subscribe_failed(&body);
        app.get("/api/workflows/hooks")
            .await
            .expect_error(404, "NotFound");
        // The ledger keeps the failed call, though the workflow was not created.
        let all = ledger(&app, "/api/subscriptions").await;
        assert_eq!(states(&all), ["Failed"]);
        assert!(
            all[0]["lastError"].as_str().unwrap().contains("400"),
            "{all:?}"
        );
        assert_eq!(all[0]["subscribeResponse"], Value::Null);
        app.get("/api/workflows/hooks/subscriptions")
            .await
            .expect_error(404, "NotFound");

        // Saved disabled, nothing subscribes; enabling does, and a refusal keeps it disabled.
        let mut disabled = webhook(&service.base);
        disabled["state"] = json!("Disabled");
        app.put_workflow("hooks", &disabled).await.expect(201);
        assert_eq!(service.calls("/subscribe").len(), 1);
        let body = app
            .post("/api/workflows/hooks/enable", None)
            .await
            .expect_error(502, "WebhookSubscribeFailed");
        assert_subscribe_failed(&body);
        assert_eq!(
            app.get("/api/workflows/hooks").await.expect(200).json()["state"],
            "Disabled"
        );

        service.refuse(false);
        assert_eq!(
            app.post("/api/workflows/hooks/enable", None)
                .await
                .expect(200)
                .json()["state"],
            "Enabled"
        );
        wait_for_states(&app, "hooks", &["Failed", "Failed", "Active"]).await;
        let history = histories(&app, "hooks", "events").await;
        assert_eq!(
            kinds(&history),
            [
                ("Subscribe", "Succeeded"),
                ("Subscribe", "Failed"),
                ("Subscribe", "Failed")
            ]
        );
        assert!(history[1]["detail"]["error"].is_string(), "{history:?}");
    }

    #[tokio::test]
    async fn regenerating_the_key_of_a_webhook_subscribes_again() {
        let app = App::start().await;
        let service = Service::start().await;
        app.save("hooks", &webhook(&service.base)).await;
        let old = local_path(
            app.callback("hooks", "events").await["value"]
                .as_str()
                .unwrap(),
        );
        let regenerate = "/api/workflows/hooks/regenerateAccessKey";

        // The secondary key signs no subscribed URL: nothing to subscribe again.
        app.post(regenerate, Some(&json!({ "keyType": "Secondary" })))
            .await
            .expect(200);
        assert_eq!(service.calls("/subscribe").len(), 1);

        // A refused subscribe keeps the old key.
        service.refuse(true);
        let body = app
            .post(regenerate, Some(&json!({ "keyType": "Primary" })))
            .await
            .expect_error(502, "WebhookSubscribeFailed");
        assert_subscribe_failed(&body);
        deliver(&app, &old, &json!({}), None).await.expect(202);

        service.refuse(false);
        app.post(regenerate, Some(&json!({ "keyType": "Primary" })))
            .await
            .expect(200);
        deliver(&app, &old, &json!({}), None)
            .await
            .expect_error(401, "Unauthorized");
        let new = app.callback("hooks", "events").await["value"].clone();
        let subscribed = service.calls("/subscribe");
        assert_eq!(subscribed.len(), 3);
        assert_eq!(subscribed[2], json!({ "callbackUrl": new }));
        deliver(&app, &local_path(new.as_str().unwrap()), &json!({}), None)
            .await
            .expect(202);
        // The old subscription is removed; the new one is Active.
        wait_for_states(&app, "hooks", &["Removed", "Failed", "Active"]).await;
        assert_eq!(service.calls("/subscriptions/1").len(), 1);
    }

    /// A Request trigger `manual`, then `Wait` (an HttpWebhook action subscribing at `base`
    /// with its callback URL, no retries, unsubscribing by the id the service gave) with an
    /// optional timeout, then `Got`, a Compose of the callback's body.
    fn webhook_action(base: &str, timeout: Option<&str>) -> Value {
        let mut document = json!({
            "definition": {
                "triggers": { "manual": { "type": "Request", "kind": "Http" } },
                "actions": {
                    "Wait": {
                        "type": "HttpWebhook",
                        "inputs": {
                            "subscribe": {
                                "method": "POST",
                                "uri": format!("{base}/subscribe"),
                                "body": { "callbackUrl": "@{listCallbackUrl()}" },
                                "retryPolicy": { "type": "none" }
                            },
                            "unsubscribe": {
                                "method": "DELETE",
                                "uri": format!("{base}/subscriptions/@{{action().outputs.body.id}}")
                            }
                        },
                        "runAfter": {}
                    },
                    "Got": { "type": "Compose", "inputs": "@body('Wait')", "runAfter": { "Wait": ["Succeeded"] } }
                }
            }
        });
        if let Some(timeout) = timeout {
            document["definition"]["actions"]["Wait"]["limit"] = json!({ "timeout": timeout });
        }
        document
    }

    /// Polls until `check` gives a value, for at most 20 s.
    async fn eventually<T>(what: &str, mut check: impl AsyncFnMut() -> Option<T>) -> T {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
        loop {
            if let Some(value) = check().await {
                return value;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "{what}: deadline passed"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Fires `workflow`'s trigger and waits until its `Wait` action has subscribed (the
    /// `nth` subscribe call the service got, counting from 1) and recorded the answer. Returns
    /// the run id and the path and query of the callback URL the service was given.
    async fn start_waiting(
        app: &App,
        service: &Service,
        workflow: &str,
        nth: usize,
    ) -> (String, String) {
        let trigger = app.callback_path(workflow, "manual").await;
        let run_id = app
            .fire(Method::POST, &trigger, Some(&json!({})))
            .await
            .expect(202)
            .run_id();
        let subscribed = eventually("the subscribe call", async || {
            service.calls("/subscribe").get(nth - 1).cloned()
        })
        .await;
        let url = subscribed["callbackUrl"].as_str().expect("callbackUrl");
        let action = format!("/api/workflows/{workflow}/runs/{run_id}/actions/Wait");
        eventually("the subscribe answer", async || {
            let action = app.get(&action).await.expect(200).json();
            action["inputs"]["subscribeResponse"]
                .is_object()
                .then_some(())
        })
        .await;
        (run_id, local_path(url))
    }

    async fn action(app: &App, workflow: &str, run_id: &str, action: &str) -> Value {
        app.get(&format!(
            "/api/workflows/{workflow}/runs/{run_id}/actions/{action}"
        ))
        .await
        .expect(200)
        .json()
    }

    /// `method path` with a body of `content_type` and extra headers, as a service would
    /// call back (no bearer token).
    async fn call_back(
        app: &App,
        method: Method,
        path: &str,
        content_type: &str,
        body: impl Into<Body>,
        headers: &[(&str, &str)],
    ) -> Reply {
        let mut builder = Request::builder()
            .method(method)
            .uri(path)
            .header(header::CONTENT_TYPE, content_type);
        for (name, value) in headers {
            builder = builder.header(*name, *value);
        }
        app.raw(builder.body(body.into()).unwrap()).await
    }

    /// POSTs `body` as JSON to a callback path, with extra headers.
    async fn post_json(app: &App, path: &str, body: &Value, headers: &[(&str, &str)]) -> Reply {
        call_back(
            app,
            Method::POST,
            path,
            "application/json",
            body.to_string(),
            headers,
        )
        .await
    }

    #[tokio::test]
    async fn a_waiting_action_is_resumed_once_by_its_callback_url() {
        let app = App::start().await;
        let service = Service::start().await;
        app.save("approvals", &webhook_action(&service.base, None))
            .await;
        let (run_id, path) = start_waiting(&app, &service, "approvals", 1).await;
        let (route, query) = path.split_once('?').expect("a query");
        assert_eq!(
            route,
            format!("/workflows/approvals/runs/{run_id}/actions/Wait/run")
        );
        for name in ["api-version=", "sp=", "sv=", "sig="] {
            assert!(
                query.split('&').any(|pair| pair.starts_with(name)),
                "{name} in {query}"
            );
        }
        assert_eq!(
            action(&app, "approvals", &run_id, "Wait").await["status"],
            "Waiting"
        );

        // Refusals change nothing: a callback is a POST...
        for method in [Method::GET, Method::PUT, Method::PATCH, Method::DELETE] {
            call_back(&app, method, &path, "application/json", "{}", &[])
                .await
                .expect_error(405, "MethodNotAllowed");
        }
        // ...with the signature of this run and action (checked before the method)...
        let bad_signatures = [
            route.to_owned(),
            format!("{path}x"),
            path.replacen("/actions/Wait/", "/actions/Got/", 1),
            path.replacen(&run_id, "another-run", 1),
        ];
        for bad in &bad_signatures {
            for method in [Method::POST, Method::GET] {
                call_back(&app, method, bad, "application/json", "{}", &[])
                    .await
                    .expect_error(401, "Unauthorized");
            }
        }
        // ...to a workflow that exists and is enabled...
        call_back(
            &app,
            Method::POST,
            &path.replacen("/workflows/approvals/", "/workflows/nope/", 1),
            "application/json",
            "{}",
            &[],
        )
        .await
        .expect_error(404, "NotFound");
        app.post("/api/workflows/approvals/disable", None)
            .await
            .expect(200);
        post_json(&app, &path, &json!({}), &[])
            .await
            .expect_error(404, "NotFound");
        app.post("/api/workflows/approvals/enable", None)
            .await
            .expect(200);
        // ...with a body that is what it says.
        call_back(
            &app,
            Method::POST,
            &path,
            "application/json",
            "{not json",
            &[],
        )
        .await
        .expect_error(400, "BadRequest");
        assert_eq!(
            action(&app, "approvals", &run_id, "Wait").await["status"],
            "Waiting"
        );
        assert_eq!(
            app.get(&format!("/api/workflows/approvals/runs/{run_id}"))
                .await
                .expect(200)
                .json()["status"],
            "Running"
        );

        // The first valid callback resumes the action: 200, empty, once durable.
        let approve = json!({ "decision": "approve" });
        let reply = post_json(
            &app,
            &path,
            &approve,
            &[("X-Approver", "ada"), ("Idempotency-Key", "d1")],
        )
        .await
        .expect(200);
        assert!(reply.body.is_empty(), "{:?}", reply.body);
        app.wait_for_run_status("approvals", &run_id, "Succeeded")
            .await;
        let wait = action(&app, "approvals", &run_id, "Wait").await;
        assert_eq!(wait["status"], "Succeeded", "{wait}");
        let outputs = wait["outputs"].as_object().expect("outputs");
        let mut keys: Vec<&str> = outputs.keys().map(String::as_str).collect();
        keys.sort_unstable();
        assert_eq!(keys, ["body", "headers"], "{wait}");
        assert_eq!(outputs["body"], approve);
        assert_eq!(outputs["headers"]["X-Approver"], "ada", "{wait}");
        assert_eq!(
            outputs["headers"]["Content-Type"], "application/json",
            "{wait}"
        );
        assert_eq!(
            action(&app, "approvals", &run_id, "Got").await["outputs"],
            approve
        );
        // Resumed, the action unsubscribes with the id the service gave.
        eventually("the unsubscribe call", async || {
            (!service.calls("/subscriptions/1").is_empty()).then_some(())
        })
        .await;

        // Later callbacks: another one is 409, a repeat of the winner gets its 200 again.
        let reject = json!({ "decision": "reject" });
        for headers in [
            &[][..],
            &[("Idempotency-Key", "d2")],
            &[("webhook-id", "d1")],
        ] {
            let body = post_json(&app, &path, &reject, headers)
                .await
                .expect_error(409, "ActionNotWaiting");
            assert!(
                body["error"]["message"]
                    .as_str()
                    .unwrap()
                    .contains("another callback"),
                "{body}"
            );
        }
        let reply = post_json(&app, &path, &approve, &[("Idempotency-Key", "d1")])
            .await
            .expect(200);
        assert!(reply.body.is_empty(), "{:?}", reply.body);
        // Neither changed the outcome.
        let wait = action(&app, "approvals", &run_id, "Wait").await;
        assert_eq!(wait["outputs"]["body"], approve, "{wait}");
        assert_eq!(
            app.get(&format!("/api/workflows/approvals/runs/{run_id}"))
                .await
                .expect(200)
                .json()["status"],
            "Succeeded"
        );
    }

    #[tokio::test]
    async fn an_action_that_no_longer_waits_refuses_its_callback_with_409() {
        let app = App::with(ServerOptions {
            max_body_bytes: 4096,
            ..server_options()
        })
        .await;
        let service = Service::start().await;

        // Cancelled: the run's wait is closed.
        app.save("cancel", &webhook_action(&service.base, None))
            .await;
        let (run_id, path) = start_waiting(&app, &service, "cancel", 1).await;
        let oversized = vec![b' '; 8 * 1024];
        call_back(
            &app,
            Method::POST,
            &path,
            "application/json",
            oversized,
            &[],
        )
        .await
        .expect_error(413, "PayloadTooLarge");
        assert_eq!(
            action(&app, "cancel", &run_id, "Wait").await["status"],
            "Waiting"
        );
        app.post(&format!("/api/workflows/cancel/runs/{run_id}/cancel"), None)
            .await
            .expect(202);
        app.wait_for_run_status("cancel", &run_id, "Cancelled")
            .await;
        call_back(&app, Method::POST, &path, "application/json", "{}", &[])
            .await
            .expect_error(409, "ActionNotWaiting");
        assert_eq!(
            action(&app, "cancel", &run_id, "Wait").await["status"],
            "Cancelled"
        );

        // Timed out: the run fails, and the callback comes too late.
        app.save("impatient", &webhook_action(&service.base, Some("PT1S")))
            .await;
        let (run_id, path) = start_waiting(&app, &service, "impatient", 2).await;
        app.wait_for_run_status("impatient", &run_id, "Failed")
            .await;
        assert_eq!(
            action(&app, "impatient", &run_id, "Wait").await["status"],
            "TimedOut"
        );
        let body = call_back(&app, Method::POST, &path, "application/json", "{}", &[])
            .await
            .expect_error(409, "ActionNotWaiting");
        assert!(
            body["error"]["message"]
                .as_str()
                .unwrap()
                .contains("timed out"),
            "{body}"
        );
    }
    /// The waits `uri` lists: (run, workflow, action) of each, in order.
    async fn waits(app: &App, uri: &str) -> Vec<(String, String, String)> {
        ledger(app, uri)
            .await
            .iter()
            .map(|w| {
                let field = |name: &str| w[name].as_str().expect(name).to_owned();
                (field("run"), field("workflow"), field("action"))
            })
            .collect()
    }

    #[tokio::test]
    async fn waiting_actions_are_listed_until_called_back() {
        let app = App::start().await;
        let service = Service::start().await;
        app.save("approvals", &webhook_action(&service.base, None))
            .await;
        app.save("other", &hello()).await;
        let all = "/api/waits";
        let mine = "/api/workflows/approvals/waits";
        // Nothing waits yet; an unknown workflow has an empty list too (not a 404).
        for uri in [
            all,
            mine,
            "/api/workflows/other/waits",
            "/api/workflows/nope/waits",
        ] {
            assert_eq!(waits(&app, uri).await, [], "{uri}");
        }

        // A waiting action is listed on both routes once its subscribe call was answered.
        let (first, first_path) = start_waiting(&app, &service, "approvals", 1).await;
        let listed = eventually("the wait is subscribed", async || {
            let listed = ledger(&app, all).await;
            (listed.len() == 1 && listed[0]["subscription"] == "Subscribed").then_some(listed)
        })
        .await;
        let wait = &listed[0];
        assert_eq!(wait["run"], first.as_str(), "{wait}");
        assert_eq!(wait["workflow"], "approvals", "{wait}");
        assert_eq!(wait["action"], "Wait", "{wait}");
        // Same format, fixed width: the strings compare as the times do.
        let since = wait["since"].as_str().expect("since");
        let deadline = wait["deadline"].as_str().expect("deadline");
        assert!(since < deadline, "{wait}");
        assert_eq!(ledger(&app, mine).await, listed);
        for uri in ["/api/workflows/other/waits", "/api/workflows/nope/waits"] {
            assert_eq!(waits(&app, uri).await, [], "{uri}");
        }

        // Two waits, oldest first; `top` limits the list.
        let (second, second_path) = start_waiting(&app, &service, "approvals", 2).await;
        let entry = |run: &str| (run.to_owned(), "approvals".to_owned(), "Wait".to_owned());
        for uri in [all, mine] {
            assert_eq!(
                waits(&app, uri).await,
                [entry(&first), entry(&second)],
                "{uri}"
            );
            for top in ["top=1", "$top=1", "top=0"] {
                assert_eq!(
                    waits(&app, &format!("{uri}?{top}")).await,
                    [entry(&first)],
                    "{uri}?{top}"
                );
            }
            for top in ["top=x", "$top=x", "top=-1"] {
                app.get(&format!("{uri}?{top}"))
                    .await
                    .expect_error(400, "BadRequest");
            }
        }

        // A callback resumes the action: it no longer waits.
        post_json(&app, &first_path, &json!({ "decision": "approve" }), &[])
            .await
            .expect(200);
        app.wait_for_run_status("approvals", &first, "Succeeded")
            .await;
        for uri in [all, mine] {
            assert_eq!(waits(&app, uri).await, [entry(&second)], "{uri}");
        }
        post_json(&app, &second_path, &json!({ "decision": "reject" }), &[])
            .await
            .expect(200);
        app.wait_for_run_status("approvals", &second, "Succeeded")
            .await;
        for uri in [all, mine] {
            assert_eq!(waits(&app, uri).await, [], "{uri}");
        }
    }
}

mod openapi {
    //! `openapi.json` and the router describe the same API.

    use crate::{
        spec::{self, DOC, METHODS, is_fallback, resolve},
        support::{App, hello},
    };
    use axum::{
        body::Body,
        http::{Method, Request, header},
    };
    use serde_json::{Value, json};
    use std::collections::{BTreeSet, HashSet};

    /// Every route the router serves: (method, path). `ANY` is a route for every method, which
    /// the document lists as get, post, put, patch and delete. Checked against the document in
    /// both directions, and against the `.route(...)` calls in `src/` by
    /// [`routes_in_the_source_are_listed`].
    const ROUTES: &[(&str, &str)] = &[
        ("GET", "/healthz"),
        ("GET", "/api/openapi.json"),
        ("GET", "/api/workflows"),
        ("GET", "/api/workflows/{name}"),
        ("PUT", "/api/workflows/{name}"),
        ("DELETE", "/api/workflows/{name}"),
        ("POST", "/api/workflows/{name}/enable"),
        ("POST", "/api/workflows/{name}/disable"),
        ("POST", "/api/workflows/{name}/validate"),
        ("GET", "/api/workflows/{name}/versions"),
        ("POST", "/api/workflows/{name}/regenerateAccessKey"),
        (
            "POST",
            "/api/workflows/{name}/triggers/{trigger}/listCallbackUrl",
        ),
        ("GET", "/api/workflows/{name}/triggers/{trigger}/histories"),
        ("POST", "/api/workflows/{name}/triggers/{trigger}/run"),
        ("GET", "/api/subscriptions"),
        ("GET", "/api/workflows/{name}/subscriptions"),
        ("GET", "/api/waits"),
        ("GET", "/api/workflows/{name}/waits"),
        ("GET", "/api/workflows/{name}/runs"),
        ("GET", "/api/workflows/{name}/runs/{run}"),
        ("POST", "/api/workflows/{name}/runs/{run}/cancel"),
        ("GET", "/api/workflows/{name}/runs/{run}/actions"),
        ("GET", "/api/workflows/{name}/runs/{run}/actions/{action}"),
        (
            "GET",
            "/api/workflows/{name}/runs/{run}/actions/{action}/repetitions",
        ),
        ("ANY", "/workflows/{name}/triggers/{trigger}/paths/invoke"),
        (
            "ANY",
            "/workflows/{name}/triggers/{trigger}/paths/invoke/{*relative}",
        ),
        ("ANY", "/workflows/{name}/runs/{run}/actions/{action}/run"),
    ];

    /// The methods `ANY` routes are documented with.
    const ANY_METHODS: &[&str] = &["get", "post", "put", "patch", "delete"];

    /// Where each source file's routes are mounted (see `router` in `src/lib.rs`).
    const ROUTE_FILES: &[(&str, &str)] = &[
        ("workflows.rs", "/api"),
        ("runs.rs", "/api"),
        ("triggers.rs", "/api"),
        ("openapi.rs", "/api"),
        ("callbacks.rs", ""),
        ("health.rs", ""),
    ];

    /// `/a/{name}/b/{*rest}` → `/a/{}/b/{}`.
    fn shape(path: &str) -> String {
        path.split('/')
            .map(|s| {
                if s.starts_with('{') && s.ends_with('}') {
                    "{}"
                } else {
                    s
                }
            })
            .collect::<Vec<_>>()
            .join("/")
    }

    /// (method, path shape) of every documented operation.
    fn documented() -> BTreeSet<(String, String)> {
        let mut out = BTreeSet::new();
        for (path, item) in DOC["paths"].as_object().unwrap() {
            for method in METHODS {
                if item.get(*method).is_some() {
                    out.insert((method.to_string(), shape(path)));
                }
            }
        }
        out
    }

    /// (method, path shape) of every listed route, `ANY` expanded.
    fn listed() -> BTreeSet<(String, String)> {
        let mut out = BTreeSet::new();
        for (method, path) in ROUTES {
            let methods: Vec<String> = if *method == "ANY" {
                ANY_METHODS.iter().map(|m| m.to_string()).collect()
            } else {
                vec![method.to_ascii_lowercase()]
            };
            for method in methods {
                out.insert((method, shape(path)));
            }
        }
        out
    }

    #[tokio::test]
    async fn the_document_is_served() {
        let app = App::start().await;
        let reply = app.get("/api/openapi.json").await.expect(200);
        assert_eq!(reply.headers[header::CONTENT_TYPE], "application/json");
        assert_eq!(
            reply.body,
            spec::TEXT.as_bytes(),
            "/api/openapi.json serves openapi.json"
        );
    }

    #[test]
    fn the_document_is_well_formed() {
        assert_eq!(DOC["openapi"], "3.1.0");
        // Every $ref resolves.
        fn walk(value: &Value) {
            match value {
                Value::Object(object) => {
                    if object.contains_key("$ref") {
                        resolve(value);
                    }
                    object.values().for_each(walk);
                }
                Value::Array(array) => array.iter().for_each(walk),
                _ => {}
            }
        }
        walk(&DOC);
        let mut operation_ids = HashSet::new();
        for (path, item) in DOC["paths"].as_object().unwrap() {
            let in_path: BTreeSet<&str> = path
                .split('/')
                .filter_map(|s| s.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
                .collect();
            for method in METHODS {
                let Some(operation) = item.get(*method) else {
                    continue;
                };
                let id = operation["operationId"]
                    .as_str()
                    .unwrap_or_else(|| panic!("{method} {path}: no operationId"));
                assert!(
                    operation_ids.insert(id.to_owned()),
                    "operationId {id} is used twice"
                );
                let parameters: Vec<&Value> = item
                    .get("parameters")
                    .into_iter()
                    .chain(operation.get("parameters"))
                    .flat_map(|p| p.as_array().unwrap())
                    .map(resolve)
                    .collect();
                let declared: BTreeSet<&str> = parameters
                    .iter()
                    .filter(|p| p["in"] == "path")
                    .map(|p| p["name"].as_str().unwrap())
                    .collect();
                assert_eq!(declared, in_path, "{method} {path}: path parameters");
                let responses = operation["responses"]
                    .as_object()
                    .unwrap_or_else(|| panic!("{method} {path}: no responses"));
                assert!(!responses.is_empty(), "{method} {path}: no responses");
                for (status, response) in responses {
                    assert!(
                        resolve(response)["description"].is_string(),
                        "{method} {path} {status}: no description"
                    );
                }
                let secured = operation.get("security").unwrap_or(&DOC["security"]);
                let bearer = secured
                    .as_array()
                    .is_some_and(|s| s.iter().any(|r| r.get("bearerAuth").is_some()));
                let behind_token = path.starts_with("/api/") && path != "/api/openapi.json";
                assert_eq!(bearer, behind_token, "{method} {path}: bearerAuth");
                if behind_token {
                    assert!(
                        responses.contains_key("401"),
                        "{method} {path}: the token can be refused"
                    );
                }
            }
        }
    }

    #[test]
    fn listed_routes_and_documented_operations_agree() {
        let documented = documented();
        let listed = listed();
        let undocumented: Vec<_> = listed.difference(&documented).collect();
        assert!(
            undocumented.is_empty(),
            "routes the router serves but openapi.json lacks: {undocumented:?}"
        );
        let unlisted: Vec<_> = documented.difference(&listed).collect();
        assert!(
            unlisted.is_empty(),
            "operations in openapi.json missing from ROUTES: {unlisted:?}"
        );
    }

    /// Reads the `.route("path", get(..).put(..))` calls of `src/*.rs`.
    fn routes_in_source() -> BTreeSet<(String, String)> {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let mut out = BTreeSet::new();
        for entry in std::fs::read_dir(&dir).unwrap() {
            let file = entry.unwrap().path();
            let name = file.file_name().unwrap().to_string_lossy().into_owned();
            let text = std::fs::read_to_string(&file).unwrap();
            let calls: Vec<&str> = text.split(".route(").skip(1).collect();
            if calls.is_empty() {
                continue;
            }
            let prefix = ROUTE_FILES
                .iter()
                .find(|(f, _)| *f == name)
                .unwrap_or_else(|| {
                    panic!("src/{name} declares routes: add where they are mounted to ROUTE_FILES")
                })
                .1;
            for call in calls {
                let call = call.trim_start();
                let rest = call
                    .strip_prefix('"')
                    .unwrap_or_else(|| panic!("src/{name}: .route( without a literal path"));
                let (path, rest) = rest.split_once('"').unwrap();
                // The arguments up to the `)` closing `.route(`.
                let mut depth = 1;
                let end = rest
                    .char_indices()
                    .find(|(_, c)| {
                        match c {
                            '(' => depth += 1,
                            ')' => depth -= 1,
                            _ => {}
                        }
                        depth == 0
                    })
                    .map(|(i, _)| i)
                    .unwrap();
                let arguments = &rest[..end];
                let mut methods = Vec::new();
                for method in [
                    "get", "put", "post", "delete", "patch", "head", "options", "trace", "any",
                ] {
                    let needle = format!("{method}(");
                    let found = arguments.match_indices(&needle).any(|(i, _)| {
                        !arguments[..i]
                            .ends_with(|c: char| c.is_alphanumeric() || c == '_' || c == ':')
                    });
                    if found {
                        methods.push(method);
                    }
                }
                assert!(
                    !methods.is_empty(),
                    "src/{name}: no method found for {path}"
                );
                for method in methods {
                    let methods: Vec<&str> = if method == "any" {
                        ANY_METHODS.to_vec()
                    } else {
                        vec![method]
                    };
                    for m in methods {
                        out.insert((m.to_owned(), shape(&format!("{prefix}{path}"))));
                    }
                }
            }
        }
        out
    }

    #[test]
    fn routes_in_the_source_are_listed() {
        let in_source = routes_in_source();
        assert!(
            in_source.len() >= 20,
            "the source scan found too little: {in_source:?}"
        );
        let listed = listed();
        let unlisted: Vec<_> = in_source.difference(&listed).collect();
        assert!(
            unlisted.is_empty(),
            "routes in src/ missing from ROUTES (and so from openapi.json?): {unlisted:?}"
        );
        let stale: Vec<_> = listed.difference(&in_source).collect();
        assert!(
            stale.is_empty(),
            "ROUTES lists routes src/ no longer declares: {stale:?}"
        );
    }

    /// The placeholders of documented paths, filled with names that exist or that don't.
    fn fill(template: &str, names: &[(&str, &str)]) -> String {
        names
            .iter()
            .fold(template.to_owned(), |path, (placeholder, value)| {
                path.replace(placeholder, value)
            })
    }

    #[tokio::test]
    async fn every_documented_operation_is_served() {
        let app = App::start().await;
        app.save("probe", &hello()).await;
        let run = app.run_to_success("probe", &json!({ "probe": true })).await;
        let run_id = run["name"].as_str().unwrap().to_owned();
        let real = [
            ("{workflowName}", "probe"),
            ("{triggerName}", "manual"),
            ("{runId}", run_id.as_str()),
            ("{actionName}", "Say"),
            ("{relativePath}", "a/b"),
        ];
        let missing = [
            ("{workflowName}", "no-such-workflow"),
            ("{triggerName}", "no-such-trigger"),
            ("{runId}", "no-such-run"),
            ("{actionName}", "no-such-action"),
            ("{relativePath}", "a/b"),
        ];
        let mut operations = Vec::new();
        for (template, item) in DOC["paths"].as_object().unwrap() {
            for method in METHODS {
                if let Some(operation) = item.get(*method) {
                    operations.push((template.as_str(), *method, operation));
                }
            }
        }
        // The workflow is deleted last, so the other operations find it.
        operations.sort_by_key(|(_, _, operation)| operation["operationId"] == "deleteWorkflow");
        assert!(operations.len() >= 25, "{} operations", operations.len());
        for (names, exists) in [(&missing, false), (&real, true)] {
            for (template, method, operation) in &operations {
                let uri = fill(template, names);
                let mut builder = Request::builder()
                    .method(method.to_ascii_uppercase().as_str())
                    .uri(&uri);
                let has_json_body = operation
                    .pointer("/requestBody/content/application~1json")
                    .is_some();
                let body = if has_json_body {
                    builder = builder.header(header::CONTENT_TYPE, "application/json");
                    let body = match operation["operationId"].as_str().unwrap() {
                        // The body is checked before the workflow is looked up.
                        "regenerateAccessKey" => json!({ "keyType": "Secondary" }),
                        // With missing names, an invalid document: a PUT must not create the
                        // workflow.
                        _ if exists => hello(),
                        _ => json!({}),
                    };
                    Body::from(body.to_string())
                } else {
                    Body::empty()
                };
                let reply = app.raw(builder.body(body).unwrap()).await;
                let what = format!("{method} {uri} ({})", operation["operationId"]);
                assert!(
                    !is_fallback(&reply),
                    "{what} reached the router's fallback: the route is not served"
                );
                if template.starts_with("/api/") {
                    assert_ne!(
                        reply.status, 405,
                        "{what}: the router does not serve this method"
                    );
                }
                let status = reply.status.as_u16();
                if exists {
                    // With real names, only the expected refusals.
                    let expected_refusal = match operation["operationId"].as_str().unwrap() {
                        "cancelRun" => Some(409),
                        // The probe's trigger is a Request trigger, not a Recurrence.
                        "runTrigger" => Some(404),
                        // Signed URLs, called here without a signature.
                        id if id.starts_with("invokeTrigger")
                            || id.starts_with("callbackAction") =>
                        {
                            Some(401)
                        }
                        _ => None,
                    };
                    match expected_refusal {
                        Some(refusal) => assert_eq!(status, refusal, "{what}"),
                        None => assert!(
                            (200..300).contains(&status),
                            "{what} answered {status}: {:?}",
                            reply.body
                        ),
                    }
                } else if template.contains("{workflowName}") {
                    let refused = match operation["operationId"].as_str().unwrap() {
                        "putWorkflow" | "validateWorkflow" => 400,
                        // A trigger's history and a workflow's waits outlive the workflow:
                        // unknown, they are empty.
                        "listTriggerHistories" | "listWorkflowWaits" => 200,
                        // An unknown workflow is 404 before its signature is checked.
                        _ => 404,
                    };
                    assert_eq!(status, refused, "{what}: {:?}", reply.body);
                }
            }
        }
    }

    #[tokio::test]
    async fn undocumented_methods_and_paths_are_refused() {
        let app = App::start().await;
        for (method, uri) in [
            (Method::PATCH, "/api/workflows/x"),
            (Method::POST, "/api/workflows"),
            (Method::POST, "/healthz"),
        ] {
            let reply = app.send(method.clone(), uri, None).await;
            assert_eq!(reply.status, 405, "{method} {uri}");
        }
        for uri in ["/api", "/api/workflows/x/unknown", "/workflows/x", "/"] {
            assert!(is_fallback(&app.get(uri).await), "{uri}");
        }
    }
}

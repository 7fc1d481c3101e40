//! [`StaticScope`]: a [`Scope`] over fixed data, for evaluating expressions offline
//! (`hookflow eval`) and in tests.
//!
//! It is built from one JSON context object; every member is optional:
//!
//! ```json
//! {
//!   "trigger":     {"outputs": {"headers": {}, "body": {}}},
//!   "actions":     {"Get_Order": {"status": "Succeeded", "outputs": {"body": {}}}},
//!   "parameters":  {"name": "value"},
//!   "variables":   {"counter": 1},
//!   "now":         "2024-01-01T00:00:00Z",
//!   "workflow":    {"name": "wf", "run": {"name": "run1"}},
//!   "item":        {},
//!   "items":       {"For_each": {}},
//!   "iterationIndexes": {"Until": 0},
//!   "results":     {"Scope": []},
//!   "appsettings": {"key": "value"},
//!   "callbackUrl": "https://...",
//!   "seed":        42
//! }
//! ```
//!
//! Names resolve ignoring case, like the engine's. An action whose value is `null` exists but
//! has not run. `guid()` and `rand()` draw from a generator seeded with `seed` (0 by default),
//! so results are reproducible; the caller may reseed it (the CLI does, from the OS).

use crate::value::find_key;
use crate::{Error, ErrorKind, Scope, Value};
use serde_json::Map;
use std::cell::Cell;

/// A [`Scope`] over data given up front. See the module documentation for the context shape.
#[derive(Debug, Default)]
pub struct StaticScope {
    context: Map<String, Value>,
    now: Option<jiff::Timestamp>,
    random: Cell<u64>,
}

fn missing(what: &str, name: &str) -> Error {
    Error {
        kind: ErrorKind::InvalidArgument,
        message: format!("the {what} '{name}' is not defined in the context"),
        span: None,
    }
}

fn not_given(what: &str) -> Error {
    Error {
        kind: ErrorKind::NotAvailable,
        message: format!("the context has no '{what}'"),
        span: None,
    }
}

impl StaticScope {
    /// Builds the scope from a context object; fails if it is not an object or if `now` or
    /// `seed` are malformed.
    pub fn from_context(context: &Value) -> Result<Self, Error> {
        let map = match context {
            Value::Object(map) => map.clone(),
            Value::Null => Map::new(),
            _ => return Err(Error::invalid("the context must be a JSON object")),
        };
        let now = match map.get("now") {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) => Some(s.parse::<jiff::Timestamp>().map_err(|e| {
                Error::invalid(format!(
                    "the context's 'now' must be an RFC 3339 timestamp with an offset: {e}"
                ))
            })?),
            Some(_) => return Err(Error::invalid("the context's 'now' must be a string")),
        };
        let seed = match map.get("seed") {
            None | Some(Value::Null) => 0,
            Some(v) => v.as_u64().ok_or_else(|| {
                Error::invalid("the context's 'seed' must be a non-negative integer")
            })?,
        };
        Ok(StaticScope {
            context: map,
            now,
            random: Cell::new(seed),
        })
    }

    /// Sets the time `utcNow()` reads, unless the context fixed one. The caller reads the clock:
    /// this crate never does.
    pub fn with_default_now(mut self, now: std::time::SystemTime) -> Self {
        if self.now.is_none() {
            self.now = jiff::Timestamp::try_from(now).ok();
        }
        self
    }

    /// Reseeds the generator behind `guid()` and `rand()`, unless the context gave a seed.
    pub fn with_default_seed(self, seed: u64) -> Self {
        if !self.context.contains_key("seed") {
            self.random.set(seed);
        }
        self
    }

    fn section(&self, key: &str) -> Option<&Value> {
        self.context.get(key)
    }

    /// `section[name]`, matching the name ignoring case.
    fn named(&self, section: &str, name: &str) -> Option<&Value> {
        let map = self.section(section)?.as_object()?;
        map.get(find_key(map, name)?)
    }

    /// splitmix64: tiny, good enough for GUIDs in an offline tool, reproducible from a seed.
    fn next_u64(&self) -> u64 {
        let state = self.random.get().wrapping_add(0x9E37_79B9_7F4A_7C15);
        self.random.set(state);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
}

impl Scope for StaticScope {
    fn trigger(&self) -> Result<&Value, Error> {
        self.section("trigger").ok_or_else(|| not_given("trigger"))
    }
    fn action(&self, name: &str) -> Result<Option<Value>, Error> {
        match self.named("actions", name) {
            Some(Value::Null) => Ok(None),
            Some(v) => Ok(Some(v.clone())),
            None => Err(missing("action", name)),
        }
    }
    fn action_outputs(&self, name: &str) -> Result<Option<&Value>, Error> {
        match self.named("actions", name) {
            Some(Value::Null) => Ok(None),
            Some(action) => Ok(Some(crate::value::member_ref(action, "outputs"))),
            None => Err(missing("action", name)),
        }
    }
    fn current_action(&self) -> Result<Value, Error> {
        self.section("action")
            .cloned()
            .ok_or_else(|| not_given("action"))
    }
    fn parameter(&self, name: &str) -> Result<Value, Error> {
        self.named("parameters", name)
            .cloned()
            .ok_or_else(|| missing("parameter", name))
    }
    fn variable(&self, name: &str) -> Result<Value, Error> {
        self.named("variables", name)
            .cloned()
            .ok_or_else(|| missing("variable", name))
    }
    fn workflow(&self) -> Result<Value, Error> {
        self.section("workflow")
            .cloned()
            .ok_or_else(|| not_given("workflow"))
    }
    fn list_callback_url(&self) -> Result<Value, Error> {
        self.section("callbackUrl")
            .cloned()
            .ok_or_else(|| not_given("callbackUrl"))
    }
    fn item(&self) -> Result<Value, Error> {
        self.section("item")
            .cloned()
            .ok_or_else(|| not_given("item"))
    }
    fn items(&self, loop_name: &str) -> Result<Value, Error> {
        self.named("items", loop_name)
            .cloned()
            .ok_or_else(|| missing("loop", loop_name))
    }
    fn iteration_indexes(&self, loop_name: &str) -> Result<Value, Error> {
        self.named("iterationIndexes", loop_name)
            .cloned()
            .ok_or_else(|| missing("loop", loop_name))
    }
    fn result(&self, scope_name: &str) -> Result<Value, Error> {
        self.named("results", scope_name)
            .cloned()
            .ok_or_else(|| missing("scope", scope_name))
    }
    fn app_setting(&self, name: &str) -> Result<Value, Error> {
        self.named("appsettings", name)
            .cloned()
            .ok_or_else(|| missing("app setting", name))
    }
    fn now(&self) -> Result<jiff::Timestamp, Error> {
        self.now.ok_or_else(|| not_given("now"))
    }
    fn random_u128(&self) -> Result<u128, Error> {
        Ok((u128::from(self.next_u64()) << 64) | u128::from(self.next_u64()))
    }
}

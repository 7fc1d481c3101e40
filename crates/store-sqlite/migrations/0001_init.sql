-- The initial schema. JSON values are stored as TEXT (serde_json), times as Unix milliseconds.
-- Migrations are applied in order at open and recorded in `PRAGMA user_version`; never edit
-- one that has shipped, add the next file instead.

-- One row per workflow: the pointer to its current version. Deleting a workflow deletes only
-- this row; its versions and runs stay for history.
CREATE TABLE workflows (
    name          TEXT PRIMARY KEY NOT NULL,
    enabled       INTEGER NOT NULL,
    version_id    TEXT NOT NULL REFERENCES versions (version_id),
    created_at    INTEGER NOT NULL,
    changed_at    INTEGER NOT NULL,
    primary_key   TEXT NOT NULL,
    secondary_key TEXT NOT NULL
);

-- Immutable saved documents; runs point at them by id.
CREATE TABLE versions (
    version_id TEXT PRIMARY KEY NOT NULL,
    workflow   TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    document   TEXT NOT NULL
);
-- Newest first per workflow; the implicit rowid breaks ties between equal `created_at`.
CREATE INDEX versions_by_workflow ON versions (workflow, created_at);

-- A run's header. `seq` fences writers (bumped by every step); the lease says which worker
-- may step it until when.
CREATE TABLE runs (
    id           TEXT PRIMARY KEY NOT NULL,
    workflow     TEXT NOT NULL,
    version_id   TEXT NOT NULL,
    trigger_name TEXT NOT NULL,
    status       TEXT NOT NULL,
    start_time   INTEGER NOT NULL,
    end_time     INTEGER,
    trigger      TEXT NOT NULL,
    outputs      TEXT,
    error        TEXT,
    -- The run's variables ({name: {type, value}}), rewritten by a step that changes one.
    -- Added to this file in place (with `actions.repetition` below) because no database had
    -- shipped yet; once one has, such changes go in a new migration.
    variables    TEXT,
    seq          INTEGER NOT NULL,
    lease_owner  TEXT,
    lease_until  INTEGER
);
-- History pages: newest first, keyset on (start_time, id), with and without a status filter.
CREATE INDEX runs_by_workflow ON runs (workflow, start_time DESC, id DESC);
CREATE INDEX runs_by_workflow_status ON runs (workflow, status, start_time DESC, id DESC);
-- Only leased runs (few: the ones in flight), for `next_due` and `release_all_leases`.
CREATE INDEX runs_leased ON runs (lease_until) WHERE lease_until IS NOT NULL;

-- One row per action execution: per action, and inside Foreach/Until per iteration
-- (`repetition`: canonical loop indexes, '' outside loops). `id` is an explicit rowid alias so
-- it survives VACUUM: it keeps the order in which executions were first recorded (an upsert
-- updates in place).
CREATE TABLE actions (
    id         INTEGER PRIMARY KEY,
    run_id     TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    name       TEXT NOT NULL,
    repetition TEXT NOT NULL DEFAULT '',
    status     TEXT NOT NULL,
    code       TEXT,
    start_time INTEGER,
    end_time   INTEGER,
    inputs     TEXT,
    outputs    TEXT,
    error      TEXT,
    UNIQUE (run_id, name, repetition)
);

-- Events waiting to be applied to runs; a future `due_at` is a timer. AUTOINCREMENT so an id
-- is never reused: a step names the events it consumed by id.
CREATE TABLE inbox (
    id     INTEGER PRIMARY KEY AUTOINCREMENT,
    run_id TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    event  TEXT NOT NULL,
    due_at INTEGER NOT NULL
);
CREATE INDEX inbox_by_due ON inbox (due_at);
CREATE INDEX inbox_by_run ON inbox (run_id, id);

-- Effects to carry out. AUTOINCREMENT so an id is never reused: a late duplicate completion
-- of a finished effect must find nothing rather than a newer effect.
CREATE TABLE outbox (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    run_id      TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    effect      TEXT NOT NULL,
    due_at      INTEGER NOT NULL,
    attempts    INTEGER NOT NULL DEFAULT 0,
    lease_owner TEXT,
    lease_until INTEGER
);
CREATE INDEX outbox_by_due ON outbox (due_at);
CREATE INDEX outbox_by_run ON outbox (run_id);
CREATE INDEX outbox_leased ON outbox (lease_until) WHERE lease_until IS NOT NULL;

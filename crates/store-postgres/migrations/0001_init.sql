-- The initial PostgreSQL schema: the same tables as the SQLite backend's migrations 0001-0003.
-- JSON values are `json` (stored as written, so key order and number text survive, unlike
-- `jsonb`), times are Unix milliseconds in BIGINT. Identifiers and names that are sorted or
-- compared are `COLLATE "C"` so their order is bytewise, as in SQLite, whatever the database's
-- locale. Migrations are applied in order at connect and recorded in `hookflow_migrations`;
-- never edit one that has shipped, add the next file instead.

-- Immutable saved documents; runs point at them by id. `seq` keeps the insertion order, which
-- breaks ties between versions saved in the same millisecond.
CREATE TABLE versions (
    version_id TEXT COLLATE "C" PRIMARY KEY,
    seq        BIGINT GENERATED ALWAYS AS IDENTITY,
    workflow   TEXT COLLATE "C" NOT NULL,
    created_at BIGINT NOT NULL,
    document   JSON NOT NULL
);
CREATE INDEX versions_by_workflow ON versions (workflow, created_at DESC, seq DESC);

-- One row per workflow: the pointer to its current version. Deleting a workflow deletes only
-- this row; its versions and runs stay for history.
CREATE TABLE workflows (
    name          TEXT COLLATE "C" PRIMARY KEY,
    enabled       BOOLEAN NOT NULL,
    version_id    TEXT COLLATE "C" NOT NULL REFERENCES versions (version_id),
    created_at    BIGINT NOT NULL,
    changed_at    BIGINT NOT NULL,
    primary_key   TEXT NOT NULL,
    secondary_key TEXT NOT NULL
);

-- A run's header. `seq` fences writers (bumped by every step); the lease says which worker
-- may step it until when.
CREATE TABLE runs (
    id           TEXT COLLATE "C" PRIMARY KEY,
    workflow     TEXT COLLATE "C" NOT NULL,
    version_id   TEXT COLLATE "C" NOT NULL,
    trigger_name TEXT NOT NULL,
    status       TEXT NOT NULL,
    start_time   BIGINT NOT NULL,
    end_time     BIGINT,
    trigger      JSON NOT NULL,
    outputs      JSON,
    error        JSON,
    -- The run's variables ({name: {type, value}}), rewritten by a step that changes one.
    variables    JSON,
    seq          BIGINT NOT NULL,
    lease_owner  TEXT,
    lease_until  BIGINT
);
-- History pages: newest first, keyset on (start_time, id), with and without a status filter.
CREATE INDEX runs_by_workflow ON runs (workflow, start_time DESC, id DESC);
CREATE INDEX runs_by_workflow_status ON runs (workflow, status, start_time DESC, id DESC);
-- Only leased runs (few: the ones in flight), for `next_due` and `release_all_leases`.
CREATE INDEX runs_leased ON runs (lease_until) WHERE lease_until IS NOT NULL;

-- One row per action execution: per action, and inside Foreach/Until per iteration
-- (`repetition`: canonical loop indexes, '' outside loops; bytewise order is index order).
-- `id` keeps the order in which executions were first recorded (an upsert updates in place
-- and keeps it).
CREATE TABLE actions (
    id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    run_id     TEXT COLLATE "C" NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    name       TEXT COLLATE "C" NOT NULL,
    repetition TEXT COLLATE "C" NOT NULL DEFAULT '',
    status     TEXT NOT NULL,
    code       TEXT,
    start_time BIGINT,
    end_time   BIGINT,
    inputs     JSON,
    outputs    JSON,
    error      JSON,
    UNIQUE (run_id, name, repetition)
);

-- Events waiting to be applied to runs; a future `due_at` is a timer. Identity values are never
-- reused: a step names the events it consumed by id.
CREATE TABLE inbox (
    id     BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    run_id TEXT COLLATE "C" NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    event  JSON NOT NULL,
    due_at BIGINT NOT NULL
);
CREATE INDEX inbox_by_due ON inbox (due_at, id);
CREATE INDEX inbox_by_run ON inbox (run_id, id);

-- Effects to carry out. Identity values are never reused: a late duplicate completion of a
-- finished effect must find nothing rather than a newer effect.
CREATE TABLE outbox (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    run_id      TEXT COLLATE "C" NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    effect      JSON NOT NULL,
    due_at      BIGINT NOT NULL,
    attempts    INTEGER NOT NULL DEFAULT 0,
    lease_owner TEXT,
    lease_until BIGINT
);
CREATE INDEX outbox_by_due ON outbox (due_at, id);
CREATE INDEX outbox_by_run ON outbox (run_id);
CREATE INDEX outbox_leased ON outbox (lease_until) WHERE lease_until IS NOT NULL;

-- The subscription ledger of webhook triggers. Written before the subscribe call goes out
-- (state Subscribing), so a crash between the call and its commit is found and reconciled.
CREATE TABLE subscriptions (
    id                 TEXT COLLATE "C" PRIMARY KEY,
    workflow           TEXT COLLATE "C" NOT NULL,
    trigger_name       TEXT NOT NULL,
    version_id         TEXT NOT NULL,
    state              TEXT NOT NULL,
    target             TEXT NOT NULL,
    fingerprint        TEXT NOT NULL,
    callback_url       TEXT NOT NULL,
    subscribe_response JSON,
    unsubscribe        JSON,
    attempts           INTEGER NOT NULL,
    next_attempt_at    BIGINT,
    last_error         TEXT,
    created_at         BIGINT NOT NULL,
    updated_at         BIGINT NOT NULL
);
CREATE INDEX subscriptions_by_workflow ON subscriptions (workflow, created_at, id);
-- The unsubscribe worker reads only entries still owed, earliest due first.
CREATE INDEX subscriptions_owed ON subscriptions (next_attempt_at) WHERE state = 'Unsubscribing';
CREATE INDEX subscriptions_by_age ON subscriptions (created_at, id);

-- Each trigger's history; `seq` is the insertion order (newest first when listed).
CREATE TABLE trigger_histories (
    seq          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id           TEXT COLLATE "C" NOT NULL UNIQUE,
    workflow     TEXT COLLATE "C" NOT NULL,
    trigger_name TEXT COLLATE "C" NOT NULL,
    kind         TEXT NOT NULL,
    status       TEXT NOT NULL,
    start_time   BIGINT NOT NULL,
    end_time     BIGINT NOT NULL,
    run_id       TEXT,
    detail       JSON NOT NULL
);
CREATE INDEX trigger_histories_by_trigger ON trigger_histories (workflow, trigger_name, seq);

-- A delivery key and the answer its first delivery got, until `expires_at`. The primary key
-- is what makes a redelivery on another node a duplicate (`INSERT ... ON CONFLICT`).
CREATE TABLE fire_keys (
    workflow   TEXT COLLATE "C" NOT NULL,
    key        TEXT COLLATE "C" NOT NULL,
    answer     JSON NOT NULL,
    expires_at BIGINT NOT NULL,
    PRIMARY KEY (workflow, key)
);
CREATE INDEX fire_keys_by_expiry ON fire_keys (expires_at);

-- Waits of webhook actions: one row per action waiting for its callback. Exactly one of a
-- callback, the timeout or a close resolves it, by a conditional update on `state` (the row
-- lock makes the loser of a race between nodes see the winner's state).
CREATE TABLE waits (
    run_id       TEXT COLLATE "C" NOT NULL REFERENCES runs (id),
    action       TEXT COLLATE "C" NOT NULL,
    -- Waiting, then Callback | TimedOut | Closed.
    state        TEXT NOT NULL,
    opened_at    BIGINT NOT NULL,
    timeout_at   BIGINT NOT NULL,
    -- The delivery key of the callback that resolved it, to answer its repeats alike.
    delivery_key TEXT,
    resolved_at  BIGINT,
    PRIMARY KEY (run_id, action)
);
-- The timeout sweep and `next_due` read only open waits, earliest first.
CREATE INDEX waits_open_by_timeout ON waits (timeout_at) WHERE state = 'Waiting';
-- The operator's view of what is owed to us: open waits, oldest first.
CREATE INDEX waits_open_by_age ON waits (opened_at) WHERE state = 'Waiting';

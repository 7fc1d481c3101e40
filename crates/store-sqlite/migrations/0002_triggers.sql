-- Trigger state: the subscription ledger of webhook triggers, each trigger's history, and the
-- keys of deliveries already accepted (idempotent redelivery).

-- Written before the subscribe call goes out (state Subscribing), so a crash between the call
-- and its commit is found at start-up and reconciled.
CREATE TABLE subscriptions (
    id                 TEXT PRIMARY KEY NOT NULL,
    workflow           TEXT NOT NULL,
    trigger_name       TEXT NOT NULL,
    version_id         TEXT NOT NULL,
    state              TEXT NOT NULL,
    target             TEXT NOT NULL,
    fingerprint        TEXT NOT NULL,
    callback_url       TEXT NOT NULL,
    subscribe_response TEXT,
    unsubscribe        TEXT,
    attempts           INTEGER NOT NULL,
    next_attempt_at    INTEGER,
    last_error         TEXT,
    created_at         INTEGER NOT NULL,
    updated_at         INTEGER NOT NULL
);
CREATE INDEX subscriptions_by_workflow ON subscriptions (workflow, created_at);
-- The unsubscribe worker reads only entries still owed, earliest due first.
CREATE INDEX subscriptions_owed ON subscriptions (next_attempt_at) WHERE state = 'Unsubscribing';

CREATE TABLE trigger_histories (
    seq          INTEGER PRIMARY KEY AUTOINCREMENT,
    id           TEXT NOT NULL UNIQUE,
    workflow     TEXT NOT NULL,
    trigger_name TEXT NOT NULL,
    kind         TEXT NOT NULL,
    status       TEXT NOT NULL,
    start_time   INTEGER NOT NULL,
    end_time     INTEGER NOT NULL,
    run_id       TEXT,
    detail       TEXT NOT NULL
);
CREATE INDEX trigger_histories_by_trigger ON trigger_histories (workflow, trigger_name, seq);

-- A delivery key and the answer its first delivery got, until `expires_at`.
CREATE TABLE fire_keys (
    workflow   TEXT NOT NULL,
    key        TEXT NOT NULL,
    answer     TEXT NOT NULL,
    expires_at INTEGER NOT NULL,
    PRIMARY KEY (workflow, key)
);
CREATE INDEX fire_keys_by_expiry ON fire_keys (expires_at);

-- Waits of webhook actions: one row per action waiting for its callback. Exactly one of a
-- callback, the timeout or a close resolves it, by a conditional update on `state`.
CREATE TABLE waits (
    run_id       TEXT NOT NULL REFERENCES runs (id),
    action       TEXT NOT NULL,
    -- Waiting, then Callback | TimedOut | Closed.
    state        TEXT NOT NULL,
    opened_at    INTEGER NOT NULL,
    timeout_at   INTEGER NOT NULL,
    -- The delivery key of the callback that resolved it, to answer its repeats alike.
    delivery_key TEXT,
    resolved_at  INTEGER,
    PRIMARY KEY (run_id, action)
);
-- The timeout sweep and `next_due` read only open waits, earliest first.
CREATE INDEX waits_open_by_timeout ON waits (timeout_at) WHERE state = 'Waiting';
-- The operator's view of what is owed to us: open waits, oldest first.
CREATE INDEX waits_open_by_age ON waits (opened_at) WHERE state = 'Waiting';

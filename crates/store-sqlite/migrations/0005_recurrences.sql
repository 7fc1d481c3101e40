-- Recurrence timers: the next occurrence of each Recurrence trigger of an enabled workflow.
-- Claimed with a lease; an occurrence is fired by a conditional update on `due_at` in the
-- transaction that records its run, so it starts exactly one run.
CREATE TABLE recurrences (
    workflow     TEXT NOT NULL,
    trigger_name TEXT NOT NULL,
    -- The trigger's `recurrence` object as saved (JSON text): unchanged keeps the row.
    recurrence   TEXT NOT NULL,
    anchor       INTEGER NOT NULL,
    due_at       INTEGER NOT NULL,
    lease_owner  TEXT,
    lease_until  INTEGER,
    PRIMARY KEY (workflow, trigger_name)
);
CREATE INDEX recurrences_by_due ON recurrences (due_at);

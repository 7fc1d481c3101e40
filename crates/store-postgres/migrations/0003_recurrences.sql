-- Recurrence timers: the next occurrence of each Recurrence trigger of an enabled workflow.
-- Claimed with a lease (FOR NO KEY UPDATE SKIP LOCKED); an occurrence is fired by a
-- conditional update on `due_at` and the lease in the transaction that records its run, so it
-- starts exactly one run across nodes.
CREATE TABLE recurrences (
    workflow     TEXT COLLATE "C" NOT NULL,
    trigger_name TEXT COLLATE "C" NOT NULL,
    -- The trigger's `recurrence` object as saved (JSON text): unchanged keeps the row.
    recurrence   TEXT NOT NULL,
    anchor       BIGINT NOT NULL,
    due_at       BIGINT NOT NULL,
    lease_owner  TEXT,
    lease_until  BIGINT,
    PRIMARY KEY (workflow, trigger_name)
);
CREATE INDEX recurrences_by_due ON recurrences (due_at);

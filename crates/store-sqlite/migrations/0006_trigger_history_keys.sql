-- Trigger histories get one row per fire, so their insert is on the ingest path. Their ids are
-- random (UUIDs) and never looked up, so the UNIQUE index on `id` goes; `seq` stays the
-- ordering key but as a plain INTEGER PRIMARY KEY (the rowid: each new row gets a larger one
-- than every row present, which is all listing needs), without AUTOINCREMENT's extra write to
-- `sqlite_sequence`. SQLite cannot drop a UNIQUE constraint in place: the table is rebuilt.
CREATE TABLE trigger_histories_new (
    seq          INTEGER PRIMARY KEY,
    id           TEXT NOT NULL,
    workflow     TEXT NOT NULL,
    trigger_name TEXT NOT NULL,
    kind         TEXT NOT NULL,
    status       TEXT NOT NULL,
    start_time   INTEGER NOT NULL,
    end_time     INTEGER NOT NULL,
    run_id       TEXT,
    detail       TEXT NOT NULL
);
INSERT INTO trigger_histories_new
    (seq, id, workflow, trigger_name, kind, status, start_time, end_time, run_id, detail)
    SELECT seq, id, workflow, trigger_name, kind, status, start_time, end_time, run_id, detail
    FROM trigger_histories;
DROP TABLE trigger_histories;
ALTER TABLE trigger_histories_new RENAME TO trigger_histories;
CREATE INDEX trigger_histories_by_trigger ON trigger_histories (workflow, trigger_name, seq);

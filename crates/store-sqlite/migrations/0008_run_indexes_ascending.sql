-- The run history indexes in ascending order. New runs have the latest start time, so in a
-- descending index every insert landed at the front of its workflow's range: a B-tree that
-- grows at its left edge splits pages in half and rebalances siblings, leaving them about
-- half full and rewriting three or four pages per split. In ascending order a new entry is an
-- append (SQLite's quick balance fills pages completely), and the newest-first history pages
-- read the same index backwards (no sort: see the query plans in `runs.rs`).
DROP INDEX runs_by_workflow;
DROP INDEX runs_by_workflow_status;
CREATE INDEX runs_by_workflow ON runs (workflow, start_time, id);
CREATE INDEX runs_by_workflow_status ON runs (workflow, status, start_time, id);

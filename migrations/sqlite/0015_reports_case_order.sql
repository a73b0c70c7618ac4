-- A case's first report (its municipality in the figures) is read in (reported_at, id) order per case: an index in
-- that order answers it with one row whatever the planner knows of the table, also on a freshly loaded database.
DROP INDEX reports_case;
CREATE INDEX reports_case ON reports (case_id, reported_at, id);

-- Background jobs (index rebuilds): they outlive the process that ran them,
-- so `GET /admin/jobs/:id` answers after a restart and a job cut short by a
-- crash is marked failed on the next start.
CREATE TABLE jobs (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  type TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('queued', 'embedding', 'building', 'verifying', 'active', 'failed')),
  model TEXT NOT NULL,
  model_version TEXT,
  build_id INTEGER,
  progress REAL NOT NULL DEFAULT 0,
  item_count INTEGER,
  error TEXT,
  started_at TEXT NOT NULL,
  finished_at TEXT
);
-- At most one unfinished job of a type, across every process sharing the database.
CREATE UNIQUE INDEX jobs_one_running ON jobs (type) WHERE status NOT IN ('active', 'failed');

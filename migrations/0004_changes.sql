-- The change feed: every catalog write appends a numbered change in the same
-- transaction; every serving process applies the changes after the last one
-- it has seen, in order (src/serving/changeFeed.ts), so each process's
-- in-memory index follows writes made by any other.
CREATE TABLE changes (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  kind TEXT NOT NULL CHECK (kind IN ('item', 'delete', 'build')),
  label INTEGER,
  build_id INTEGER,
  at TEXT NOT NULL
);

-- Which model directory a build was made with, so another process can load
-- the same model when it takes the build up.
ALTER TABLE index_builds ADD COLUMN model_dir TEXT;

-- Items: `label` is the integer key and the HNSW label. AUTOINCREMENT so a
-- deleted item's label is never handed out again (a reused label would
-- collide with the soft-deleted point still inside a loaded HNSW index).
CREATE TABLE items (
  label INTEGER PRIMARY KEY AUTOINCREMENT,
  id TEXT NOT NULL UNIQUE,
  title TEXT NOT NULL,
  category TEXT NOT NULL,
  source TEXT NOT NULL,
  split TEXT,
  original_path TEXT,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
);
CREATE INDEX items_category_label ON items (category, label);

-- Image bytes apart from the metadata so listing scans stay small.
CREATE TABLE item_images (
  label INTEGER PRIMARY KEY REFERENCES items (label) ON DELETE CASCADE,
  png BLOB NOT NULL
);

-- One row per (model version, item): a new model is embedded beside the old one.
CREATE TABLE embeddings (
  model_version TEXT NOT NULL,
  label INTEGER NOT NULL REFERENCES items (label) ON DELETE CASCADE,
  dim INTEGER NOT NULL,
  vector BLOB NOT NULL,
  created_at TEXT NOT NULL,
  PRIMARY KEY (model_version, label)
) WITHOUT ROWID;
CREATE INDEX embeddings_label ON embeddings (label);

CREATE TABLE index_builds (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  model_version TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('queued', 'embedding', 'building', 'verifying', 'active', 'failed')),
  item_count INTEGER,
  file TEXT,
  checksum TEXT,
  params TEXT,
  started_at TEXT NOT NULL,
  finished_at TEXT,
  error TEXT
);
CREATE INDEX index_builds_status ON index_builds (status, id);

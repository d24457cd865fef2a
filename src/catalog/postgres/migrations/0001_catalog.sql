-- The PostgreSQL catalog: the same tables and constraints as SQLite's
-- migrations 0001-0004 (see migrations/), written once for a new database.

-- `label` is the HNSW label: an identity is never handed out again, so a
-- deleted item's label cannot collide with its soft-deleted point in a loaded index.
CREATE TABLE items (
  label BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  id TEXT NOT NULL UNIQUE,
  title TEXT NOT NULL,
  category TEXT NOT NULL,
  source TEXT NOT NULL,
  split TEXT,
  original_path TEXT,
  -- Validated by src/search/attributes.ts; JSONB so replicas and SQL filters read it without parsing text.
  attributes JSONB NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(attributes) = 'object'),
  created_at TIMESTAMPTZ NOT NULL,
  updated_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX items_category_label ON items (category, label);

-- Image bytes apart from the metadata so listing scans stay small.
CREATE TABLE item_images (
  label BIGINT PRIMARY KEY REFERENCES items (label) ON DELETE CASCADE,
  png BYTEA NOT NULL
);

-- One row per (model version, item): a new model is embedded beside the old one.
CREATE TABLE embeddings (
  model_version TEXT NOT NULL,
  label BIGINT NOT NULL REFERENCES items (label) ON DELETE CASCADE,
  dim INTEGER NOT NULL,
  -- float32 little-endian, as in SQLite, so a vector is copied between the stores byte for byte.
  vector BYTEA NOT NULL CHECK (octet_length(vector) = 4 * dim),
  created_at TIMESTAMPTZ NOT NULL,
  PRIMARY KEY (model_version, label)
);
CREATE INDEX embeddings_label ON embeddings (label);

CREATE TABLE index_builds (
  id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  model_version TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('queued', 'embedding', 'building', 'verifying', 'active', 'failed')),
  item_count INTEGER,
  file TEXT,
  checksum TEXT,
  params TEXT,
  model_dir TEXT,
  started_at TIMESTAMPTZ NOT NULL,
  finished_at TIMESTAMPTZ,
  error TEXT
);
CREATE INDEX index_builds_status ON index_builds (status, id);

CREATE TABLE jobs (
  id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  type TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('queued', 'embedding', 'building', 'verifying', 'active', 'failed')),
  model TEXT NOT NULL,
  model_version TEXT,
  build_id BIGINT,
  progress DOUBLE PRECISION NOT NULL DEFAULT 0,
  item_count INTEGER,
  error TEXT,
  started_at TIMESTAMPTZ NOT NULL,
  finished_at TIMESTAMPTZ
);
-- At most one unfinished job of a type, across every replica sharing the database.
CREATE UNIQUE INDEX jobs_one_running ON jobs (type) WHERE status NOT IN ('active', 'failed');

-- The change feed (outbox). Rows are appended at the end of each writing
-- transaction under an EXCLUSIVE lock on this table (src/catalog/postgres/pgStore.ts),
-- so numbers become visible in commit order: a follower that has read `seq`
-- never later sees a smaller number commit. `label` has no foreign key: a
-- delete's change outlives its item.
CREATE TABLE changes (
  seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  kind TEXT NOT NULL CHECK (kind IN ('item', 'delete', 'build')),
  label BIGINT,
  build_id BIGINT,
  at TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- Wakes the listeners (LISTEN catalog_changes) when the appending transaction
-- commits. The payload is only the newest number: notifications are a signal,
-- never replayed, so followers read the table itself.
CREATE FUNCTION changes_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('catalog_changes', (SELECT max(seq)::text FROM appended));
  RETURN NULL;
END
$$;
CREATE TRIGGER changes_notify AFTER INSERT ON changes
  REFERENCING NEW TABLE AS appended
  FOR EACH STATEMENT EXECUTE FUNCTION changes_notify();

/**
 * The store's SQL. Each is a named prepared statement: node-postgres parses
 * and plans it once per pooled connection and then only sends its
 * parameters. Casts on the parameters pin their types, so a null is never
 * ambiguous to the planner.
 */

export interface Statement {
  name: string;
  text: string;
}

/**
 * Columns under the names of the domain types (`CatalogItem`, `IndexBuild`,
 * `JobRecord`), so rows need no mapping; `table` qualifies them in joins.
 */
function columns(list: string, table = ''): string {
  return list
    .split(', ')
    .map((column) => {
      const camel = column.replace(/_(\w)/g, (_m, c: string) => c.toUpperCase());
      return camel === column ? `${table}${column}` : `${table}${column} AS "${camel}"`;
    })
    .join(', ');
}
const ITEM_LIST =
  'label, id, title, category, source, split, original_path, attributes, created_at, updated_at';
const ITEM_COLUMNS = columns(ITEM_LIST);
const BUILD_COLUMNS = columns(
  'id, model_version, status, item_count, file, checksum, params, model_dir, started_at, finished_at, error',
);
const JOB_COLUMNS = columns(
  'id, type, status, model, model_version, build_id, progress, item_count, error, started_at, finished_at',
);

function statements<K extends string>(texts: Record<K, string>): Record<K, Statement> {
  const out = {} as Record<K, Statement>;
  for (const [key, text] of Object.entries(texts) as [K, string][]) {
    out[key] = { name: `catalog_${key}`, text };
  }
  return out;
}

/** "Unfinished" as the jobs_one_running index and failUnfinished* define it. */
const UNFINISHED = `status NOT IN ('active', 'failed')`;

export const SQL = statements({
  itemById: `SELECT ${ITEM_COLUMNS} FROM items WHERE id = $1`,
  itemByIdForUpdate: `SELECT ${ITEM_COLUMNS} FROM items WHERE id = $1 FOR UPDATE`,
  itemByLabel: `SELECT ${ITEM_COLUMNS} FROM items WHERE label = $1`,
  // Locked in label order, so two batches sharing items wait for each other instead of deadlocking.
  itemsWithImagesForUpdate: `SELECT ${columns(ITEM_LIST, 'i.')}, im.png
    FROM items i JOIN item_images im USING (label) WHERE i.id = ANY($1::text[])
    ORDER BY i.label FOR UPDATE OF i`,
  page: `SELECT ${ITEM_COLUMNS} FROM items WHERE label > $1 ORDER BY label LIMIT $2`,
  pageByCategory: `SELECT ${ITEM_COLUMNS} FROM items WHERE category = $1 AND label > $2 ORDER BY label LIMIT $3`,
  // COLLATE "C": byte order, as SQLite sorts, whatever the database's locale.
  categories: `SELECT category, COUNT(*) AS count FROM items GROUP BY category ORDER BY category COLLATE "C"`,
  count: 'SELECT COUNT(*) AS n FROM items',
  countByCategory: 'SELECT COUNT(*) AS n FROM items WHERE category = $1',
  image: 'SELECT im.png FROM items i JOIN item_images im USING (label) WHERE i.id = $1',
  labelCategories: 'SELECT label, category FROM items',
  // WITH ORDINALITY + ORDER BY: labels are handed out in batch order, as SQLite does.
  insertItems: `INSERT INTO items (id, title, category, source, split, original_path, attributes, created_at, updated_at)
    SELECT t.id, t.title, t.category, t.source, t.split, t.original_path, t.attributes::jsonb, $8::timestamptz, $8::timestamptz
    FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[])
      WITH ORDINALITY AS t(id, title, category, source, split, original_path, attributes, n)
    ORDER BY t.n
    RETURNING ${ITEM_COLUMNS}`,
  insertImages: 'INSERT INTO item_images (label, png) SELECT * FROM unnest($1::bigint[], $2::bytea[])',
  updateItem: `UPDATE items SET title = $2, category = $3, source = $4, split = $5, original_path = $6,
    attributes = $7::jsonb, updated_at = $8::timestamptz WHERE label = $1 RETURNING ${ITEM_COLUMNS}`,
  updateImage: 'UPDATE item_images SET png = $2 WHERE label = $1',
  deleteItem: 'DELETE FROM items WHERE label = $1',
  deleteEmbeddingsOf: 'DELETE FROM embeddings WHERE label = $1',
  putEmbeddings: `INSERT INTO embeddings (model_version, label, dim, vector, created_at)
    SELECT $1, t.label, t.dim, t.vector, $5::timestamptz FROM unnest($2::bigint[], $3::int[], $4::bytea[]) AS t(label, dim, vector)
    ON CONFLICT (model_version, label) DO UPDATE SET dim = excluded.dim, vector = excluded.vector,
      created_at = excluded.created_at`,
  getEmbedding: 'SELECT vector FROM embeddings WHERE model_version = $1 AND label = $2',
  embeddingPage: `SELECT e.label, e.vector, i.category FROM embeddings e JOIN items i USING (label)
    WHERE e.model_version = $1 AND e.label > $2 ORDER BY e.label LIMIT $3`,
  countEmbeddings: 'SELECT COUNT(*) AS n FROM embeddings WHERE model_version = $1',
  missing: `SELECT i.label, im.png FROM items i JOIN item_images im USING (label)
    WHERE NOT EXISTS (SELECT 1 FROM embeddings e WHERE e.model_version = $1 AND e.label = i.label)
      AND i.label > $2
    ORDER BY i.label LIMIT $3`,
  embeddingVersions: `SELECT model_version AS "modelVersion", COUNT(*) AS count FROM embeddings
    GROUP BY model_version ORDER BY model_version COLLATE "C"`,
  insertBuild: `INSERT INTO index_builds (model_version, status, params, model_dir, started_at)
    VALUES ($1, 'queued', $2, $3, $4::timestamptz) RETURNING ${BUILD_COLUMNS}`,
  updateBuild: `UPDATE index_builds SET status = COALESCE($2::text, status),
    item_count = COALESCE($3::int, item_count), file = COALESCE($4::text, file),
    checksum = COALESCE($5::text, checksum), params = COALESCE($6::text, params),
    error = COALESCE($7::text, error), finished_at = COALESCE($8::timestamptz, finished_at)
    WHERE id = $1 RETURNING ${BUILD_COLUMNS}`,
  getBuild: `SELECT ${BUILD_COLUMNS} FROM index_builds WHERE id = $1`,
  listBuilds: `SELECT ${BUILD_COLUMNS} FROM index_builds ORDER BY id DESC LIMIT $1`,
  activeBuilds: `SELECT ${BUILD_COLUMNS} FROM index_builds WHERE status = 'active' ORDER BY id DESC`,
  activeBuildsOf: `SELECT ${BUILD_COLUMNS} FROM index_builds WHERE status = 'active' AND model_version = $1
    ORDER BY id DESC`,
  failUnfinishedBuilds: `UPDATE index_builds SET status = 'failed', error = $1, finished_at = $2::timestamptz
    WHERE ${UNFINISHED}`,
  // EXCLUSIVE blocks other appenders until this transaction ends, and no reader.
  lockChanges: 'LOCK TABLE changes IN EXCLUSIVE MODE',
  appendChanges: `INSERT INTO changes (kind, label, build_id)
    SELECT t.kind, t.label, t.build_id FROM unnest($1::text[], $2::bigint[], $3::bigint[])
      WITH ORDINALITY AS t(kind, label, build_id, n)
    ORDER BY t.n`,
  changesAfter: `SELECT seq, kind, label, build_id AS "buildId" FROM changes WHERE seq > $1 ORDER BY seq LIMIT $2`,
  latestChange: 'SELECT COALESCE(MAX(seq), 0) AS seq FROM changes',
  insertJob: `INSERT INTO jobs (type, status, model, started_at) VALUES ($1, 'queued', $2, $3::timestamptz)
    RETURNING ${JOB_COLUMNS}`,
  unfinishedJob: `SELECT ${JOB_COLUMNS} FROM jobs WHERE type = $1 AND ${UNFINISHED}`,
  getJob: `SELECT ${JOB_COLUMNS} FROM jobs WHERE id = $1`,
  latestJob: `SELECT ${JOB_COLUMNS} FROM jobs ORDER BY id DESC LIMIT 1`,
  updateJob: `UPDATE jobs SET status = COALESCE($2::text, status),
    model_version = COALESCE($3::text, model_version), build_id = COALESCE($4::bigint, build_id),
    progress = COALESCE($5::float8, progress), item_count = COALESCE($6::int, item_count),
    error = COALESCE($7::text, error),
    finished_at = CASE WHEN $2::text IN ('active', 'failed') THEN $8::timestamptz ELSE finished_at END
    WHERE id = $1 RETURNING ${JOB_COLUMNS}`,
  // Session-level advisory locks, keyed by the lock's name (see AsyncCatalogStore.exclusive).
  lock: 'SELECT pg_advisory_lock(hashtext($1::text)::bigint)',
  tryLock: 'SELECT pg_try_advisory_lock(hashtext($1::text)::bigint) AS locked',
  unlock: 'SELECT pg_advisory_unlock(hashtext($1::text)::bigint)',
  failUnfinishedJobs: `UPDATE jobs SET status = 'failed', error = $1, finished_at = $2::timestamptz WHERE ${UNFINISHED}`,
});

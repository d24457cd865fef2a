/**
 * Server configuration, read from environment variables only. Every variable
 * is declared once in `CONFIG_VARS` (name, TypeBox schema with default and
 * description); `loadConfig` validates them all and reports every problem at
 * once, and the README's table is checked against the same list.
 */
import Type, { type Static } from 'typebox';
import { Value } from 'typebox/value';
import { ENGINES } from '../model/engine.ts';

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
const CATALOGS = ['fashion-mnist', 'fashion-mnist-test', 'none'] as const;

export const ConfigSchema = Type.Object({
  PORT: Type.Integer({ minimum: 0, maximum: 65535, default: 8080, description: 'TCP port to listen on.' }),
  HOST: Type.String({
    minLength: 1,
    default: '127.0.0.1',
    description: 'Address to bind; the container sets `0.0.0.0`.',
  }),
  DATA_DIR: Type.String({
    minLength: 1,
    default: './data',
    description: 'Directory of the SQLite database (`catalog.sqlite`) and the index files (`index/`).',
  }),
  DATABASE_URL: Type.String({
    default: '',
    pattern: '^(|postgres(ql)?://\\S+)$',
    description:
      'PostgreSQL catalog shared by replicas (`postgres://user:password@host:5432/db`); empty = the SQLite catalog in `DATA_DIR`. Index files stay local to each replica, in its `DATA_DIR`.',
  }),
  MODEL_DIR: Type.String({
    minLength: 1,
    default: 'models/default',
    description:
      'Saved model served at start-up (`model.json`, `weights.bin`, `metadata.json`); its parent directory holds the models a rebuild may name.',
  }),
  CATALOG: Type.Enum(CATALOGS, {
    default: 'fashion-mnist',
    description:
      'What a first start imports into an empty catalog: `fashion-mnist` (all 70,000 images when the dataset is found, else the bundled 10,000 test images), `fashion-mnist-test` (the 10,000 test images) or `none`.',
  }),
  ADMIN_TOKEN: Type.String({
    default: '',
    description:
      'Bearer token of the admin endpoints (`POST /items`, `DELETE /items/:id`, `/admin/*`); empty disables them (403).',
  }),
  API_TOKEN: Type.String({
    default: '',
    description:
      'Bearer token of the read API (search, items, recommendations, `/status`, `/map`) when set; the admin token is accepted there too. `/healthz`, `/readyz`, `/metrics`, `/docs`, `/openapi.yaml` and the web page stay open. Empty = the read API is open.',
  }),
  CORS_ORIGINS: Type.String({
    default: '',
    pattern: '^(|\\*|https?://[^\\s,/]+(\\s*,\\s*https?://[^\\s,/]+)*)$',
    description:
      'Origins whose browser pages may call the API (CORS), comma-separated (`https://shop.example,https://www.shop.example`) or `*`; empty = no CORS headers (same origin only).',
  }),
  RATE_LIMIT_PER_MINUTE: Type.Integer({
    minimum: 0,
    maximum: 1_000_000,
    default: 300,
    description:
      'Requests per minute one client (IP address) may make to each of `POST /similar`, `POST /similar/batch` and `POST /recommendations/batch`; past it 429 `RATE_LIMITED` with `Retry-After`. 0 = no limit.',
  }),
  TRUST_PROXY: Type.Integer({
    minimum: 0,
    maximum: 16,
    default: 0,
    description:
      'Reverse proxies in front of the server whose `X-Forwarded-For` entries are trusted for the client address (rate limits, logs); 0 = the socket address.',
  }),
  REQUEST_TIMEOUT_MS: Type.Integer({
    minimum: 0,
    maximum: 600_000,
    default: 30_000,
    description:
      'Most time a client may take to send a whole request, headers and body; slower gets 408 and the connection is closed (checked every few seconds). 0 = no limit.',
  }),
  CONNECTION_TIMEOUT_MS: Type.Integer({
    minimum: 0,
    maximum: 3_600_000,
    default: 60_000,
    description: 'A connection with no traffic for this long is closed. 0 = never.',
  }),
  KEEP_ALIVE_TIMEOUT_MS: Type.Integer({
    minimum: 1,
    maximum: 600_000,
    default: 72_000,
    description: 'How long an idle keep-alive connection waits for its next request before it is closed.',
  }),
  LOG_LEVEL: Type.Enum(LOG_LEVELS, { default: 'info', description: 'Pino log level.' }),
  BODY_LIMIT_BYTES: Type.Integer({
    minimum: 1024,
    maximum: 100 * 1024 * 1024,
    default: 10 * 1024 * 1024,
    description:
      'Largest request body in bytes: a raw image, a JSON body, or the files of a multipart form together (a form may add 64 KiB of boundaries and text fields); larger gets 413.',
  }),
  IMAGE_MAX_PIXELS: Type.Integer({
    minimum: 784,
    maximum: 1_000_000_000,
    default: 40_000_000,
    description:
      'Largest image (width x height) accepted, checked on the header before decoding; larger gets 413.',
  }),
  HNSW_EF_SEARCH: Type.Integer({
    minimum: 0,
    maximum: 10_000,
    default: 0,
    description:
      'HNSW `ef` (query-time candidate list) of the index builds this server makes (first start, rebuilds); 0 = the tuned default of `src/index/hnswIndex.ts`. Higher is more accurate and slower; a loaded index keeps the value it was built with.',
  }),
  EMBED_BATCH_MAX: Type.Integer({
    minimum: 1,
    maximum: 1024,
    default: 32,
    description: 'Micro-batching: most concurrent query images embedded in one model call.',
  }),
  EMBED_BATCH_WAIT_MS: Type.Number({
    minimum: 0,
    maximum: 100,
    default: 1,
    description:
      'Micro-batching: how long the first query of a batch waits for others while more are being decoded (0 = only those already queued).',
  }),
  EMBED_QUEUE_MAX: Type.Integer({
    minimum: 32,
    maximum: 100_000,
    default: 128,
    description:
      'Backpressure: most query images in progress at once (being decoded, waiting for or in a model call); past it image queries get 503 `OVERLOADED` with `Retry-After` instead of waiting. At least 32, the largest batch.',
  }),
  WORKERS: Type.Integer({
    minimum: 0,
    maximum: 64,
    default: 0,
    description:
      'Serving processes sharing the port (node:cluster), each with its own index kept in step by the change feed; 0 = one per available core, 1 = a single process.',
  }),
  CHANGE_POLL_MS: Type.Integer({
    minimum: 50,
    maximum: 60_000,
    default: 500,
    description:
      "How often a serving process looks for catalog changes made by others (the WORKERS also wake each other at once); bounds how stale another process's write can be.",
  }),
  EMBED_ENGINE: Type.Enum(ENGINES, {
    default: 'onnx',
    description:
      'Inference engine: `onnx` (ONNX Runtime on `model.onnx`; falls back to tfjs, with a warning, when it cannot load the model) or `tfjs`.',
  }),
  EMBED_THREADS: Type.Integer({
    minimum: 1,
    maximum: 64,
    default: 1,
    description:
      'ONNX Runtime threads of the query model (catalog embedding before the first start is ready uses every core).',
  }),
  EMBED_IN_WORKER: Type.Boolean({
    default: true,
    description:
      'Run the model in a worker thread (true) so model calls never block the event loop, or on the main thread (false).',
  }),
  SHUTDOWN_TIMEOUT_MS: Type.Integer({
    minimum: 0,
    maximum: 600_000,
    default: 10_000,
    description: 'On SIGTERM/SIGINT, how long in-flight requests may take before the process exits anyway.',
  }),
  TFJS_BACKEND: Type.Union(
    [Type.Literal(''), Type.Literal('tensorflow'), Type.Literal('wasm'), Type.Literal('cpu')],
    {
      default: '',
      description: 'tfjs backend; empty picks the first of tensorflow (tfjs-node), wasm, cpu that loads.',
    },
  ),
});

export type Config = Static<typeof ConfigSchema>;
export type ConfigName = keyof Config;

export interface ConfigVar {
  name: ConfigName;
  /** The default as it would be written in the environment ('' when empty). */
  default: string;
  description: string;
  /** Allowed values or range, for documentation. */
  allowed: string;
}

/** The JSON Schema keywords the config schemas use. */
interface VarSchema {
  default: unknown;
  description: string;
  type?: string;
  minimum?: number;
  maximum?: number;
  enum?: string[];
  anyOf?: { const: string }[];
}

/** The allowed values of an enumerated variable (TypeBox writes `enum`, or `anyOf` of consts). */
function choices(schema: VarSchema): string[] | null {
  return schema.enum ?? schema.anyOf?.map((s) => s.const) ?? null;
}

function varSchema(name: string): VarSchema {
  return (ConfigSchema.properties as Record<string, unknown>)[name] as VarSchema;
}

function describeAllowed(schema: VarSchema): string {
  const values = choices(schema);
  if (values) return values.map((v) => (v === '' ? '(empty)' : `\`${v}\``)).join(', ');
  if (schema.type === 'integer' || schema.type === 'number') {
    return `${schema.type} ${schema.minimum}..${schema.maximum}`;
  }
  if (schema.type === 'boolean') return '`true`, `false`';
  return 'string';
}

/** Every variable with its default and description: the source of the README's table. */
export const CONFIG_VARS: readonly ConfigVar[] = Object.keys(ConfigSchema.properties).map((name) => {
  const schema = varSchema(name);
  return {
    name: name as ConfigName,
    default: String(schema.default),
    description: schema.description,
    allowed: describeAllowed(schema),
  };
});

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n  ${problems.join('\n  ')}`);
    this.name = 'ConfigError';
  }
}

/**
 * Reads and validates the configuration. Unset or empty variables take their
 * default (an empty ADMIN_TOKEN stays empty). Throws `ConfigError` listing
 * every invalid variable with its value.
 */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const raw: Record<string, unknown> = {};
  for (const { name } of CONFIG_VARS) {
    const value = env[name]?.trim();
    if (value !== undefined && value !== '') raw[name] = value;
  }
  // Default and Convert may mutate their argument: give them a copy.
  const converted = Value.Convert(ConfigSchema, Value.Default(ConfigSchema, { ...raw }));
  if (Value.Check(ConfigSchema, converted)) return converted;
  const problems = new Map<string, string>();
  for (const error of Value.Errors(ConfigSchema, converted)) {
    const name = error.instancePath.replace(/^\//, '');
    if (problems.has(name)) continue;
    const schema = varSchema(name);
    const allowed = describeAllowed(schema);
    const reason = choices(schema) ? `must be one of ${allowed}` : `${error.message} (${allowed})`;
    problems.set(name, `${name}=${JSON.stringify(env[name])}: ${reason}`);
  }
  throw new ConfigError([...problems.values()]);
}

/** The configuration with every secret replaced, for logging. */
export function redactConfig(config: Config): Record<string, unknown> {
  return {
    ...config,
    ADMIN_TOKEN: config.ADMIN_TOKEN ? '<set>' : '',
    API_TOKEN: config.API_TOKEN ? '<set>' : '',
    DATABASE_URL: redactUrl(config.DATABASE_URL),
  };
}

/** A connection URL with its password replaced, for logs and status pages. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    // Not a URL (empty, or a bare path): nothing in it is known to be secret.
    return url;
  }
}

/** The README's configuration table (Markdown), generated from `CONFIG_VARS`. */
export function renderConfigTable(): string {
  const cell = (text: string) => text.replace(/\|/g, '\\|');
  const rows = CONFIG_VARS.map(
    (v) =>
      `| \`${v.name}\` | ${v.default === '' ? '(empty)' : `\`${v.default}\``} | ${cell(v.allowed)} | ${cell(v.description)} |`,
  );
  return ['| Variable | Default | Allowed | Meaning |', '| --- | --- | --- | --- |', ...rows].join('\n');
}

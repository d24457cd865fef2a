/**
 * Every request and response schema of the HTTP API, defined once. Routes use
 * them for validation and serialization; @fastify/swagger turns the same
 * objects into `openapi.yaml`; the multipart routes validate their fields with
 * them through `typebox/value`.
 */
import Type, { type Static, type TSchema } from 'typebox';

export const ErrorBody = Type.Object(
  {
    error: Type.Object({
      code: Type.String({ description: 'Stable machine-readable code, e.g. `IMAGE_TOO_LARGE`.' }),
      message: Type.String({ description: 'Human-readable explanation.' }),
    }),
  },
  { description: 'Every error response has this shape.' },
);

export const DEFAULT_K = 10;
/** Optional with a default: Fastify's Ajv fills the default in, and the document shows it as optional. */
const K = Type.Optional(
  Type.Integer({ minimum: 1, maximum: 100, default: DEFAULT_K, description: 'Number of results (1..100).' }),
);

const Categories = Type.Array(Type.String({ minLength: 1, maxLength: 100 }), {
  maxItems: 20,
  description:
    'Keep only these categories: repeat the parameter (`category=Sneaker&category=Sandal`) or separate with commas. Unknown categories get 400.',
});

const ITEM_ID_PATTERN = '^[A-Za-z0-9][A-Za-z0-9._:-]*$';
export const ItemId = Type.String({
  minLength: 1,
  maxLength: 200,
  pattern: ITEM_ID_PATTERN,
  description: 'External item id, e.g. `fmnist-test-00042`.',
});

export const ItemParams = Type.Object({ id: ItemId });

const ATTRIBUTES_DESCRIPTION =
  'Shop attributes: strings, finite numbers, booleans or arrays of strings (at most 64 keys; `category` is its own field). The Fashion-MNIST catalog has synthetic `brand`, `colour`, `price`, `in_stock` and `sizes`.';

export const Attributes = Type.Record(
  Type.String({ pattern: '^[A-Za-z0-9_.-]{1,64}$' }),
  Type.Union([Type.String({ maxLength: 256 }), Type.Number(), Type.Boolean(), Type.Array(Type.String())]),
  { description: ATTRIBUTES_DESCRIPTION },
);

export const Item = Type.Object(
  {
    id: ItemId,
    title: Type.String(),
    category: Type.String(),
    source: Type.String({ description: '`fashion-mnist`, `folder` or `api`.' }),
    split: Type.Union([Type.String(), Type.Null()], { description: 'Fashion-MNIST split, else null.' }),
    attributes: Attributes,
    image_url: Type.String({ description: 'Path of the item image (28x28 PNG).' }),
    created_at: Type.String({ format: 'date-time' }),
    updated_at: Type.String({ format: 'date-time' }),
  },
  { description: 'A catalog item.' },
);

export const ItemPage = Type.Object(
  {
    items: Type.Array(Item),
    next_cursor: Type.Union([Type.String(), Type.Null()], {
      description: 'Pass as `cursor` for the next page; null on the last page.',
    }),
  },
  { description: 'A page of catalog items.' },
);

const FILTER_DESCRIPTION =
  'Attribute and category conditions, AND-ed: `{"brand": "Acme", "price": {"lt": 80}, "in_stock": true, "category": {"in": ["Sneaker", "Sandal"]}}`. Operators: equality (a bare value), `in`, `nin`, `gt`, `gte`, `lt`, `lte`, `exists`, `any` (arrays). Category names match case-insensitively; Fashion-MNIST label numbers (`"3"`) are accepted.';
/** Longest filter as JSON text, in a query string or (stringified) in a JSON body. */
export const MAX_FILTER_LENGTH = 16384;
const FilterParam = Type.String({
  minLength: 2,
  maxLength: MAX_FILTER_LENGTH,
  description: `A filter as JSON text. ${FILTER_DESCRIPTION}`,
});
const FilterBody = Type.Record(Type.String(), Type.Unknown(), { description: FILTER_DESCRIPTION });

export const ListItemsQuery = Type.Object({
  category: Type.Optional(Type.String({ minLength: 1, maxLength: 100, description: 'Only this category.' })),
  filter: Type.Optional(FilterParam),
  limit: Type.Optional(
    Type.Integer({ minimum: 1, maximum: 1000, default: 50, description: 'Page size (1..1000).' }),
  ),
  cursor: Type.Optional(
    Type.String({ minLength: 1, maxLength: 100, description: 'Opaque cursor from `next_cursor`.' }),
  ),
});

export const Neighbour = Type.Object({
  id: ItemId,
  title: Type.String(),
  category: Type.String(),
  attributes: Attributes,
  distance: Type.Number({ description: 'Euclidean distance between embeddings (smaller is more similar).' }),
  score: Type.Optional(
    Type.Number({ description: '`best_score` recommendations only: the score results are ranked by.' }),
  ),
  image_url: Type.String(),
});

export const SearchResponse = Type.Object(
  {
    model: Type.String({ description: 'Version of the model that embedded the query and the catalog.' }),
    results: Type.Array(Neighbour, { description: 'Nearest first (with `diversity`, in selection order).' }),
    missing: Type.Optional(
      Type.Array(Type.String(), {
        description: 'With `ignore_missing`: the example ids that were not found.',
      }),
    ),
    took_ms: Type.Number({ description: 'Server-side time of the request, in milliseconds.' }),
  },
  { description: 'The nearest catalog items.' },
);

/** Result controls, the same in query strings and JSON bodies. */
const Controls = {
  offset: Type.Optional(
    Type.Integer({
      minimum: 0,
      maximum: 900,
      default: 0,
      description: 'Results skipped: `offset=10&k=10` is the 11th to 20th result of `k=20`.',
    }),
  ),
  max_distance: Type.Optional(
    Type.Number({
      minimum: 0,
      maximum: 1000,
      description: 'Only results at most this far (fewer than k then).',
    }),
  ),
  diversity: Type.Optional(
    Type.Number({
      minimum: 0,
      maximum: 1,
      default: 0,
      description:
        'Maximal marginal relevance λ: 0 = plain ranking, 1 = most diverse. With D = twice the largest query distance among the candidates, each next result maximises (1−λ)·(1 − d(q,c)/D) − λ·max over chosen s of (1 − d(c,s)/D).',
    }),
  ),
  group_by: Type.Optional(
    Type.String({
      pattern: '^[A-Za-z0-9_.-]{1,64}$',
      description: 'An attribute (or `category`): at most `group_size` results per value.',
    }),
  ),
  group_size: Type.Optional(
    Type.Integer({ minimum: 1, maximum: 100, description: 'Results per `group_by` value (default 1).' }),
  ),
};

export const SearchQuery = Type.Object({
  k: K,
  category: Type.Optional(Categories),
  filter: Type.Optional(FilterParam),
  ...Controls,
});

export const SimilarQuery = Type.Object({
  ...SearchQuery.properties,
  include: Type.Optional(
    Type.Literal('query', {
      description:
        '`query` adds the model input (the 28x28 image the photo became) and its place on the embedding map (`GET /map`) to the response.',
    }),
  ),
});

export const SimilarResponse = Type.Object(
  {
    ...SearchResponse.properties,
    query: Type.Optional(
      Type.Object({
        image: Type.String({ description: 'The 28x28 model input as a `data:image/png;base64,` URL.' }),
        map: Type.Union([Type.Object({ x: Type.Number(), y: Type.Number() }), Type.Null()], {
          description: 'Where the query falls on the embedding map; null while the map is being computed.',
        }),
      }),
    ),
  },
  { description: 'The nearest catalog items, optionally with what the model saw.' },
);

/** Documentation of the /similar and POST /items bodies, which are not JSON and are checked in code. */
const binaryImage = { type: 'string', format: 'binary' } as const;
export const ImageBodyDoc = {
  description:
    'The query image: PNG, JPEG or WebP, either as the raw body with a matching `Content-Type` or as the `image` field of `multipart/form-data`. Product photos (dark garment on a light background) are converted to the model input automatically.',
  content: {
    'multipart/form-data': {
      schema: { type: 'object', required: ['image'], properties: { image: binaryImage } },
    },
    'image/png': { schema: binaryImage },
    'image/jpeg': { schema: binaryImage },
    'image/webp': { schema: binaryImage },
  },
};

/** Longest `attributes` form field of POST /items (JSON text). */
export const MAX_ATTRIBUTES_FIELD = 16384;

export const NewItemFields = Type.Object({
  id: Type.Optional(ItemId),
  title: Type.String({ minLength: 1, maxLength: 500 }),
  category: Type.String({ minLength: 1, maxLength: 100 }),
  attributes: Type.Optional(Type.String({ maxLength: MAX_ATTRIBUTES_FIELD })),
});

/**
 * Attributes in a request body: checked by `parseAttributes` (which names the
 * offending key) rather than by Ajv, whose type coercion would turn `true`
 * into `"true"` against the string branch of the value union.
 */
const AttributesInput = Type.Record(Type.String(), Type.Unknown(), { description: ATTRIBUTES_DESCRIPTION });

export const ItemUpdateBody = Type.Object(
  {
    title: Type.Optional(Type.String({ minLength: 1, maxLength: 500 })),
    category: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
    attributes: Type.Optional(AttributesInput),
  },
  {
    additionalProperties: false,
    minProperties: 1,
    description: 'Any of title, category and attributes (which replace all attributes). The image stays.',
  },
);
export type NewItemFields = Static<typeof NewItemFields>;

export const NewItemBodyDoc = {
  description:
    'The new item: its `image` (PNG, JPEG or WebP file) and metadata fields `title`, `category` and optionally `id` (generated when absent).',
  required: true,
  content: {
    'multipart/form-data': {
      schema: {
        type: 'object',
        required: ['image', 'title', 'category'],
        properties: {
          image: binaryImage,
          id: { type: 'string', pattern: ITEM_ID_PATTERN, maxLength: 200 },
          title: { type: 'string', minLength: 1, maxLength: 500 },
          category: { type: 'string', minLength: 1, maxLength: 100 },
          attributes: {
            type: 'string',
            maxLength: MAX_ATTRIBUTES_FIELD,
            description: 'Attributes as a JSON object, e.g. `{"brand":"Acme","price":49.9}`.',
          },
        },
      },
    },
  },
};

export const RecommendationsBody = Type.Object(
  {
    positive: Type.Array(ItemId, {
      minItems: 1,
      maxItems: 100,
      description: 'Items the results should look like.',
    }),
    negative: Type.Optional(
      Type.Array(ItemId, {
        maxItems: 100,
        default: [],
        description: 'Items the results should not look like.',
      }),
    ),
    k: K,
    category: Type.Optional(Categories),
    filter: Type.Optional(FilterBody),
    ...Controls,
    strategy: Type.Optional(
      Type.Enum(['average_vector', 'best_score'], {
        default: 'average_vector',
        description:
          '`average_vector`: search with q = p + 0.5·(p − n). `best_score`: rank the neighbours of each positive by s(c) = P if P > N else −N, with P and N the best similarity 1/(1+d) to any positive and to any negative.',
      }),
    ),
    ignore_missing: Type.Optional(
      Type.Boolean({
        default: false,
        description: 'Skip unknown example ids (listed in `missing`) instead of answering 404.',
      }),
    ),
  },
  { additionalProperties: false },
);

/** Most queries in one batch request. */
export const MAX_BATCH = 32;

export const SimilarBatchJson = Type.Object(
  {
    images: Type.Array(
      Type.String({ minLength: 1, description: 'Base64 (or a `data:` URL) of a PNG, JPEG or WebP.' }),
      {
        minItems: 1,
        maxItems: MAX_BATCH,
      },
    ),
  },
  { additionalProperties: false },
);

export const SimilarBatchBodyDoc = {
  description: `Up to ${MAX_BATCH} query images: \`image\` file parts of \`multipart/form-data\` (repeat the field), or JSON \`{"images": [base64, ...]}\`.`,
  content: {
    'multipart/form-data': {
      schema: {
        type: 'object',
        required: ['image'],
        properties: { image: { type: 'array', items: binaryImage, maxItems: MAX_BATCH } },
      },
    },
    'application/json': {
      schema: {
        type: 'object',
        required: ['images'],
        properties: {
          images: {
            type: 'array',
            items: { type: 'string', format: 'byte' },
            minItems: 1,
            maxItems: MAX_BATCH,
          },
        },
      },
    },
  },
};

export const BatchResponse = Type.Object(
  {
    model: Type.String(),
    queries: Type.Array(
      Type.Object({
        results: Type.Array(Neighbour),
        missing: Type.Optional(Type.Array(Type.String())),
      }),
      { description: 'One result list per query, in request order.' },
    ),
    took_ms: Type.Number(),
  },
  { description: 'The nearest catalog items of each query.' },
);

export const RecommendationsBatchBody = Type.Object(
  { queries: Type.Array(RecommendationsBody, { minItems: 1, maxItems: MAX_BATCH }) },
  { additionalProperties: false },
);

export const RebuildBody = Type.Union(
  [
    Type.Object(
      {
        model: Type.Optional(
          Type.String({
            minLength: 1,
            maxLength: 100,
            pattern: '^[A-Za-z0-9][A-Za-z0-9._-]*$',
            description:
              'Name of a saved model beside MODEL_DIR (e.g. `default` for `models/default`); default: the model now served.',
          }),
        ),
      },
      { additionalProperties: false },
    ),
    Type.Null(),
  ],
  { description: 'Optional; an empty body rebuilds with the model now served.' },
);

export const JobStatus = Type.Enum(['queued', 'embedding', 'building', 'verifying', 'active', 'failed'], {
  description: 'queued → embedding → building → verifying → active (served) | failed.',
});

export const Job = Type.Object(
  {
    id: Type.Integer({ description: 'Job id.' }),
    type: Type.Literal('index-rebuild'),
    status: JobStatus,
    model: Type.String({
      description: 'The model asked for (a name beside MODEL_DIR), or the served version.',
    }),
    model_version: Type.Union([Type.String(), Type.Null()], {
      description: 'Version of the model the index is built for, once loaded.',
    }),
    build_id: Type.Union([Type.Integer(), Type.Null()], {
      description: 'Catalog index build id, once recorded.',
    }),
    progress: Type.Number({ minimum: 0, maximum: 1, description: 'Fraction done of the current phase.' }),
    item_count: Type.Union([Type.Integer(), Type.Null()]),
    error: Type.Union([Type.String(), Type.Null()], { description: 'Why the job failed.' }),
    started_at: Type.String({ format: 'date-time' }),
    finished_at: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  },
  { description: 'An index rebuild job.' },
);

/** 409 answer to a rebuild request while one runs: the error plus the running job. */
export const JobConflict = Type.Object(
  {
    error: Type.Object({ code: Type.String(), message: Type.String() }),
    job: Job,
  },
  { description: 'A rebuild is already running: the error and that job.' },
);

export const JobParams = Type.Object({ id: Type.Integer({ minimum: 1, description: 'Job id.' }) });

const Figure = Type.Number({ minimum: 0, maximum: 1 });
const Nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()]);

export const Status = Type.Object(
  {
    model: Nullable(
      Type.Object({
        version: Type.String(),
        name: Nullable(Type.String()),
        engine: Nullable(Type.String({ description: '`onnxruntime`, `tfjs-wasm`, ...' })),
        arch: Nullable(Type.String()),
        loss: Nullable(Type.String()),
        trained_at: Nullable(Type.String({ format: 'date-time' })),
        evaluation: Nullable(
          Type.Object(
            { p_at_1: Figure, map_at_r: Figure, knn_accuracy: Figure },
            {
              description:
                "`npm run eval`'s figures: 10,000 test queries against the 60,000 training images.",
            },
          ),
        ),
        embedding_head: Type.Object(
          {
            mirror_average: Type.Boolean(),
            class_pull: Nullable(Type.Object({ weight: Type.Number(), scale: Type.Number() })),
          },
          {
            description:
              "What the serving engine applies after the network's embedding (`npm run model:head`): each image averaged with its mirror image, a pull toward the class vectors of the cosine head.",
          },
        ),
      }),
    ),
    catalog: Type.Object({
      items: Type.Integer(),
      categories: Type.Array(Type.Object({ category: Type.String(), count: Type.Integer() })),
    }),
    index: Nullable(
      Type.Object({
        size: Type.Integer(),
        build_id: Nullable(Type.Integer()),
        params: Nullable(
          Type.Object({ M: Type.Integer(), efConstruction: Type.Integer(), efSearch: Type.Integer() }),
        ),
        built_at: Nullable(Type.String({ format: 'date-time' })),
        build_seconds: Nullable(Type.Number()),
      }),
    ),
    job: Nullable(Job),
  },
  { description: 'The served model (null while loading), catalog, index and the latest rebuild job.' },
);

export const EmbeddingMapResponse = Type.Object(
  {
    model: Type.String(),
    build_id: Nullable(Type.Integer()),
    points: Type.Array(Type.Object({ id: ItemId, category: Type.String(), x: Figure, y: Figure }), {
      description: 'A sample of up to 5,000 catalog items, in [0, 1] x [0, 1].',
    }),
  },
  { description: '2-D UMAP projection of a sample of the served embeddings.' },
);

export const Health = Type.Object({ status: Type.Literal('ok') }, { description: 'The process is up.' });

export const Ready = Type.Object(
  {
    status: Type.Union([Type.Literal('ready'), Type.Literal('not_ready')]),
    model: Type.Union([Type.String(), Type.Null()]),
    index_size: Type.Union([Type.Integer(), Type.Null()]),
    reason: Type.Optional(Type.String({ description: 'What start-up is doing, while not ready.' })),
  },
  { description: 'Readiness; 503 with status `not_ready` while loading.' },
);

/** Error responses documented for a route: the given statuses share `ErrorBody`. */
export function errors(...statuses: number[]): Record<number, TSchema> {
  const out: Record<number, TSchema> = {};
  for (const status of statuses) out[status] = ErrorBody;
  return out;
}

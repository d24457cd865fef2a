/**
 * The page's only way to the server: typed calls of the public HTTP API (openapi.yaml), same origin,
 * relative URLs. Every non-2xx answer becomes an ApiError carrying the API's `{ error: { code, message } }`.
 */

export type Attributes = Record<string, string | number | boolean | null>;

export interface Item {
  id: string;
  title: string;
  category: string;
  source: string;
  split: string | null;
  image_url: string;
  created_at: string;
  updated_at: string;
  attributes?: Attributes;
}

export interface ItemPage {
  items: Item[];
  next_cursor: string | null;
}

export interface Neighbour {
  id: string;
  title: string;
  category: string;
  distance: number;
  image_url: string;
  attributes?: Attributes;
}

export interface MapPlace {
  x: number;
  y: number;
}

export interface SearchResponse {
  model: string;
  results: Neighbour[];
  took_ms: number;
  /** `POST /similar?include=query`: what the model saw, and where it falls on the map. */
  query?: { image: string; map: MapPlace | null };
}

export type JobStatus = 'queued' | 'embedding' | 'building' | 'verifying' | 'active' | 'failed';

export interface Job {
  id: number;
  type: string;
  status: JobStatus;
  model: string;
  model_version: string | null;
  build_id: number | null;
  progress: number;
  item_count: number | null;
  error: string | null;
  started_at: string;
  finished_at: string | null;
}

export interface Evaluation {
  p_at_1: number;
  map_at_r: number;
  knn_accuracy: number;
}

export interface Status {
  model: {
    version: string;
    name: string | null;
    engine: string | null;
    arch: string | null;
    loss: string | null;
    trained_at?: string | null;
    evaluation: Evaluation | null;
  } | null;
  catalog: { items: number; categories: { category: string; count: number }[] };
  index: {
    size: number;
    build_id: number | null;
    params: { M: number; efConstruction: number; efSearch: number } | null;
    built_at: string | null;
    build_seconds?: number | null;
  } | null;
  job: Job | null;
}

export interface Ready {
  status: 'ready' | 'not_ready';
  model: string | null;
  index_size: number | null;
  reason?: string;
}

export interface MapPoint {
  id: string;
  category: string;
  x: number;
  y: number;
}

export interface EmbeddingMap {
  model: string;
  build_id: number | null;
  points: MapPoint[];
}

/** What narrows and shapes a search: `k`, categories, an attribute filter, MMR diversity (0 = plain ranking). */
export interface SearchOptions {
  k: number;
  categories: string[];
  filter: Record<string, unknown> | null;
  diversity: number;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    /** Seconds, from a Retry-After header. */
    readonly retryAfter: number | null = null,
    readonly body: unknown = null,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

async function call<T>(path: string, init?: RequestInit): Promise<T> {
  let res: Response;
  try {
    res = await fetch(path, { ...init, headers: { accept: 'application/json', ...init?.headers } });
  } catch {
    throw new ApiError(0, 'NETWORK_ERROR', 'the server could not be reached');
  }
  if (res.ok) return (await res.json()) as T;
  let body: unknown = null;
  try {
    body = await res.json();
  } catch {
    // not JSON: fall through with the status text
  }
  const error = (body as { error?: { code?: unknown; message?: unknown } } | null)?.error;
  const retry = Number(res.headers.get('retry-after'));
  throw new ApiError(
    res.status,
    typeof error?.code === 'string' ? error.code : `HTTP_${res.status}`,
    typeof error?.message === 'string' ? error.message : res.statusText || `HTTP ${res.status}`,
    Number.isFinite(retry) && retry > 0 ? retry : null,
    body,
  );
}

function query(params: [string, string | number | null | undefined][]): string {
  const search = new URLSearchParams();
  for (const [name, value] of params) {
    if (value !== null && value !== undefined && value !== '') search.append(name, String(value));
  }
  const text = search.toString();
  return text ? `?${text}` : '';
}

function searchParams(options: SearchOptions): [string, string | number | null][] {
  return [
    ['k', options.k],
    ...options.categories.map((c): [string, string] => ['category', c]),
    ['filter', options.filter ? JSON.stringify(options.filter) : null],
    ['diversity', options.diversity > 0 ? options.diversity : null],
  ];
}

const json = (body: unknown): RequestInit => ({
  method: 'POST',
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify(body),
});

export function imageUrl(id: string): string {
  return `/items/${encodeURIComponent(id)}/image`;
}

export const api = {
  similarToPhoto(photo: Blob, options: SearchOptions): Promise<SearchResponse> {
    const form = new FormData();
    form.append('image', photo, photo instanceof File ? photo.name : 'photo');
    return call(`/similar${query([...searchParams(options), ['include', 'query']])}`, {
      method: 'POST',
      body: form,
    });
  },

  items(params: {
    category?: string;
    filter?: Record<string, unknown> | null;
    limit: number;
    cursor?: string | null;
  }): Promise<ItemPage> {
    return call(
      `/items${query([
        ['category', params.category],
        ['filter', params.filter ? JSON.stringify(params.filter) : null],
        ['limit', params.limit],
        ['cursor', params.cursor],
      ])}`,
    );
  },

  item(id: string): Promise<Item> {
    return call(`/items/${encodeURIComponent(id)}`);
  },

  recommendationsFor(id: string, options: SearchOptions): Promise<SearchResponse> {
    return call(`/items/${encodeURIComponent(id)}/recommendations${query(searchParams(options))}`);
  },

  recommend(positive: string[], negative: string[], options: SearchOptions): Promise<SearchResponse> {
    const body: Record<string, unknown> = { positive, negative, k: options.k };
    if (options.categories.length > 0) body.category = options.categories;
    if (options.filter) body.filter = options.filter;
    if (options.diversity > 0) body.diversity = options.diversity;
    return call('/recommendations', json(body));
  },

  status(): Promise<Status> {
    return call('/status');
  },

  ready(): Promise<Ready> {
    return call('/readyz');
  },

  map(): Promise<EmbeddingMap> {
    return call('/map');
  },

  rebuild(token: string): Promise<Job> {
    return call('/admin/index/rebuild', {
      ...json({}),
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    });
  },

  job(token: string, id: number): Promise<Job> {
    return call(`/admin/jobs/${id}`, { headers: { authorization: `Bearer ${token}` } });
  },
};

/** The running job of a 409 answer to a rebuild request. */
export function conflictJob(err: unknown): Job | null {
  if (!(err instanceof ApiError) || err.status !== 409) return null;
  const job = (err.body as { job?: Job } | null)?.job;
  return job ?? null;
}

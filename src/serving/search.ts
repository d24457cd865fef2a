/**
 * The query path of /similar and the recommendation routes: preprocess and
 * embed (via the micro-batch queue), search, join with the resident catalog.
 * Takes the serving set once, right before embedding, so a concurrent model
 * swap never mixes one model's query vector with another model's index.
 */
import type { ImageLimits } from '../data/preprocess.ts';
import { NotFoundError } from '../errors.ts';
// FIXME(move to src/data once the decoder work lands): preprocessing is not HTTP code.
import { preprocessUpload } from '../server/imageInput.ts';
import type { CatalogService } from './catalogService.ts';
import { recommendationQuery } from './recommendationQuery.ts';
import type { ItemSummary, ResidentCatalog } from './residentCatalog.ts';
import type { Serving, ServingSet } from './servedSet.ts';

export interface SearchRequest {
  k: number;
  categories?: string[];
}

export interface SearchResultItem extends ItemSummary {
  label: number;
  distance: number;
}

export interface SearchResult {
  model: string;
  results: SearchResultItem[];
}

export interface ImageSearchResult extends SearchResult {
  /** What the model saw (784 floats in [0,1]), its embedding and the set that searched it. */
  query: { pixels: Float32Array; vector: Float32Array; set: ServingSet };
}

export interface SearchTimings {
  /** Seconds spent decoding and normalizing one query image. */
  preprocess?: (seconds: number) => void;
  /** Seconds of one index search. */
  search?: (seconds: number) => void;
}

export interface SearchDeps {
  serving: Serving;
  items: ResidentCatalog;
  catalog: CatalogService;
  imageLimits: ImageLimits;
  timings?: SearchTimings;
}

export class SearchService {
  readonly #deps: SearchDeps;

  constructor(deps: SearchDeps) {
    this.#deps = deps;
  }

  /** The items most similar to an uploaded image. */
  async similarToImage(image: Uint8Array, request: SearchRequest): Promise<ImageSearchResult> {
    this.#deps.serving.require();
    const t0 = performance.now();
    const pixels = await preprocessUpload(image, this.#deps.imageLimits);
    this.#deps.timings?.preprocess?.((performance.now() - t0) / 1000);
    const set = this.#deps.serving.require();
    const vector = await set.queue.embed(pixels);
    return { ...this.#search(set, vector, request), query: { pixels, vector, set } };
  }

  /** The items most similar to a catalog item (never the item itself). */
  async similarToItem(id: string, request: SearchRequest): Promise<SearchResult> {
    const set = this.#deps.serving.require();
    const item = this.#deps.catalog.get(id);
    const vector = await this.#deps.catalog.vectorOf(set, item);
    return this.#search(set, vector, request, new Set([item.label]));
  }

  /** Items like `positive` and unlike `negative` (see recommendationQuery); the input items are excluded. */
  async recommend(
    positive: readonly string[],
    negative: readonly string[],
    request: SearchRequest,
  ): Promise<SearchResult> {
    const set = this.#deps.serving.require();
    const ids = [...new Set([...positive, ...negative])];
    const missing = ids.filter((id) => this.#deps.items.labelOf(id) === undefined);
    if (missing.length > 0) {
      throw new NotFoundError(
        `no item with id ${missing.map((id) => `'${id}'`).join(', ')}`,
        'ITEM_NOT_FOUND',
      );
    }
    const vectors = (list: readonly string[]) =>
      Promise.all(list.map((id) => this.#deps.catalog.vectorOf(set, this.#deps.catalog.get(id))));
    const query = recommendationQuery(await vectors(positive), await vectors(negative));
    const exclude = new Set(ids.map((id) => this.#deps.items.labelOf(id)!));
    return this.#search(set, query, request, exclude);
  }

  #search(
    set: ServingSet,
    vector: Float32Array,
    request: SearchRequest,
    exclude?: ReadonlySet<number>,
  ): SearchResult {
    const wanted = Math.min(request.k + (exclude?.size ?? 0), Math.max(1, set.index.size));
    const t0 = performance.now();
    const hits = set.index.search(vector, wanted, { categories: request.categories });
    this.#deps.timings?.search?.((performance.now() - t0) / 1000);
    const results: SearchResultItem[] = [];
    for (const hit of hits) {
      if (results.length === request.k) break;
      if (exclude?.has(hit.label)) continue;
      // Deleted between search and lookup: skipped.
      const item = this.#deps.items.summary(hit.label);
      if (item) results.push({ ...item, label: hit.label, distance: hit.distance });
    }
    return { model: set.modelVersion, results };
  }
}

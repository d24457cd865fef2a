/**
 * The query path of /similar and the recommendation routes: preprocess and
 * embed (via the micro-batch queue), plan the filter, fetch candidates, apply
 * the result controls, join with the resident catalog. Takes the serving set
 * once, right before embedding, so a concurrent model swap never mixes one
 * model's query vector with another model's index.
 */
import { type ImageLimits, preprocessImage } from '../data/preprocess.ts';
import { NotFoundError } from '../errors.ts';
import type { SearchHit } from '../index/vectorIndex.ts';
import { attributeOf } from '../search/attributes.ts';
import { euclidean } from '../search/distance.ts';
import { CATEGORY_FIELD, type Filter } from '../search/filter.ts';
import {
  averageVector,
  DEFAULT_NEGATIVE_WEIGHT,
  type RecommendStrategy,
  rankBestScore,
} from '../search/recommendStrategies.ts';
import {
  applyResultControls,
  candidateCount,
  nextCandidateCount,
  type ResultControls,
} from '../search/resultControls.ts';
import type { CatalogService } from './catalogService.ts';
import { available, type FilterPlan, FilterPlanner, searchCandidates } from './filteredSearch.ts';
import type { ItemSummary, ResidentCatalog } from './residentCatalog.ts';
import type { Serving, ServingSet } from './servedSet.ts';

export interface SearchRequest extends ResultControls {
  /** Resolved against the catalog's categories (see `CatalogService.resolveFilter`). */
  filter?: Filter;
}

export interface RecommendRequest extends SearchRequest {
  /** Default `average_vector`. */
  strategy?: RecommendStrategy;
  /** Skip unknown example ids (listed in `missing`) instead of answering 404. */
  ignoreMissing?: boolean;
}

export interface SearchResultItem extends ItemSummary {
  label: number;
  /** To the query vector; for best_score, to the nearest positive example. */
  distance: number;
  /** best_score only. */
  score?: number;
}

export interface SearchResult {
  model: string;
  results: SearchResultItem[];
  /** Example ids that were not found (recommendations with ignoreMissing). */
  missing?: string[];
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

type Hit = SearchHit & { score?: number };

export class SearchService {
  readonly #deps: SearchDeps;
  readonly #planner: FilterPlanner;

  constructor(deps: SearchDeps) {
    this.#deps = deps;
    this.#planner = new FilterPlanner(deps.items);
  }

  /** The items most similar to an uploaded image. */
  async similarToImage(image: Uint8Array, request: SearchRequest): Promise<ImageSearchResult> {
    const [result] = await this.similarToImages([image], request);
    return result;
  }

  /** One result list per image; the images are preprocessed first, then embedded in one model call. */
  async similarToImages(images: readonly Uint8Array[], request: SearchRequest): Promise<ImageSearchResult[]> {
    this.#deps.serving.require();
    const plan = this.#planner.plan(request.filter);
    const pixels: Float32Array[] = [];
    for (const image of images) {
      const t0 = performance.now();
      pixels.push(await preprocessImage(image, this.#deps.imageLimits));
      this.#deps.timings?.preprocess?.((performance.now() - t0) / 1000);
    }
    const set = this.#deps.serving.require();
    const vectors = await Promise.all(pixels.map((p) => set.queue.embed(p)));
    return vectors.map((vector, i) => ({
      ...this.#search(set, vector, request, plan),
      query: { pixels: pixels[i], vector, set },
    }));
  }

  /** The items most similar to a catalog item (never the item itself). */
  async similarToItem(id: string, request: SearchRequest): Promise<SearchResult> {
    const set = this.#deps.serving.require();
    const item = this.#deps.catalog.get(id);
    const vector = await this.#deps.catalog.vectorOf(set, item);
    return this.#search(set, vector, request, this.#planner.plan(request.filter), new Set([item.label]));
  }

  /**
   * Items like `positive` and unlike `negative`; the example items are never
   * returned. `average_vector` searches with q = p + w·(p − n) (p, n the
   * examples' centroids); `best_score` ranks the neighbours of every positive
   * by their best similarity to a positive against their best to a negative.
   */
  async recommend(
    positive: readonly string[],
    negative: readonly string[],
    request: RecommendRequest,
  ): Promise<SearchResult> {
    const set = this.#deps.serving.require();
    const { items, catalog } = this.#deps;
    const ids = [...new Set([...positive, ...negative])];
    const missing = ids.filter((id) => items.labelOf(id) === undefined);
    if (missing.length > 0 && !request.ignoreMissing) {
      throw new NotFoundError(
        `no item with id ${missing.map((id) => `'${id}'`).join(', ')}`,
        'ITEM_NOT_FOUND',
      );
    }
    const known = (list: readonly string[]) => list.filter((id) => items.labelOf(id) !== undefined);
    const vectors = (list: readonly string[]) =>
      Promise.all(known(list).map((id) => catalog.vectorOf(set, catalog.get(id))));
    const [pos, neg] = await Promise.all([vectors(positive), vectors(negative)]);
    const exclude = new Set(known(ids).map((id) => items.labelOf(id)!));
    const plan = this.#planner.plan(request.filter);
    const report = (result: SearchResult) => (request.ignoreMissing ? { ...result, missing } : result);
    if (pos.length === 0) return report({ model: set.modelVersion, results: [] });
    if (request.strategy === 'best_score') {
      return report(this.#bestScore(set, pos, neg, request, plan, exclude));
    }
    const query = averageVector(pos, neg, DEFAULT_NEGATIVE_WEIGHT);
    return report(this.#search(set, query, request, plan, exclude));
  }

  #search(
    set: ServingSet,
    vector: Float32Array,
    request: SearchRequest,
    plan: FilterPlan,
    exclude?: ReadonlySet<number>,
  ): SearchResult {
    const hits = this.#controlled(set, request, plan, exclude, (n) => this.#candidates(set, vector, n, plan));
    return this.#present(set, hits);
  }

  /** best_score: the union of every positive's neighbours, ranked by their best score. */
  #bestScore(
    set: ServingSet,
    positives: Float32Array[],
    negatives: Float32Array[],
    request: SearchRequest,
    plan: FilterPlan,
    exclude: ReadonlySet<number>,
  ): SearchResult {
    const hits = this.#controlled(set, request, plan, exclude, (n) => {
      const pool = positives.flatMap((p) => this.#candidates(set, p, n, plan));
      const ranked = rankBestScore(
        pool.map((h) => ({ label: h.label, vector: set.vectors.get(h.label)! })).filter((c) => c.vector),
        positives,
        negatives,
        pool.length,
      );
      return ranked.map((c) => ({
        label: c.label,
        score: c.score,
        distance: Math.min(...positives.map((p) => euclidean(p, c.vector))),
      }));
    });
    return this.#present(set, hits);
  }

  /** Fetches candidates until the result controls are satisfied or nothing more can be fetched. */
  #controlled(
    set: ServingSet,
    request: SearchRequest,
    plan: FilterPlan,
    exclude: ReadonlySet<number> | undefined,
    fetch: (n: number) => Hit[],
  ): Hit[] {
    const most = available(set, plan);
    let n = candidateCount(request, { exclude: exclude?.size ?? 0, available: most });
    const access = {
      groupValue: (hit: Hit, field: string) => {
        const item = this.#deps.items.filterable(hit.label);
        if (!item) return undefined;
        return field === CATEGORY_FIELD ? item.category : attributeOf(item.attributes, field);
      },
      vector: (hit: Hit) => set.vectors.get(hit.label) ?? new Float32Array(set.vectors.dim),
    };
    for (;;) {
      const candidates = fetch(n);
      const result = applyResultControls(candidates, request, access, exclude);
      const next = nextCandidateCount(n, most);
      if (!result.shortOfCandidates || candidates.length < n || next === undefined) return result.hits;
      n = next;
    }
  }

  #present(set: ServingSet, hits: readonly Hit[]): SearchResult {
    const results: SearchResultItem[] = [];
    for (const hit of hits) {
      // Deleted between search and lookup: skipped.
      const item = this.#deps.items.summary(hit.label);
      if (item) results.push({ ...item, label: hit.label, distance: hit.distance, score: hit.score });
    }
    return { model: set.modelVersion, results };
  }

  #candidates(set: ServingSet, vector: Float32Array, n: number, plan: FilterPlan): SearchHit[] {
    const t0 = performance.now();
    const hits = searchCandidates(set, vector, n, plan);
    this.#deps.timings?.search?.((performance.now() - t0) / 1000);
    return hits;
  }
}

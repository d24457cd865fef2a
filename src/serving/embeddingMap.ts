/**
 * A 2-D map of the served embedding space for the web page: a UMAP projection
 * of an even sample of the served vectors (at most MAP_SAMPLE), computed once
 * per served set in a worker thread (UMAP of 5,000 points takes seconds of
 * CPU), with coordinates scaled to [0, 1]. A query is placed on the map by
 * interpolating the positions of its nearest sampled points.
 */
import { NotReadyError } from '../errors.ts';
import type { LogSink } from '../log.ts';
import { startWorker } from '../workers/startWorker.ts';
import type { MapWorkerData } from './mapWorker.ts';
import type { ServingSet } from './servedSet.ts';

export const MAP_SAMPLE = 5000;
/** Nearest sampled points whose positions place a query (inverse-distance weighted). */
const PLACE_NEIGHBOURS = 5;
const MAP_SEED = 42;

export interface EmbeddingMap {
  modelVersion: string;
  buildId: number | null;
  labels: Int32Array;
  /** labels.length * 2 coordinates in [0, 1]. */
  coords: Float32Array;
  /** The sampled vectors, labels.length * dim, for placing queries. */
  vectors: Float32Array;
  dim: number;
}

type MapState = {
  set: ServingSet;
  map: EmbeddingMap | null;
  error: string | null;
  done: Promise<void>;
};

export class EmbeddingMaps {
  #state: MapState | null = null;
  readonly #log: LogSink;

  constructor(log: LogSink) {
    this.#log = log;
  }

  /** The map of `set`; starts computing it on first request, 503 MAP_NOT_READY until it is done. */
  get(set: ServingSet): EmbeddingMap {
    if (this.#state?.set !== set) this.#start(set);
    const state = this.#state!;
    if (state.map) return state.map;
    throw new NotReadyError(
      state.error
        ? `the embedding map could not be computed: ${state.error}`
        : 'the embedding map is being computed; retry in a few seconds',
      'MAP_NOT_READY',
    );
  }

  /** Resolves once the map of `set` is computed (or has failed); starts it if needed. */
  async whenDone(set: ServingSet): Promise<void> {
    if (this.#state?.set !== set) this.#start(set);
    await this.#state!.done;
  }

  /** Where `vector` falls on the map of `set`, or null while that map is not ready. */
  place(set: ServingSet, vector: Float32Array): { x: number; y: number } | null {
    const map = this.#state?.set === set ? this.#state.map : null;
    return map ? placeOnMap(map, vector) : null;
  }

  #start(set: ServingSet): void {
    let finished = () => {};
    const state: MapState = { set, map: null, error: null, done: new Promise((r) => (finished = r)) };
    this.#state = state;
    const labels = sampleLabels(set, MAP_SAMPLE);
    const dim = set.vectors.dim;
    const vectors = new Float32Array(labels.length * dim);
    for (let i = 0; i < labels.length; i++) vectors.set(set.vectors.get(labels[i])!, i * dim);
    const started = performance.now();
    const worker = startWorker(new URL('./mapWorker.ts', import.meta.url), {
      vectors: vectors.slice(),
      dim,
      seed: MAP_SEED,
    } satisfies MapWorkerData);
    worker.unref();
    worker.once('message', (coords: Float32Array) => {
      state.map = {
        modelVersion: set.modelVersion,
        buildId: set.buildId,
        labels,
        coords: normalize(coords),
        vectors,
        dim,
      };
      this.#log.info(
        { points: labels.length, seconds: Math.round(performance.now() - started) / 1000 },
        'embedding map computed',
      );
      void worker.terminate();
      finished();
    });
    worker.once('error', (err) => {
      state.error = err.message;
      this.#log.error({ err }, 'embedding map failed');
      finished();
    });
  }
}

/** An even sample of the set's labels, in ascending label order (deterministic for a given catalog). */
function sampleLabels(set: ServingSet, count: number): Int32Array {
  const all = set.index
    .labels()
    .sort((a, b) => a - b)
    .filter((l) => set.vectors.has(l));
  const n = Math.min(count, all.length);
  return Int32Array.from({ length: n }, (_, i) => all[Math.floor((i * all.length) / n)]);
}

/** Scales x and y independently to [0, 1]. */
export function normalize(coords: Float32Array): Float32Array {
  const out = new Float32Array(coords.length);
  for (const axis of [0, 1]) {
    let lo = Number.POSITIVE_INFINITY;
    let hi = Number.NEGATIVE_INFINITY;
    for (let i = axis; i < coords.length; i += 2) {
      lo = Math.min(lo, coords[i]);
      hi = Math.max(hi, coords[i]);
    }
    const span = hi - lo || 1;
    for (let i = axis; i < coords.length; i += 2) out[i] = (coords[i] - lo) / span;
  }
  return out;
}

/** Inverse-distance weighted position of the nearest sampled points (an exact one gets its point's spot). */
export function placeOnMap(map: EmbeddingMap, vector: Float32Array): { x: number; y: number } | null {
  const n = map.labels.length;
  if (n === 0) return null;
  const nearest: { i: number; d: number }[] = [];
  for (let i = 0; i < n; i++) {
    let d = 0;
    for (let j = 0; j < map.dim; j++) {
      const diff = map.vectors[i * map.dim + j] - vector[j];
      d += diff * diff;
    }
    if (nearest.length < PLACE_NEIGHBOURS || d < nearest[nearest.length - 1].d) {
      nearest.push({ i, d });
      nearest.sort((a, b) => a.d - b.d);
      if (nearest.length > PLACE_NEIGHBOURS) nearest.pop();
    }
  }
  if (nearest[0].d === 0) return { x: map.coords[2 * nearest[0].i], y: map.coords[2 * nearest[0].i + 1] };
  let x = 0;
  let y = 0;
  let total = 0;
  for (const { i, d } of nearest) {
    const w = 1 / Math.sqrt(d);
    x += w * map.coords[2 * i];
    y += w * map.coords[2 * i + 1];
    total += w;
  }
  return { x: x / total, y: y / total };
}

/**
 * What the server answers queries with: one model, the index built with that
 * model's embeddings and those embeddings' vectors, always swapped together
 * through one reference (a query embedded by one model must never be searched
 * in another model's index). Until the first `activate` the server is not ready.
 */
import { NotReadyError } from '../errors.ts';
import type { VectorIndex } from '../index/vectorIndex.ts';
import type { VectorTable } from '../index/vectorTable.ts';
import type { LogSink } from '../log.ts';
import type { Embedder } from '../model/embedder.contract.ts';
import { EmbedQueue, type EmbedQueueOptions } from './embedQueue.ts';
import { type ModelCard, readModelCard } from './modelCard.ts';

export interface ServingInput {
  embedder: Embedder;
  /** The model directory `embedder` was loaded from. */
  modelDir: string;
  index: VectorIndex;
  /** The catalog embeddings of this model, by label: the vectors `index` holds. */
  vectors: VectorTable;
  /** The index build this index came from, when it was recorded in the catalog. */
  buildId: number | null;
  /**
   * The catalog's change number read before this state was loaded: the
   * change feed applies what came after (to the state a start loads, and
   * again to a set activated later, see `onActivate`).
   */
  changeSeq?: number;
}

export interface ServingSet extends ServingInput {
  readonly modelVersion: string;
  readonly card: ModelCard;
  /** Micro-batching queue in front of `embedder`. */
  readonly queue: EmbedQueue;
}

export class Serving {
  #current: ServingSet | null = null;
  /** What start-up is doing while not ready (shown by /readyz), e.g. `embedding catalog 1200/10000`. */
  phase = 'starting';
  readonly #queueOptions: EmbedQueueOptions;
  readonly #log: LogSink;
  readonly #activated: ((set: ServingSet) => void)[] = [];

  constructor(queueOptions: EmbedQueueOptions, log: LogSink) {
    this.#queueOptions = queueOptions;
    this.#log = log;
  }

  get ready(): boolean {
    return this.#current !== null;
  }

  /** The active set, or null before the first activation. */
  get current(): ServingSet | null {
    return this.#current;
  }

  /** The active set; throws 503 NOT_READY while the model or index is still loading. */
  require(): ServingSet {
    if (!this.#current) throw new NotReadyError('the model and index are still loading; retry shortly');
    return this.#current;
  }

  /** Calls `listener` after every activation. */
  onActivate(listener: (set: ServingSet) => void): void {
    this.#activated.push(listener);
  }

  /**
   * Makes `input` the served set in one assignment. The previous set keeps
   * answering the requests that already hold it; its model is disposed once
   * its queue has drained.
   */
  activate(input: ServingInput): ServingSet {
    if (input.embedder.dim !== input.index.dim) {
      throw new Error(`model dim ${input.embedder.dim} differs from index dim ${input.index.dim}`);
    }
    const next: ServingSet = {
      ...input,
      modelVersion: input.embedder.modelVersion,
      card: readModelCard(input.modelDir),
      queue: new EmbedQueue(input.embedder, this.#queueOptions),
    };
    const previous = this.#current;
    this.#current = next;
    this.phase = 'ready';
    this.#log.info(
      {
        model: next.modelVersion,
        engine: input.embedder.engine,
        indexSize: next.index.size,
        buildId: next.buildId,
      },
      'serving model and index',
    );
    if (previous && previous.embedder !== next.embedder) void this.#retire(previous);
    for (const listener of this.#activated) listener(next);
    return next;
  }

  async #retire(set: ServingSet): Promise<void> {
    await set.queue.drain();
    set.embedder.dispose();
  }

  /** Stops serving: drains the queue and disposes the model. */
  async close(): Promise<void> {
    const set = this.#current;
    this.#current = null;
    if (set) await this.#retire(set);
  }
}

/**
 * Micro-batching in front of an Embedder. A model call costs a fixed overhead
 * (kernel dispatch, tensor set-up) plus a small cost per image, and it runs on
 * the event loop: embedding concurrent queries one by one would both waste
 * that overhead and stall every other request once per query. Queries that
 * arrive within `waitMs` of the first (or while a batch is running) share one
 * call of at most `maxBatch` images.
 *
 * The queue is bounded: with `maxPending` images waiting or in the running
 * call, the next image is refused at once with 503 `OVERLOADED` (the HTTP
 * layer adds `Retry-After`) instead of waiting behind an ever longer queue.
 */
import { IMAGE_PIXELS } from '../data/classes.ts';
import { NotReadyError } from '../errors.ts';
import type { Embedder } from '../model/embedder.contract.ts';

export interface EmbedQueueOptions {
  /** Most images in one model call. */
  maxBatch: number;
  /** How long the first image of a batch waits for company; 0 = only what is already queued. */
  waitMs: number;
  /**
   * Query images admitted upstream and not finished (decoding, queued, embedding or searching).
   * When given, the wait happens only while it exceeds what the queue holds; default: always wait.
   */
  admitted?: () => number;
  /** Most images waiting or being embedded at once; past it `embed` rejects with OVERLOADED. Default: unbounded. */
  maxPending?: number;
  /** Called after every model call with its size and duration. */
  onBatch?: (size: number, seconds: number) => void;
}

interface Pending {
  pixels: Float32Array;
  resolve: (vector: Float32Array) => void;
  reject: (err: unknown) => void;
}

export class EmbedQueue {
  readonly #embedder: Embedder;
  readonly #options: EmbedQueueOptions;
  #pending: Pending[] = [];
  #timer: NodeJS.Timeout | null = null;
  #immediate: NodeJS.Immediate | null = null;
  #running: Promise<void> | null = null;
  /** Images of the running model call. */
  #inCall = 0;

  constructor(embedder: Embedder, options: EmbedQueueOptions) {
    this.#embedder = embedder;
    this.#options = { ...options, maxBatch: Math.max(1, options.maxBatch) };
  }

  /** Embeds one preprocessed image (784 floats in [0,1]); resolves with its `dim` floats. */
  embed(pixels: Float32Array): Promise<Float32Array> {
    if (pixels.length !== IMAGE_PIXELS) {
      return Promise.reject(new RangeError(`expected ${IMAGE_PIXELS} floats, got ${pixels.length}`));
    }
    const max = this.#options.maxPending;
    if (max !== undefined && this.pending >= max) {
      return Promise.reject(
        new NotReadyError(
          `the server is busy: ${this.pending} query images are queued; retry shortly`,
          'OVERLOADED',
        ),
      );
    }
    return new Promise((resolve, reject) => {
      this.#pending.push({ pixels, resolve, reject });
      this.#schedule();
    });
  }

  /** Images waiting for a model call or in the running one. */
  get pending(): number {
    return this.#pending.length + this.#inCall;
  }

  /** Resolves once every image queued so far has been embedded (or failed). */
  async drain(): Promise<void> {
    while (this.#running || this.#pending.length > 0) {
      if (!this.#running) this.#flush();
      await this.#running;
    }
  }

  #schedule(): void {
    // A running batch flushes the queue itself when it ends: queries that
    // arrived meanwhile have already waited, so they go at once.
    if (this.#running) return;
    if (this.#pending.length >= this.#options.maxBatch) {
      this.#flush();
    } else if (!this.#timer && !this.#immediate) {
      if (this.#companyExpected()) this.#timer = setTimeout(() => this.#flush(), this.#options.waitMs);
      else this.#immediate = setImmediate(() => this.#flush());
    }
  }

  #companyExpected(): boolean {
    const { waitMs, admitted } = this.#options;
    return waitMs > 0 && (admitted === undefined || admitted() > this.pending);
  }

  #flush(): void {
    if (this.#timer) clearTimeout(this.#timer);
    if (this.#immediate) clearImmediate(this.#immediate);
    this.#timer = null;
    this.#immediate = null;
    if (this.#running || this.#pending.length === 0) return;
    const batch = this.#pending.splice(0, this.#options.maxBatch);
    this.#inCall = batch.length;
    this.#running = this.#run(batch).finally(() => {
      this.#running = null;
      this.#inCall = 0;
      if (this.#pending.length > 0) this.#flush();
    });
  }

  async #run(batch: Pending[]): Promise<void> {
    const input = new Float32Array(batch.length * IMAGE_PIXELS);
    for (let i = 0; i < batch.length; i++) input.set(batch[i].pixels, i * IMAGE_PIXELS);
    const started = process.hrtime.bigint();
    try {
      const out = await this.#embedder.embed(input, batch.length);
      this.#options.onBatch?.(batch.length, Number(process.hrtime.bigint() - started) / 1e9);
      const dim = this.#embedder.dim;
      for (let i = 0; i < batch.length; i++) batch[i].resolve(out.slice(i * dim, (i + 1) * dim));
    } catch (err) {
      for (const p of batch) p.reject(err);
    }
  }
}

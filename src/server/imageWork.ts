/**
 * Admission of query-image work: at most `max` images in progress at once,
 * from the moment a request's images are read until their search is done
 * (decoding, the embedding queue, the index search). Past it the request is
 * refused at once with 503 `OVERLOADED` (and `Retry-After`) rather than
 * queued: latency stays bounded under any load, and a client that is refused
 * knows to come back. The embedding queue has the same bound of its own
 * (`EmbedQueue`'s `maxPending`).
 */
import { NotReadyError } from '../errors.ts';

export class ImageWork {
  readonly max: number;
  #inProgress = 0;

  constructor(max: number) {
    this.max = max;
  }

  /** Images admitted and not finished. */
  get inProgress(): number {
    return this.#inProgress;
  }

  /** Runs `work` for `images` images if they fit under the bound; 503 OVERLOADED otherwise. */
  async run<T>(images: number, work: () => Promise<T>): Promise<T> {
    if (this.#inProgress + images > this.max) {
      throw new NotReadyError(
        `the server is busy: ${this.#inProgress} query images in progress (at most ${this.max}); retry shortly`,
        'OVERLOADED',
      );
    }
    this.#inProgress += images;
    try {
      return await work();
    } finally {
      this.#inProgress -= images;
    }
  }
}

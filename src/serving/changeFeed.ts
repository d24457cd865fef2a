/**
 * Keeps this process's resident catalog and served index in step with writes
 * made by any process sharing the catalog (the other `WORKERS`, a CLI): it
 * applies the store's numbered changes after the last one it has seen, in
 * order. A wake-up (a signal from the process that wrote) makes it prompt;
 * polling makes it correct when a signal is lost. Applying a change is
 * idempotent (it re-reads the item and its embedding), so this process's own
 * writes, already applied by CatalogService, cost one re-read and no harm.
 * A `build` change from another process makes this one load that build's
 * model and index and swap them in together.
 */
import type { CatalogStore, Change, IndexBuild } from '../catalog/store.ts';
import type { LogSink } from '../log.ts';
import type { ResidentCatalog } from './residentCatalog.ts';
import type { Serving, ServingInput } from './servedSet.ts';

/** Changes read per store query while catching up. */
const PAGE = 1000;

export interface ChangeFeedDeps {
  store: CatalogStore;
  serving: Serving;
  items: ResidentCatalog;
  log: LogSink;
  /** Loads another process's build (model + index) for activation. */
  loadBuild: (build: IndexBuild) => Promise<ServingInput>;
  /** Polling interval, ms. */
  pollMs: number;
}

export class ChangeFeed {
  readonly #deps: ChangeFeedDeps;
  #lastSeq = 0;
  #timer: NodeJS.Timeout | null = null;
  #running: Promise<void> | null = null;
  #again = false;

  constructor(deps: ChangeFeedDeps) {
    this.#deps = deps;
  }

  /** The last change applied. */
  get lastSeq(): number {
    return this.#lastSeq;
  }

  /** Starts following after `seq` (what the served state was loaded at). */
  start(seq: number): void {
    this.#lastSeq = seq;
    this.stop();
    this.#timer = setInterval(() => this.wake(), this.#deps.pollMs);
    this.#timer.unref();
  }

  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
  }

  /** Catches up soon; resolves when the changes known now are applied. */
  wake(): Promise<void> {
    if (this.#running) {
      this.#again = true;
      return this.#running;
    }
    this.#running = this.#catchUp().finally(() => {
      this.#running = null;
      if (this.#again) {
        this.#again = false;
        void this.wake();
      }
    });
    return this.#running;
  }

  async #catchUp(): Promise<void> {
    try {
      for (;;) {
        const changes = this.#deps.store.changesAfter(this.#lastSeq, PAGE);
        for (const change of changes) {
          await this.#apply(change);
          this.#lastSeq = change.seq;
        }
        if (changes.length < PAGE) return;
      }
    } catch (err) {
      // The next wake-up retries from the last applied change.
      this.#deps.log.error({ err, lastSeq: this.#lastSeq }, 'change feed: catching up failed');
    }
  }

  async #apply(change: Change): Promise<void> {
    const { store, serving, items } = this.#deps;
    if (change.kind === 'build') return this.#takeUpBuild(change.buildId!);
    const label = change.label!;
    const item = change.kind === 'item' ? store.getItemByLabel(label) : null;
    const set = serving.current;
    if (!item) {
      items.remove(label);
      set?.index.remove(label);
      set?.vectors.delete(label);
      return;
    }
    const category = items.categoryOf(label);
    items.put(item);
    if (!set) return;
    const vector = store.getEmbedding(set.modelVersion, label);
    if (!vector) return;
    const served = set.vectors.get(label);
    const same = served && set.index.has(label) && served.every((v, i) => v === vector[i]);
    if (!same || category !== item.category) {
      set.index.add(label, vector, item.category);
      set.vectors.set(label, vector);
    }
  }

  async #takeUpBuild(buildId: number): Promise<void> {
    const { store, serving, log } = this.#deps;
    const current = serving.current;
    const build = store.getBuild(buildId);
    const newest = store.latestCompleteBuild();
    // Ours, or superseded by a newer one (which has its own change): nothing to do.
    if (!build || !current || current.buildId === buildId || newest?.id !== buildId) return;
    log.info({ buildId, modelVersion: build.modelVersion }, 'change feed: taking up a build made elsewhere');
    serving.activate(await this.#deps.loadBuild(build));
  }
}

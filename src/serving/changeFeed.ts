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
 *
 * Wake-ups: on PostgreSQL the store's LISTEN (every replica's writes); on
 * SQLite the cluster primary's relay between WORKERS (see cli/cluster.ts), so
 * the store's own SQLite polling is not started on top of `pollMs`.
 */
import type { AsyncCatalogStore, ChangeListener } from '../catalog/asyncStore.ts';
import type { Change, IndexBuild } from '../catalog/store.ts';
import type { LogSink } from '../log.ts';
import type { ResidentCatalog } from './residentCatalog.ts';
import type { Serving, ServingInput } from './servedSet.ts';

/** Changes read per store query while catching up. */
const PAGE = 1000;
/** Wait before loading again a build that failed to load (its model missing, the catalog unreachable). */
const BUILD_RETRY_MS = 10_000;

export interface ChangeFeedDeps {
  store: AsyncCatalogStore;
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
  /** The newest build made elsewhere that this process should serve, and the load under way. */
  #wantedBuild: IndexBuild | null = null;
  #loader: Promise<void> | null = null;
  #listener: ChangeListener | null = null;
  #stopped = false;
  /** Set by `replayFrom` while a catch-up runs: where to continue once the current change is applied. */
  #rewind: number | null = null;

  constructor(deps: ChangeFeedDeps) {
    this.#deps = deps;
  }

  /** The last change applied. */
  get lastSeq(): number {
    return this.#lastSeq;
  }

  /**
   * Starts following after `seq` (what the served state was loaded at).
   * Polling runs whatever happens to the wake-ups: it is what catches up when
   * LISTEN cannot be set up or its connection is being re-established.
   */
  start(seq: number): void {
    this.stop();
    this.#stopped = false;
    this.#lastSeq = seq;
    this.#timer = setInterval(() => this.wake(), this.#deps.pollMs);
    this.#timer.unref();
    if (this.#deps.store.kind === 'postgres') void this.#listen();
    // Changes made between `seq` and now (another replica's) need no wake-up to be applied.
    void this.wake();
  }

  async #listen(): Promise<void> {
    try {
      const listener = await this.#deps.store.listenForChanges((seq) => {
        if (seq > this.#lastSeq) void this.wake();
      });
      if (this.#stopped) await listener.close();
      else this.#listener = listener;
    } catch (err) {
      this.#deps.log.warn(
        { err: (err as Error).message, pollMs: this.#deps.pollMs },
        'change feed: no LISTEN wake-ups; polling only',
      );
    }
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
    const listener = this.#listener;
    this.#listener = null;
    await listener?.close();
  }

  /**
   * Applies again the changes after `seq` (idempotent): a served set that was
   * made from the catalog as of `seq` and activated later must also get the
   * writes that landed in between, including this process's own.
   */
  replayFrom(seq: number): void {
    if (seq >= this.#lastSeq) return;
    if (this.#running) this.#rewind = Math.min(this.#rewind ?? seq, seq);
    else this.#lastSeq = seq;
    void this.wake();
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
        const changes = await this.#deps.store.changesAfter(this.#lastSeq, PAGE);
        let rewound = false;
        for (const change of changes) {
          await this.#apply(change);
          this.#lastSeq = change.seq;
          if (this.#rewind !== null) {
            this.#lastSeq = Math.min(this.#lastSeq, this.#rewind);
            this.#rewind = null;
            rewound = true;
            break;
          }
        }
        if (!rewound && changes.length < PAGE) return;
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
    const item = change.kind === 'item' ? await store.getItemByLabel(label) : null;
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
    const vector = await store.getEmbedding(set.modelVersion, label);
    if (!vector) return;
    const served = set.vectors.get(label);
    const same = served && set.index.has(label) && served.every((v, i) => v === vector[i]);
    if (!same || category !== item.category) {
      set.index.add(label, vector, item.category);
      set.vectors.set(label, vector);
    }
  }

  /**
   * Loads another process's build off the feed: building a replica's own
   * index file can take a while, and item changes keep being applied to the
   * served set meanwhile (the new set gets them replayed on activation).
   */
  async #takeUpBuild(buildId: number): Promise<void> {
    const { store, serving } = this.#deps;
    const build = await store.getBuild(buildId);
    const newest = await store.latestCompleteBuild();
    // Ours, or superseded by a newer one (which has its own change): nothing to do.
    if (!build || !serving.current || serving.current.buildId === buildId || newest?.id !== buildId) return;
    this.#wantedBuild = build;
    this.#startLoader();
  }

  #startLoader(): void {
    this.#loader ??= this.#loadWanted().finally(() => {
      this.#loader = null;
    });
  }

  async #loadWanted(): Promise<void> {
    const { serving, log } = this.#deps;
    while (this.#wantedBuild && !this.#stopped) {
      const build = this.#wantedBuild;
      this.#wantedBuild = null;
      if (serving.current?.buildId === build.id) continue;
      log.info(
        { buildId: build.id, modelVersion: build.modelVersion },
        'change feed: taking up a build made elsewhere',
      );
      try {
        const next = await this.#deps.loadBuild(build);
        // Seen again while loading: the same build, not a newer one.
        const wanted = this.#wantedBuild as IndexBuild | null;
        if (wanted?.id === build.id) this.#wantedBuild = null;
        // Superseded while loading (a newer build was seen), or closing: not served.
        if ((wanted && wanted.id !== build.id) || this.#stopped) next.embedder.dispose();
        else serving.activate(next);
      } catch (err) {
        log.error({ err, buildId: build.id }, 'change feed: taking up a build failed; retrying later');
        const retry = setTimeout(() => {
          if (!this.#stopped && serving.current?.buildId !== build.id) {
            this.#wantedBuild ??= build;
            this.#startLoader();
          }
        }, BUILD_RETRY_MS);
        retry.unref();
      }
    }
  }
}

/** What the service serves right now, for `GET /status` and the web page's status panel. */
import type { AsyncCatalogStore } from '../catalog/asyncStore.ts';
import type { CategoryCount, IndexBuild } from '../catalog/store.ts';
import type { EmbeddingHead } from '../model/embeddingHead.ts';
import type { JobView, RebuildJobs } from './jobs.ts';
import type { ModelCard } from './modelCard.ts';
import type { ResidentCatalog } from './residentCatalog.ts';
import type { Serving } from './servedSet.ts';

export interface ServingStatus {
  /** The head is the one the serving engine applies, not a second reading of metadata.json. */
  model: (ModelCard & { version: string; engine: string | null; head: EmbeddingHead }) | null;
  catalog: { items: number; categories: CategoryCount[] };
  index: { size: number; build: IndexBuild | null } | null;
  job: JobView | null;
}

export async function servingStatus(
  serving: Serving,
  store: AsyncCatalogStore,
  items: ResidentCatalog,
  jobs: RebuildJobs,
): Promise<ServingStatus> {
  const set = serving.current;
  const build = set && set.buildId !== null ? await store.getBuild(set.buildId) : null;
  return {
    model: set
      ? {
          ...set.card,
          version: set.modelVersion,
          engine: set.embedder.engine ?? null,
          head: set.embedder.head,
        }
      : null,
    catalog: { items: items.size, categories: items.categories() },
    index: set ? { size: set.index.size, build } : null,
    job: await jobs.latest(),
  };
}

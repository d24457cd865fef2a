/** What the service serves right now, for `GET /status` and the web page's status panel. */
import type { CatalogStore, CategoryCount, IndexBuild } from '../catalog/store.ts';
import type { JobView, RebuildJobs } from './jobs.ts';
import type { ModelCard } from './modelCard.ts';
import type { ResidentCatalog } from './residentCatalog.ts';
import type { Serving } from './servedSet.ts';

export interface ServingStatus {
  model: (ModelCard & { version: string; engine: string | null }) | null;
  catalog: { items: number; categories: CategoryCount[] };
  index: { size: number; build: IndexBuild | null } | null;
  job: JobView | null;
}

export function servingStatus(
  serving: Serving,
  store: CatalogStore,
  items: ResidentCatalog,
  jobs: RebuildJobs,
): ServingStatus {
  const set = serving.current;
  return {
    model: set ? { ...set.card, version: set.modelVersion, engine: set.embedder.engine ?? null } : null,
    catalog: { items: items.size, categories: items.categories() },
    index: set
      ? { size: set.index.size, build: set.buildId === null ? null : store.getBuild(set.buildId) }
      : null,
    job: jobs.latest(),
  };
}

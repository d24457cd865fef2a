/** Catalog records and search results → the JSON shapes of `schemas.ts`. */
import type { Static } from 'typebox';
import type { CatalogItem } from '../catalog/store.ts';
import type { SearchResult } from '../serving/search.ts';
import type { ServingStatus } from '../serving/status.ts';
import type { Item, SearchResponse, Status } from './schemas.ts';

export function imageUrl(id: string): string {
  return `/items/${encodeURIComponent(id)}/image`;
}

export function presentItem(item: CatalogItem): Static<typeof Item> {
  return {
    id: item.id,
    title: item.title,
    category: item.category,
    source: item.source,
    split: item.split,
    attributes: item.attributes,
    image_url: imageUrl(item.id),
    created_at: item.createdAt,
    updated_at: item.updatedAt,
  };
}

/** `startedAt` is the request's `performance.now()` at arrival, for `took_ms`. */
export function presentResults(result: SearchResult, startedAt: number): Static<typeof SearchResponse> {
  return {
    model: result.model,
    results: result.results.map((r) => ({
      id: r.id,
      title: r.title,
      category: r.category,
      attributes: r.attributes,
      distance: r.distance,
      ...(r.score === undefined ? {} : { score: r.score }),
      image_url: imageUrl(r.id),
    })),
    ...(result.missing ? { missing: result.missing } : {}),
    took_ms: Math.round((performance.now() - startedAt) * 1000) / 1000,
  };
}

export function presentStatus(status: ServingStatus): Static<typeof Status> {
  const build = status.index?.build ?? null;
  const seconds =
    build?.finishedAt && build.startedAt
      ? (Date.parse(build.finishedAt) - Date.parse(build.startedAt)) / 1000
      : null;
  const model = status.model;
  return {
    model: model && {
      version: model.version,
      name: model.name,
      engine: model.engine,
      arch: model.arch,
      loss: model.loss,
      trained_at: model.createdAt,
      evaluation: model.evaluation && {
        p_at_1: model.evaluation.precisionAt1,
        map_at_r: model.evaluation.mapAtR,
        knn_accuracy: model.evaluation.knnAccuracy,
      },
      embedding_head: {
        mirror_average: model.head.flipAverage,
        class_pull: model.head.classPull,
      },
    },
    catalog: status.catalog,
    index: status.index && {
      size: status.index.size,
      build_id: build?.id ?? null,
      params: build?.params
        ? (JSON.parse(build.params) as { M: number; efConstruction: number; efSearch: number })
        : null,
      built_at: build?.finishedAt ?? null,
      build_seconds: seconds,
    },
    job: status.job,
  };
}

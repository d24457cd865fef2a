/**
 * A typed client of the fashion-similar HTTP API: openapi-fetch over the
 * types that `npm run openapi` generates from `openapi.yaml` (client/schema.ts),
 * so every path, parameter and response body is checked by the compiler.
 *
 *   const api = createFashionClient('http://127.0.0.1:8080');
 *   const { data, error } = await api.GET('/items/{id}/recommendations', {
 *     params: { path: { id: 'fmnist-test-00042' }, query: { k: 5 } },
 *   });
 */
import createClient, { type ClientOptions } from 'openapi-fetch';
import type { paths } from './schema.ts';

export type { paths };

/** The JSON body of a successful GET of `path`, e.g. `GetResponse<'/items/{id}'>` is an item. */
export type GetResponse<P extends keyof paths> = paths[P] extends {
  get: { responses: { 200: { content: { 'application/json': infer T } } } };
}
  ? T
  : never;

/** `headers` may carry `authorization: Bearer <ADMIN_TOKEN>` for the admin routes. */
export function createFashionClient(baseUrl: string, options: Omit<ClientOptions, 'baseUrl'> = {}) {
  return createClient<paths>({ baseUrl, ...options });
}

/** The page's views and its hash routes: `#/search`, `#/browse?category=`, `#/item/ID?trail=A,B`, `#/map`, `#/status`. */

export interface Route {
  name: string;
  /** Path segments after the name, decoded. */
  parts: string[];
  params: URLSearchParams;
}

export interface View {
  name: string;
  section: HTMLElement;
  /** `previous`: the route shown before (null on the first). */
  enter(route: Route, previous: Route | null): void;
  leave?(): void;
}

export const DEFAULT_ROUTE = 'search';

/** `#/item/abc?trail=x` → { name: 'item', parts: ['abc'], params }; null for other fragments (e.g. `#main`). */
export function parseRoute(hash: string): Route | null {
  if (hash === '' || hash === '#' || hash === '#/')
    return { name: DEFAULT_ROUTE, parts: [], params: new URLSearchParams() };
  if (!hash.startsWith('#/')) return null;
  const [path, search = ''] = hash.slice(2).split('?', 2);
  const [name, ...parts] = path.split('/').map((p) => {
    try {
      return decodeURIComponent(p);
    } catch {
      return p;
    }
  });
  return { name: name || DEFAULT_ROUTE, parts, params: new URLSearchParams(search) };
}

export function routeHash(name: string, parts: string[] = [], params: Record<string, string> = {}): string {
  const path = [name, ...parts.map(encodeURIComponent)].join('/');
  const search = new URLSearchParams(Object.entries(params).filter(([, v]) => v !== '')).toString();
  return `#/${path}${search ? `?${search}` : ''}`;
}

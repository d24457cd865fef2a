/** Browse: the catalog as a paginated grid (the API's cursor pages), filtered by category. */
import { api, type ItemPage } from './api.ts';
import { byId, fill } from './dom.ts';
import { addFilterControls, type Filter, readFilter } from './filters.ts';
import {
  card,
  describeError,
  describeOptions,
  fillCategorySelects,
  plural,
  Sequence,
  say,
  setCategory,
} from './shared.ts';
import { type Route, routeHash, type View } from './view.ts';

export const PAGE_SIZE = 24;

export function browseView(): View {
  const section = byId('view-browse');
  const form = byId('browse-controls', HTMLFormElement);
  const select = byId('browse-category', HTMLSelectElement);
  const grid = byId('browse-grid', HTMLOListElement);
  const status = byId('browse-status');
  const prev = byId('browse-prev', HTMLButtonElement);
  const next = byId('browse-next', HTMLButtonElement);
  const pageLabel = byId('browse-page');
  const seq = new Sequence();
  /** Per category and filter: the cursor of each page seen (page 1 has none). */
  const cursors = new Map<string, (string | null)[]>();
  let shown = { category: '', page: 1, nextCursor: null as string | null };
  const listKey = (category: string, filter: Filter | null) => `${category}\n${JSON.stringify(filter)}`;

  function go(category: string, page: number, cursor: string | null): void {
    const params: Record<string, string> = { category };
    if (page > 1 && cursor) {
      params.page = String(page);
      params.cursor = cursor;
    }
    location.hash = routeHash('browse', [], params);
  }

  async function load(category: string, page: number, cursor: string | null): Promise<void> {
    const ticket = seq.next();
    const filter = readFilter(form);
    grid.setAttribute('aria-busy', 'true');
    prev.disabled = true;
    next.disabled = true;
    say(status, 'Loading…');
    let answer: ItemPage;
    try {
      answer = await api.items({ category: category || undefined, filter, limit: PAGE_SIZE, cursor });
    } catch (err) {
      if (!seq.current(ticket)) return;
      grid.setAttribute('aria-busy', 'false');
      fill(grid);
      say(status, `Could not load the catalog: ${describeError(err)}`, 'error');
      return;
    }
    if (!seq.current(ticket)) return;
    const key = listKey(category, filter);
    const list = cursors.get(key) ?? [null];
    list[page - 1] = cursor;
    cursors.set(key, list);
    shown = { category, page, nextCursor: answer.next_cursor };
    fill(
      grid,
      answer.items.map((item) => card(item, routeHash('item', [item.id]))),
    );
    grid.setAttribute('aria-busy', 'false');
    prev.disabled = page <= 1;
    next.disabled = answer.next_cursor === null;
    pageLabel.textContent = `Page ${page}`;
    const where = describeOptions({ categories: category ? [category] : [], filter });
    say(status, `Page ${page}: ${plural(answer.items.length, 'item')}${where}.`);
  }

  prev.addEventListener('click', () => {
    const { category, page } = shown;
    const list = cursors.get(listKey(category, readFilter(form))) ?? [];
    const target = page - 1;
    const cursor = list[target - 1];
    if (target <= 1 || cursor === undefined) go(category, 1, null);
    else go(category, target, cursor);
  });
  next.addEventListener('click', () => {
    if (shown.nextCursor) go(shown.category, shown.page + 1, shown.nextCursor);
  });
  form.addEventListener('submit', (event) => event.preventDefault());
  form.addEventListener('change', (event) => {
    if (event.target === select) go(select.value, 1, null);
    else if (location.hash === routeHash('browse', [], { category: shown.category })) {
      void load(shown.category, 1, null); // same URL: a new filter starts again at page 1
    } else go(shown.category, 1, null);
  });
  let typing: number | undefined;
  form.addEventListener('input', (event) => {
    if (!(event.target instanceof HTMLInputElement) || event.target.type !== 'number') return;
    window.clearTimeout(typing);
    typing = window.setTimeout(() => form.dispatchEvent(new Event('change')), 400);
  });

  return {
    name: 'browse',
    section,
    enter(route: Route) {
      const category = route.params.get('category') ?? '';
      const cursor = route.params.get('cursor');
      const page = cursor ? Math.max(1, Number.parseInt(route.params.get('page') ?? '2', 10) || 2) : 1;
      setCategory(select, category);
      void fillCategorySelects(form);
      void addFilterControls(form);
      void load(category, page, cursor);
    },
  };
}

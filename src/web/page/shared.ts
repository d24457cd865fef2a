/** What the views share: the category list, the search-option forms, result cards, status lines. */
import {
  ApiError,
  type Attributes,
  api,
  imageUrl,
  type MapPlace,
  type SearchOptions,
  type Status,
} from './api.ts';
import { fmt, h } from './dom.ts';
import { describeFilter, readFilter } from './filters.ts';

/** The most results a search may ask for (`k` in src/server/schemas.ts). */
export const MAX_K = 100;

/** The latest photo query, placed on the embedding map. */
export interface PhotoQuery {
  /** Object URL of the photo as given. */
  original: string;
  /** The 28x28 model input (data URL), when the server returns it. */
  modelInput: string | null;
  place: MapPlace | null;
  name: string;
}

export const state: { photo: PhotoQuery | null; status: Status | null } = { photo: null, status: null };

let categoriesPromise: Promise<string[]> | null = null;

/** The catalog's categories, largest first: from `GET /status`, or from a page of items if that fails. */
export function loadCategories(): Promise<string[]> {
  categoriesPromise ??= (async () => {
    try {
      const status = await api.status();
      state.status = status;
      return [...status.catalog.categories].sort((a, b) => b.count - a.count).map((c) => c.category);
    } catch {
      const page = await api.items({ limit: 1000 });
      return [...new Set(page.items.map((item) => item.category))].sort();
    }
  })();
  categoriesPromise.catch(() => {
    categoriesPromise = null;
  });
  return categoriesPromise;
}

/** Fills every `select[data-categories]` of a form with the catalog's categories (keeps the selection). */
export async function fillCategorySelects(root: ParentNode): Promise<void> {
  let categories: string[];
  try {
    categories = await loadCategories();
  } catch {
    return; // the view's own request will report the failure
  }
  for (const select of root.querySelectorAll<HTMLSelectElement>('select[data-categories]')) {
    const current = select.value;
    const wanted = select.dataset.wanted ?? current;
    select.replaceChildren(
      h('option', { value: '' }, 'All categories'),
      ...categories.map((c) => h('option', { value: c }, c)),
    );
    select.value = categories.includes(wanted) ? wanted : '';
    delete select.dataset.wanted;
  }
}

/** Sets a category select, also before its options have arrived. */
export function setCategory(select: HTMLSelectElement, category: string): void {
  select.value = category;
  if (select.value !== category) select.dataset.wanted = category;
}

/** Reads a search-options form: `k`, `category`, `diversity` and the attribute filter controls. */
export function readOptions(form: HTMLFormElement): SearchOptions {
  const kInput = form.elements.namedItem('k');
  let k = 12;
  if (kInput instanceof HTMLInputElement) {
    const value = Math.round(Number(kInput.value));
    k = Number.isFinite(value) && kInput.value !== '' ? Math.min(MAX_K, Math.max(1, value)) : 12;
    if (String(k) !== kInput.value) kInput.value = String(k);
  }
  const category = form.elements.namedItem('category');
  const categories = category instanceof HTMLSelectElement && category.value !== '' ? [category.value] : [];
  const diversityInput = form.elements.namedItem('diversity');
  const diversity = diversityInput instanceof HTMLInputElement ? Number(diversityInput.value) || 0 : 0;
  return { k, categories, filter: readFilter(form), diversity: Math.min(1, Math.max(0, diversity)) };
}

/** " in Bag, brand Acme, diverse 0.5": what narrowed a search, for status lines. */
export function describeOptions(
  options: Pick<SearchOptions, 'categories' | 'filter'> & { diversity?: number },
): string {
  const parts = [
    options.categories.length > 0 ? `in ${options.categories.join(', ')}` : '',
    describeFilter(options.filter),
    options.diversity ? `diversity ${options.diversity}` : '',
  ].filter((p) => p !== '');
  return parts.length > 0 ? ` ${parts.join(', ')}` : '';
}

/** Calls `onChange` when a control of the form changes (debounced for typing), never submits the page. */
export function watchForm(form: HTMLFormElement, onChange: () => void): void {
  let timer: number | undefined;
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    onChange();
  });
  form.addEventListener('change', () => {
    window.clearTimeout(timer);
    onChange();
  });
  // Typing in a number field or dragging a slider: once it settles.
  form.addEventListener('input', (event) => {
    const target = event.target;
    if (!(target instanceof HTMLInputElement) || (target.type !== 'number' && target.type !== 'range'))
      return;
    if (target.type === 'range') {
      const output = form.querySelector<HTMLOutputElement>(`output[for="${target.id}"]`);
      if (output) output.value = target.value;
    }
    window.clearTimeout(timer);
    timer = window.setTimeout(onChange, 400);
  });
}

export interface CardData {
  id: string;
  title: string;
  category: string;
  distance?: number;
  attributes?: Attributes;
}

/** One grid cell: the item's image and title as a link, then category, distance, attributes. */
export function card(item: CardData, href: string, extra: Node[] = []): HTMLLIElement {
  const attributes = Object.entries(item.attributes ?? {}).filter(([, v]) => v !== null && v !== '');
  return h(
    'li',
    { class: 'card', 'data-id': item.id, 'data-category': item.category },
    h(
      'a',
      { href, class: 'card-link' },
      h('img', {
        src: imageUrl(item.id),
        alt: '',
        width: 112,
        height: 112,
        loading: 'lazy',
        decoding: 'async',
      }),
      h('span', { class: 'card-title' }, item.title),
    ),
    h(
      'p',
      { class: 'card-meta' },
      h('span', { class: 'card-category' }, item.category),
      item.distance === undefined
        ? null
        : h(
            'span',
            { class: 'card-distance', title: 'Euclidean distance between embeddings' },
            `d ${fmt(item.distance)}`,
          ),
    ),
    attributes.length > 0
      ? h(
          'p',
          { class: 'card-attrs' },
          attributes.map(([name, value]) =>
            h('span', { class: 'attr' }, `${name.replace(/_/g, ' ')}: ${showValue(value)}`),
          ),
        )
      : null,
    extra.length > 0 ? h('div', { class: 'card-actions' }, extra) : null,
  );
}

function showValue(value: Attributes[string]): string {
  if (Array.isArray(value)) return value.length > 0 ? value.join(', ') : 'none';
  if (typeof value === 'boolean') return value ? 'yes' : 'no';
  return String(value);
}

/** A readable sentence for a failed call. */
export function describeError(err: unknown): string {
  if (err instanceof ApiError) {
    if (err.status === 0) return 'The server could not be reached.';
    return `${err.message} (${err.code})`;
  }
  return err instanceof Error ? err.message : String(err);
}

/** Text of a status line; `error` styles it as an error. */
export function say(el: HTMLElement, text: string, kind: 'info' | 'error' = 'info'): void {
  el.textContent = text;
  el.classList.toggle('error', kind === 'error');
}

/** Last-wins guard for views that reload on every click: `const t = seq.next(); ...; if (!seq.current(t)) return;`. */
export class Sequence {
  private n = 0;
  next(): number {
    return ++this.n;
  }
  current(ticket: number): boolean {
    return ticket === this.n;
  }
}

export const plural = (n: number, word: string): string =>
  `${n.toLocaleString('en')} ${word}${n === 1 ? '' : 's'}`;

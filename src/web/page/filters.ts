/**
 * Attribute filters. The API has no "list attribute values" endpoint, so the page learns the catalog's
 * attributes from a sample (the first page of `GET /items`, up to 1,000 items) and offers, per attribute:
 * a choice for strings with few values, a choice matched with `any` for arrays of strings, a "yes only"
 * box for booleans, a from/to range for numbers. The controls carry `data-filter-key` and
 * `data-filter-op`; `readFilter` turns whatever is set into the API's filter object
 * (`{"brand": "Acme", "price": {"gte": 20, "lte": 80}, "in_stock": true, "sizes": {"any": ["M"]}}`).
 */
import { type Attributes, api } from './api.ts';
import { h } from './dom.ts';

export type Filter = Record<string, unknown>;

type FacetKind = 'choice' | 'any' | 'flag' | 'range';

export interface Facet {
  key: string;
  label: string;
  kind: FacetKind;
  values: string[];
}

/** More distinct strings than this and an attribute is free text, not a choice. */
const MAX_CHOICES = 40;
/** At most this many attributes get controls. */
const MAX_FACETS = 6;
const SAMPLE = 1000;

let facetsPromise: Promise<Facet[]> | null = null;

/** The attributes worth filtering on, learnt once per page load from a sample of the catalog. */
export function loadFacets(): Promise<Facet[]> {
  facetsPromise ??= api
    .items({ limit: SAMPLE })
    .then((page) => facetsOf(page.items.map((i) => i.attributes ?? {})));
  facetsPromise.catch(() => {
    facetsPromise = null;
  });
  return facetsPromise;
}

export function facetsOf(samples: Attributes[]): Facet[] {
  const seen = new Map<string, { kinds: Set<string>; values: Set<string> }>();
  for (const attributes of samples) {
    for (const [key, value] of Object.entries(attributes)) {
      if (value === null) continue;
      const entry = seen.get(key) ?? { kinds: new Set(), values: new Set() };
      seen.set(key, entry);
      if (Array.isArray(value)) {
        entry.kinds.add('array');
        for (const v of value) entry.values.add(String(v));
      } else {
        entry.kinds.add(typeof value);
        if (typeof value === 'string') entry.values.add(value);
      }
    }
  }
  const facets: Facet[] = [];
  for (const [key, { kinds, values }] of seen) {
    if (kinds.size !== 1) continue;
    const kind = [...kinds][0];
    const sorted = [...values].sort(naturalOrder);
    const label = key.replace(/[_.-]+/g, ' ').replace(/^./, (c) => c.toUpperCase());
    if (kind === 'boolean') facets.push({ key, label, kind: 'flag', values: [] });
    else if (kind === 'number') facets.push({ key, label, kind: 'range', values: [] });
    else if (kind === 'string' && values.size <= MAX_CHOICES)
      facets.push({ key, label, kind: 'choice', values: sorted });
    else if (kind === 'array' && values.size <= MAX_CHOICES)
      facets.push({ key, label, kind: 'any', values: sorted });
  }
  return facets.slice(0, MAX_FACETS);
}

/** Numbers by value (sizes 37 < 44), sizes XS < S < M < L < XL, other strings alphabetically. */
function naturalOrder(a: string, b: string): number {
  const sizes = ['XXS', 'XS', 'S', 'M', 'L', 'XL', 'XXL'];
  const na = Number(a);
  const nb = Number(b);
  if (Number.isFinite(na) && Number.isFinite(nb)) return na - nb;
  const sa = sizes.indexOf(a);
  const sb = sizes.indexOf(b);
  if (sa >= 0 && sb >= 0) return sa - sb;
  return a.localeCompare(b);
}

/** Adds the attribute controls to a form's `[data-filters]` fieldset (once). */
export async function addFilterControls(form: HTMLFormElement): Promise<void> {
  const fieldset = form.querySelector<HTMLFieldSetElement>('[data-filters]');
  if (!fieldset || fieldset.dataset.filtersAdded) return;
  fieldset.dataset.filtersAdded = 'pending';
  let facets: Facet[];
  try {
    facets = await loadFacets();
  } catch {
    delete fieldset.dataset.filtersAdded;
    return;
  }
  fieldset.dataset.filtersAdded = 'true';
  const count = form.querySelector('[data-filter-count]');
  if (count) {
    const update = () => {
      const category = form.querySelector<HTMLSelectElement>('select[data-categories]');
      const n = Object.keys(readFilter(form) ?? {}).length + (category?.value ? 1 : 0);
      count.textContent = n > 0 ? ` (${n} on)` : '';
    };
    form.addEventListener('change', update);
    form.addEventListener('input', update);
    update();
  }
  const id = (facet: Facet, part = '') => `${form.id}-f-${facet.key.replace(/[^A-Za-z0-9_-]/g, '_')}${part}`;
  for (const facet of facets) {
    if (facet.kind === 'choice' || facet.kind === 'any') {
      fieldset.append(
        h(
          'div',
          { class: 'field' },
          h('label', { for: id(facet) }, facet.label),
          h(
            'select',
            {
              id: id(facet),
              'data-filter-key': facet.key,
              'data-filter-op': facet.kind === 'any' ? 'any' : 'eq',
            },
            h('option', { value: '' }, 'Any'),
            facet.values.map((v) => h('option', { value: v }, v)),
          ),
        ),
      );
    } else if (facet.kind === 'flag') {
      fieldset.append(
        h(
          'div',
          { class: 'field checkbox' },
          h('input', {
            id: id(facet),
            type: 'checkbox',
            'data-filter-key': facet.key,
            'data-filter-op': 'true',
          }),
          h('label', { for: id(facet) }, `${facet.label} only`),
        ),
      );
    } else {
      fieldset.append(
        h(
          'div',
          { class: 'field range' },
          h('span', { class: 'range-label', id: id(facet, '-label') }, facet.label),
          h(
            'span',
            { class: 'range-inputs' },
            h('label', { for: id(facet, '-min'), class: 'visually-hidden' }, `${facet.label} from`),
            h('input', {
              id: id(facet, '-min'),
              type: 'number',
              min: 0,
              step: 'any',
              placeholder: 'from',
              inputmode: 'decimal',
              'data-filter-key': facet.key,
              'data-filter-op': 'gte',
            }),
            h('span', { 'aria-hidden': 'true' }, '–'),
            h('label', { for: id(facet, '-max'), class: 'visually-hidden' }, `${facet.label} to`),
            h('input', {
              id: id(facet, '-max'),
              type: 'number',
              min: 0,
              step: 'any',
              placeholder: 'to',
              inputmode: 'decimal',
              'data-filter-key': facet.key,
              'data-filter-op': 'lte',
            }),
          ),
        ),
      );
    }
  }
}

/** The filter object of a form's attribute controls, or null when none is set. */
export function readFilter(form: HTMLFormElement): Filter | null {
  const filter: Filter = {};
  for (const control of form.querySelectorAll<HTMLInputElement | HTMLSelectElement>('[data-filter-key]')) {
    const key = control.dataset.filterKey!;
    const op = control.dataset.filterOp;
    if (op === 'true') {
      if (control instanceof HTMLInputElement && control.checked) filter[key] = true;
    } else if (control.value !== '') {
      if (op === 'eq') filter[key] = control.value;
      else if (op === 'any') filter[key] = { any: [control.value] };
      else if (op === 'gte' || op === 'lte') {
        const n = Number(control.value);
        if (!Number.isFinite(n)) continue;
        const range = (filter[key] as Record<string, number> | undefined) ?? {};
        range[op] = n;
        filter[key] = range;
      }
    }
  }
  return Object.keys(filter).length > 0 ? filter : null;
}

/** "brand Acme, price ≤ 80, in stock": the filter in words, for status lines. */
export function describeFilter(filter: Filter | null): string {
  if (!filter) return '';
  return Object.entries(filter)
    .map(([key, value]) => {
      const name = key.replace(/[_.-]+/g, ' ');
      if (value === true) return name;
      if (typeof value !== 'object' || value === null) return `${name} ${String(value)}`;
      const v = value as Record<string, unknown>;
      if (Array.isArray(v.any)) return `${name} ${v.any.join('/')}`;
      const parts = [];
      if (v.gte !== undefined) parts.push(`≥ ${v.gte}`);
      if (v.lte !== undefined) parts.push(`≤ ${v.lte}`);
      return `${name} ${parts.join(' and ')}`;
    })
    .join(', ');
}

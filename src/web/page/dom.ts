/** A few DOM helpers: element creation without innerHTML (so no markup injection), lookups that fail loudly. */

type Child = Node | string | number | null | undefined | false;
type Listeners = { [K in keyof HTMLElementEventMap]?: (event: HTMLElementEventMap[K]) => void };
type AttrValue = string | number | boolean | null | undefined;
/** Attributes by name, plus `on`: event listeners by event type. */
export type Attrs = { on?: Listeners } & { [name: string]: AttrValue | Listeners };

/** `h('a', { href: '#/x', class: 'card' }, 'text', child)`: attributes are set as attributes (true → present). */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Attrs | null = null,
  ...children: (Child | Child[])[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  if (attrs) {
    for (const [name, value] of Object.entries(attrs)) {
      if (name === 'on' || typeof value === 'object') continue;
      if (value === false || value === null || value === undefined) continue;
      el.setAttribute(name, value === true ? '' : String(value));
    }
    const on = attrs.on;
    if (on) {
      for (const [type, listener] of Object.entries(on)) el.addEventListener(type, listener as EventListener);
    }
  }
  append(el, children);
  return el;
}

function append(el: Element, children: (Child | Child[])[]): void {
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    el.append(typeof child === 'number' ? String(child) : child);
  }
}

/** Replaces an element's children. */
export function fill(el: Element, ...children: (Child | Child[])[]): void {
  el.replaceChildren();
  append(el, children);
}

/** The element with this id, of the expected type; throws if the page's markup does not have it. */
export function byId<T extends HTMLElement = HTMLElement>(
  id: string,
  type: new () => T = HTMLElement as unknown as new () => T,
): T {
  const el = document.getElementById(id);
  if (!(el instanceof type)) throw new Error(`the page has no #${id} of the expected type`);
  return el;
}

/** A number shown with a fixed number of decimals, or a dash for null. */
export function fmt(value: number | null | undefined, digits = 3): string {
  return value === null || value === undefined || !Number.isFinite(value) ? '–' : value.toFixed(digits);
}

export function fmtInt(value: number | null | undefined): string {
  return value === null || value === undefined ? '–' : value.toLocaleString('en');
}

export function fmtDate(iso: string | null | undefined): string {
  if (!iso) return '–';
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : date.toLocaleString('en-GB', { hour12: false });
}

/** Definition list rows: `[term, value]`. */
export function dl(rows: [string, Child | Child[]][], className = 'facts'): HTMLDListElement {
  return h(
    'dl',
    { class: className },
    ...rows.map(([term, value]) => [h('dt', null, term), h('dd', null, value)]),
  );
}

/**
 * One item with its recommendations. Clicking a recommendation moves on and extends the visible "more like
 * this" trail (kept in the URL: `#/item/ID?trail=A,B`, so Back walks back). Liking or disliking results makes
 * the list come from `POST /recommendations` (positive: this item and the liked ones; negative: the disliked).
 */
import { api, type Item, imageUrl, type SearchResponse } from './api.ts';
import { byId, dl, fill, fmtDate, h } from './dom.ts';
import { addFilterControls } from './filters.ts';
import {
  type CardData,
  card,
  describeError,
  describeOptions,
  fillCategorySelects,
  MAX_K,
  plural,
  readOptions,
  Sequence,
  say,
  watchForm,
} from './shared.ts';
import { type Route, routeHash, type View } from './view.ts';

/** Most items kept in the trail. */
export const TRAIL_MAX = 12;

type Pick = 'like' | 'dislike';

export function itemView(): View {
  const section = byId('view-item');
  const trailList = byId('item-trail', HTMLOListElement);
  const image = byId('item-image', HTMLImageElement);
  const title = byId('item-title');
  const facts = byId('item-facts');
  const form = byId('item-controls', HTMLFormElement);
  const status = byId('item-status');
  const recs = byId('item-recs', HTMLOListElement);
  const prefsBox = byId('prefs');
  const likedList = byId('prefs-liked', HTMLUListElement);
  const dislikedList = byId('prefs-disliked', HTMLUListElement);
  const clear = byId('prefs-clear', HTMLButtonElement);
  const seq = new Sequence();
  /** Titles and categories of items seen (trail labels, picks). */
  const known = new Map<string, CardData>();
  const full = new Map<string, Item>();
  const picks = { like: new Map<string, CardData>(), dislike: new Map<string, CardData>() };
  let current: { id: string; trail: string[] } | null = null;

  async function details(id: string): Promise<Item> {
    const cached = full.get(id);
    if (cached) return cached;
    const item = await api.item(id);
    full.set(id, item);
    known.set(id, item);
    return item;
  }

  function renderTrail(trail: string[], id: string): void {
    const steps = [...trail, id];
    fill(
      trailList,
      steps.map((step, i) => {
        const last = i === steps.length - 1;
        const label = known.get(step)?.title ?? step;
        return h(
          'li',
          { 'data-id': step },
          last
            ? h('span', { 'aria-current': 'page' }, label)
            : h('a', { href: routeHash('item', [step], { trail: steps.slice(0, i).join(',') }) }, label),
        );
      }),
    );
  }

  function renderItem(item: Item): void {
    image.src = imageUrl(item.id);
    image.alt = `${item.title} (the catalog's 28×28 image)`;
    title.textContent = item.title;
    const rows: [string, string][] = [
      ['Category', item.category],
      ['Id', item.id],
      ['Source', item.split ? `${item.source} (${item.split})` : item.source],
      ['Added', fmtDate(item.created_at)],
    ];
    for (const [name, value] of Object.entries(item.attributes ?? {})) {
      if (value !== null) rows.push([name, String(value)]);
    }
    facts.replaceWith(Object.assign(dl(rows), { id: 'item-facts' }));
  }

  function pickButton(item: CardData, pick: Pick): HTMLButtonElement {
    const pressed = picks[pick].has(item.id);
    return h(
      'button',
      {
        type: 'button',
        class: `pick pick-${pick}`,
        'aria-pressed': pressed ? 'true' : 'false',
        'data-pick': pick,
        on: { click: () => togglePick(item, pick) },
      },
      pick === 'like' ? '▲ Like' : '▼ Dislike',
      h('span', { class: 'visually-hidden' }, ` ${item.title}`),
    );
  }

  function togglePick(item: CardData, pick: Pick): void {
    const other: Pick = pick === 'like' ? 'dislike' : 'like';
    if (picks[pick].has(item.id)) picks[pick].delete(item.id);
    else {
      picks[pick].set(item.id, item);
      picks[other].delete(item.id);
    }
    renderPicks();
    void loadRecs();
  }

  function renderPicks(): void {
    const chip = (item: CardData, pick: Pick) =>
      h(
        'li',
        { class: 'chip', 'data-id': item.id },
        h('img', { src: imageUrl(item.id), alt: '', width: 28, height: 28 }),
        h('span', null, item.title),
        h(
          'button',
          {
            type: 'button',
            class: 'chip-remove',
            'aria-label': `Remove ${item.title} from ${pick === 'like' ? 'liked' : 'disliked'}`,
            on: { click: () => togglePick(item, pick) },
          },
          '×',
        ),
      );
    fill(
      likedList,
      [...picks.like.values()].map((item) => chip(item, 'like')),
    );
    fill(
      dislikedList,
      [...picks.dislike.values()].map((item) => chip(item, 'dislike')),
    );
    prefsBox.hidden = picks.like.size + picks.dislike.size === 0;
  }

  async function loadRecs(): Promise<void> {
    if (!current) return;
    const { id, trail } = current;
    const ticket = seq.next();
    const options = readOptions(form);
    const positive = [id, ...[...picks.like.keys()].filter((p) => p !== id)];
    const negative = [...picks.dislike.keys()].filter((n) => !positive.includes(n));
    const refined = positive.length > 1 || negative.length > 0;
    // The walk's earlier steps are not offered again: asked for beyond k and dropped here.
    const walked = new Set(trail);
    const asked = { ...options, k: Math.min(options.k + walked.size, MAX_K) };
    recs.setAttribute('aria-busy', 'true');
    say(status, 'Loading recommendations…');
    let answer: SearchResponse;
    try {
      answer = refined
        ? await api.recommend(positive, negative, asked)
        : await api.recommendationsFor(id, asked);
    } catch (err) {
      if (!seq.current(ticket)) return;
      recs.setAttribute('aria-busy', 'false');
      fill(recs);
      say(status, `Could not load recommendations: ${describeError(err)}`, 'error');
      return;
    }
    if (!seq.current(ticket)) return;
    const nextTrail = [...trail, id].slice(-TRAIL_MAX).join(',');
    const shown = answer.results.filter((r) => !walked.has(r.id)).slice(0, options.k);
    fill(
      recs,
      shown.map((r) => {
        known.set(r.id, r);
        return card(r, routeHash('item', [r.id], { trail: nextTrail }), [
          pickButton(r, 'like'),
          pickButton(r, 'dislike'),
        ]);
      }),
    );
    recs.setAttribute('aria-busy', 'false');
    const how = refined
      ? ` refined by ${plural(picks.like.size, 'like')} and ${plural(picks.dislike.size, 'dislike')}`
      : '';
    say(status, `${plural(shown.length, 'recommendation')}${describeOptions(options)}${how}.`);
  }

  async function open(id: string, trail: string[]): Promise<void> {
    current = { id, trail };
    picks.dislike.delete(id);
    renderPicks();
    renderTrail(trail, id);
    fill(recs);
    say(status, 'Loading…');
    let item: Item;
    try {
      item = await details(id);
    } catch (err) {
      if (current?.id !== id) return;
      title.textContent = 'Item not found';
      image.removeAttribute('src');
      say(status, `Could not load item ${id}: ${describeError(err)}`, 'error');
      return;
    }
    if (current?.id !== id) return;
    renderItem(item);
    renderTrail(trail, id);
    void loadRecs();
    // Titles of trail steps opened straight from a URL.
    const missing = trail.filter((step) => !known.has(step));
    if (missing.length > 0) {
      await Promise.allSettled(missing.map((step) => details(step)));
      if (current?.id === id) renderTrail(trail, id);
    }
  }

  clear.addEventListener('click', () => {
    picks.like.clear();
    picks.dislike.clear();
    renderPicks();
    void loadRecs();
    title.focus();
  });
  watchForm(form, () => void loadRecs());

  return {
    name: 'item',
    section,
    enter(route: Route, previous?: Route | null) {
      const id = route.parts[0] ?? '';
      const trail = (route.params.get('trail') ?? '').split(',').filter((s) => s !== '' && s !== id);
      // A walk starts when an item is opened from another view: earlier picks belong to another walk.
      if (previous?.name !== 'item') {
        picks.like.clear();
        picks.dislike.clear();
      }
      void fillCategorySelects(form);
      void addFilterControls(form);
      void open(id, trail);
    },
  };
}

/** The page's entry: builds the views and routes `location.hash` to one of them. */
import { api } from './api.ts';
import { browseView } from './browse.ts';
import { byId } from './dom.ts';
import { itemView } from './item.ts';
import { mapView } from './map.ts';
import { searchView } from './search.ts';
import { statusView } from './status.ts';
import { DEFAULT_ROUTE, parseRoute, type Route, type View } from './view.ts';

const footerModel = byId('footer-model');

async function showModel(): Promise<void> {
  try {
    const ready = await api.ready();
    footerModel.textContent = ready.model
      ? `Model ${ready.model} · ${ready.index_size ?? 0} items indexed`
      : 'Model loading…';
  } catch {
    footerModel.textContent = 'Model: not ready';
  }
}

const views: View[] = [searchView(), browseView(), itemView(), mapView(), statusView(() => void showModel())];
const byName = new Map(views.map((v) => [v.name, v]));
const NAV_FOR: Record<string, string> = { item: 'browse' };
let shown: View | null = null;
let previous: Route | null = null;
let firstRoute = true;

function route(): void {
  const parsed = parseRoute(location.hash);
  if (parsed === null) return; // an in-page anchor such as the skip link
  const view = byName.get(parsed.name) ?? byName.get(DEFAULT_ROUTE)!;
  if (shown && shown !== view) {
    shown.leave?.();
    shown.section.hidden = true;
  }
  const changed = shown !== view;
  shown = view;
  view.section.hidden = false;
  for (const link of document.querySelectorAll<HTMLAnchorElement>('[data-nav]')) {
    if (link.dataset.nav === (NAV_FOR[view.name] ?? view.name)) link.setAttribute('aria-current', 'page');
    else link.removeAttribute('aria-current');
  }
  view.enter(parsed, previous);
  previous = parsed;
  const heading = view.section.querySelector<HTMLElement>('h1');
  document.title = `${heading?.textContent ?? 'fashion-similar'} · fashion-similar`;
  // Move focus to the new view's heading so keyboard and screen-reader users land on it (not on first load).
  if ((changed || view.name === 'item') && !firstRoute) heading?.focus();
  firstRoute = false;
}

document.querySelector<HTMLAnchorElement>('.skip-link')?.addEventListener('click', (event) => {
  event.preventDefault();
  byId('main').focus();
});
// Filters start open where there is room, folded on phones.
for (const box of document.querySelectorAll<HTMLDetailsElement>('details[data-filter-box]')) {
  box.open = window.matchMedia('(min-width: 40rem)').matches;
}
window.addEventListener('hashchange', route);
route();
void showModel();

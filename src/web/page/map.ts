/**
 * The embedding map (`GET /map`): points on a canvas coloured by category, a legend that shows or hides
 * categories, a tooltip with the item's thumbnail on hover (or keyboard focus), click/Enter opens the item,
 * and the latest photo query placed on it.
 */
import { ApiError, api, type EmbeddingMap, type Item, imageUrl } from './api.ts';
import { byId, fill, h } from './dom.ts';
import { type Box, categoryColours, nearest, toScreen } from './mapGeometry.ts';
import { describeError, plural, say, state } from './shared.ts';
import { routeHash, type View } from './view.ts';

export function mapView(): View {
  const section = byId('view-map');
  const status = byId('map-status');
  const frame = byId('map-frame');
  const canvas = byId('map-canvas', HTMLCanvasElement);
  const tip = byId('map-tip');
  const legend = byId('map-legend', HTMLUListElement);
  const queryNote = byId('map-query');
  const context = canvas.getContext('2d');
  const titles = new Map<string, string>();

  let map: EmbeddingMap | null = null;
  let colours = new Map<string, string>();
  const hidden = new Set<string>();
  let box: Box = { width: 0, height: 0 };
  let hover = -1;
  /** The canvas has keyboard focus: the highlighted point stays when the mouse leaves. */
  let focused = false;
  let retry: number | undefined;
  let active = false;

  const visible = (i: number) => map !== null && !hidden.has(map.points[i].category);

  function resize(): void {
    const width = frame.clientWidth;
    if (width === 0) return;
    const height = width; // a square map: UMAP's axes have the same scale
    const dpr = window.devicePixelRatio || 1;
    box = { width, height };
    canvas.width = Math.round(width * dpr);
    canvas.height = Math.round(height * dpr);
    canvas.style.height = `${height}px`;
    context?.setTransform(dpr, 0, 0, dpr, 0, 0);
    draw();
  }

  function draw(): void {
    if (!context) return;
    context.clearRect(0, 0, box.width, box.height);
    if (!map) return;
    const r = box.width < 480 ? 1.8 : 2.4;
    for (const [category, colour] of colours) {
      if (hidden.has(category)) continue;
      context.fillStyle = colour;
      context.beginPath();
      for (const p of map.points) {
        if (p.category !== category) continue;
        const { px, py } = toScreen(p.x, p.y, box);
        context.moveTo(px + r, py);
        context.arc(px, py, r, 0, 2 * Math.PI);
      }
      context.fill();
    }
    if (hover >= 0) {
      const p = map.points[hover];
      const { px, py } = toScreen(p.x, p.y, box);
      context.beginPath();
      context.arc(px, py, 6, 0, 2 * Math.PI);
      context.fillStyle = colours.get(p.category) ?? '#000';
      context.fill();
      context.lineWidth = 2;
      context.strokeStyle = '#111';
      context.stroke();
    }
    const place = state.photo?.place;
    if (place) {
      const { px, py } = toScreen(place.x, place.y, box);
      star(context, px, py);
    }
  }

  function renderLegend(): void {
    if (!map) return;
    const counts = new Map<string, number>();
    for (const p of map.points) counts.set(p.category, (counts.get(p.category) ?? 0) + 1);
    fill(
      legend,
      [...colours].map(([category, colour]) => {
        const swatch = h('span', { class: 'swatch', 'aria-hidden': 'true' });
        swatch.style.background = colour;
        return h(
          'li',
          null,
          h(
            'button',
            {
              type: 'button',
              class: 'legend-button',
              'aria-pressed': hidden.has(category) ? 'false' : 'true',
              title: 'Show or hide this category',
              on: {
                click: () => {
                  if (hidden.has(category)) hidden.delete(category);
                  else hidden.add(category);
                  if (hover >= 0 && !visible(hover)) setHover(-1);
                  renderLegend();
                  draw();
                },
              },
            },
            swatch,
            h('span', { class: 'legend-name' }, category),
            h('span', { class: 'legend-count' }, (counts.get(category) ?? 0).toLocaleString('en')),
          ),
        );
      }),
    );
    const photo = state.photo;
    queryNote.hidden = photo === null;
    if (photo) {
      fill(
        queryNote,
        h('span', { class: 'star', 'aria-hidden': 'true' }, '★'),
        photo.place
          ? ` Your photo (${photo.name}) is the star.`
          : ' Your photo could not be placed (the map was not ready when you searched): search again to place it.',
      );
    }
  }

  function setHover(index: number): void {
    if (index === hover) return;
    hover = index;
    canvas.style.cursor = index >= 0 ? 'pointer' : 'default';
    draw();
    if (index < 0 || !map) {
      tip.hidden = true;
      return;
    }
    const p = map.points[index];
    const { px, py } = toScreen(p.x, p.y, box);
    const title = h('span', { class: 'tip-title' }, titles.get(p.id) ?? p.id);
    fill(
      tip,
      h('img', { src: imageUrl(p.id), alt: '', width: 56, height: 56, class: 'pixelated' }),
      h('span', { class: 'tip-text' }, title, h('span', { class: 'tip-category' }, p.category)),
    );
    tip.hidden = false;
    const left = Math.min(px + 12, box.width - tip.offsetWidth - 4);
    const top = py + 12 + tip.offsetHeight > box.height ? py - 12 - tip.offsetHeight : py + 12;
    tip.style.left = `${Math.max(4, left)}px`;
    tip.style.top = `${Math.max(4, top)}px`;
    if (!titles.has(p.id)) {
      api.item(p.id).then(
        (item: Item) => {
          titles.set(p.id, item.title);
          if (hover === index) title.textContent = item.title;
        },
        () => undefined,
      );
    }
  }

  function pointer(event: MouseEvent): { px: number; py: number } {
    const rect = canvas.getBoundingClientRect();
    return { px: event.clientX - rect.left, py: event.clientY - rect.top };
  }

  canvas.addEventListener('mousemove', (event) => {
    if (!map) return;
    const { px, py } = pointer(event);
    setHover(nearest(map.points, px, py, box, undefined, visible));
  });
  canvas.addEventListener('mouseleave', () => {
    if (!focused) setHover(-1);
  });
  canvas.addEventListener('click', (event) => {
    if (!map) return;
    const { px, py } = pointer(event);
    const index = nearest(map.points, px, py, box, undefined, visible);
    if (index >= 0) location.hash = routeHash('item', [map.points[index].id]);
  });
  canvas.addEventListener('focus', () => {
    focused = true;
    if (map && hover < 0) setHover(nearestTo(map, 0.5, 0.5, visible));
  });
  canvas.addEventListener('blur', () => {
    focused = false;
    setHover(-1);
  });
  canvas.addEventListener('keydown', (event) => {
    if (!map) return;
    const directions: Record<string, [number, number]> = {
      ArrowLeft: [-1, 0],
      ArrowRight: [1, 0],
      ArrowUp: [0, -1],
      ArrowDown: [0, 1],
    };
    const direction = directions[event.key];
    if (direction) {
      event.preventDefault();
      if (hover < 0) setHover(nearestTo(map, 0.5, 0.5, visible));
      else {
        const next = neighbourTowards(map, hover, direction, visible);
        if (next >= 0) setHover(next);
      }
    } else if (event.key === 'Enter' && hover >= 0) {
      event.preventDefault();
      location.hash = routeHash('item', [map.points[hover].id]);
    } else if (event.key === 'Escape') {
      setHover(-1);
    }
  });
  new ResizeObserver(() => resize()).observe(frame);

  async function load(): Promise<void> {
    window.clearTimeout(retry);
    if (!map) say(status, 'Loading the map…');
    try {
      const answer = await api.map();
      if (!map || answer.build_id !== map.build_id || answer.points.length !== map.points.length) {
        map = answer;
        colours = categoryColours(answer.points.map((p) => p.category));
        hover = -1;
        tip.hidden = true;
      }
      say(
        status,
        `${plural(map.points.length, 'item')} of index build ${map.build_id ?? '–'} (model ${map.model}).`,
      );
      canvas.setAttribute(
        'aria-label',
        `Embedding map of ${plural(map.points.length, 'catalog item')}, coloured by category`,
      );
      renderLegend();
      resize();
    } catch (err) {
      if (err instanceof ApiError && err.status === 503) {
        const seconds = err.retryAfter ?? 2;
        say(status, `The map is being computed for the current index; trying again in ${seconds} s…`);
        if (active) retry = window.setTimeout(() => void load(), seconds * 1000);
        return;
      }
      say(status, `Could not load the map: ${describeError(err)}`, 'error');
    }
  }

  return {
    name: 'map',
    section,
    enter() {
      active = true;
      void load();
      resize();
    },
    leave() {
      active = false;
      window.clearTimeout(retry);
    },
  };
}

/** The visible point nearest to (x, y), or -1 when none is visible. */
function nearestTo(map: EmbeddingMap, x: number, y: number, visible: (i: number) => boolean): number {
  let best = -1;
  let bestD = Number.POSITIVE_INFINITY;
  map.points.forEach((p, i) => {
    const d = (p.x - x) ** 2 + (p.y - y) ** 2;
    if (visible(i) && d < bestD) {
      bestD = d;
      best = i;
    }
  });
  return best;
}

/**
 * The next point from point `from` in an arrow's direction: within 45° of it, preferring points close
 * along the direction and close to its line. -1 when there is none that way.
 */
function neighbourTowards(
  map: EmbeddingMap,
  from: number,
  [ux, uy]: [number, number],
  visible: (i: number) => boolean,
): number {
  const origin = map.points[from];
  let best = -1;
  let bestScore = Number.POSITIVE_INFINITY;
  map.points.forEach((p, i) => {
    if (i === from || !visible(i)) return;
    const dx = p.x - origin.x;
    const dy = p.y - origin.y;
    const along = dx * ux + dy * uy;
    const across = Math.abs(dx * uy - dy * ux);
    if (along <= 0 || across > along) return;
    const score = along + 2 * across;
    if (score < bestScore) {
      bestScore = score;
      best = i;
    }
  });
  return best;
}

function star(context: CanvasRenderingContext2D, x: number, y: number): void {
  context.beginPath();
  for (let i = 0; i < 10; i++) {
    const radius = i % 2 === 0 ? 11 : 4.5;
    const angle = -Math.PI / 2 + (i * Math.PI) / 5;
    context.lineTo(x + radius * Math.cos(angle), y + radius * Math.sin(angle));
  }
  context.closePath();
  context.fillStyle = '#111';
  context.fill();
  context.lineWidth = 2;
  context.strokeStyle = '#fff';
  context.stroke();
}

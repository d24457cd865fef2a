/** Pure geometry and colours of the embedding map (no DOM), shared with the browser tests. */

/** Margin, in CSS pixels, between the canvas edge and the [0,1] square of the map. */
export const MAP_PAD = 14;
/** How close (CSS pixels) the pointer must be to a point to pick it. */
export const PICK_RADIUS = 10;

export interface Box {
  width: number;
  height: number;
}

/** Map coordinates in [0,1] → CSS pixels inside the canvas. */
export function toScreen(x: number, y: number, box: Box): { px: number; py: number } {
  return { px: MAP_PAD + x * (box.width - 2 * MAP_PAD), py: MAP_PAD + y * (box.height - 2 * MAP_PAD) };
}

/** CSS pixels → map coordinates (may fall outside [0,1]). */
export function fromScreen(px: number, py: number, box: Box): { x: number; y: number } {
  return { x: (px - MAP_PAD) / (box.width - 2 * MAP_PAD), y: (py - MAP_PAD) / (box.height - 2 * MAP_PAD) };
}

/** Index of the point nearest to (px, py) within `radius` CSS pixels, or -1. */
export function nearest(
  points: readonly { x: number; y: number }[],
  px: number,
  py: number,
  box: Box,
  radius = PICK_RADIUS,
  visible: (index: number) => boolean = () => true,
): number {
  let best = -1;
  let bestD = radius * radius;
  for (let i = 0; i < points.length; i++) {
    if (!visible(i)) continue;
    const s = toScreen(points[i].x, points[i].y, box);
    const d = (s.px - px) ** 2 + (s.py - py) ** 2;
    if (d <= bestD) {
      bestD = d;
      best = i;
    }
  }
  return best;
}

/** Tableau 10: distinct hues that stay apart for the common colour-vision deficiencies. */
const PALETTE = [
  '#4e79a7',
  '#f28e2b',
  '#e15759',
  '#76b7b2',
  '#59a14f',
  '#edc948',
  '#b07aa1',
  '#ff9da7',
  '#9c755f',
  '#79706e',
];

/** A colour per category, by sorted name (stable across sessions); golden-angle hues beyond ten. */
export function categoryColours(categories: Iterable<string>): Map<string, string> {
  const sorted = [...new Set(categories)].sort();
  return new Map(
    sorted.map((c, i) => [
      c,
      i < PALETTE.length ? PALETTE[i] : `hsl(${Math.round((i * 137.508) % 360)} 55% 45%)`,
    ]),
  );
}

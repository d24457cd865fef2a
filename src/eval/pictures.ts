import sharp, { type OverlayOptions } from 'sharp';
import { IMAGE_SIZE } from '../data/classes.ts';

/** Matplotlib's tab10: ten colours that stay distinguishable side by side. */
export const CLASS_COLORS = [
  '#1f77b4',
  '#ff7f0e',
  '#2ca02c',
  '#d62728',
  '#9467bd',
  '#8c564b',
  '#e377c2',
  '#7f7f7f',
  '#bcbd22',
  '#17becf',
];

const FONT = 'DejaVu Sans, Liberation Sans, Arial, sans-serif';
const MATCH = '#1a9e3a';
const MISMATCH = '#d62728';

function escapeXml(s: string): string {
  return s.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function text(x: number, y: number, s: string, size: number, extra = ''): string {
  return `<text x="${x}" y="${y}" font-family="${FONT}" font-size="${size}" ${extra}>${escapeXml(s)}</text>`;
}

async function svgToPng(svg: string): Promise<Buffer> {
  return sharp(Buffer.from(svg)).png().toBuffer();
}

/**
 * Scatter plot of 2-D points coloured by class, with a legend (the article's embedding figures).
 */
export async function renderProjectionPng(
  points: Float32Array,
  labels: Uint8Array,
  classNames: readonly string[],
  title: string,
): Promise<Buffer> {
  const plot = 760;
  const pad = 20;
  const legendWidth = 170;
  const top = 40;
  const width = pad + plot + pad + legendWidth;
  const height = top + plot + pad;
  let minX = Infinity;
  let maxX = -Infinity;
  let minY = Infinity;
  let maxY = -Infinity;
  for (let i = 0; i < labels.length; i++) {
    minX = Math.min(minX, points[2 * i]);
    maxX = Math.max(maxX, points[2 * i]);
    minY = Math.min(minY, points[2 * i + 1]);
    maxY = Math.max(maxY, points[2 * i + 1]);
  }
  const inset = 8;
  const scale = (plot - 2 * inset) / Math.max(maxX - minX, maxY - minY, 1e-12);
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">`,
    `<rect width="${width}" height="${height}" fill="white"/>`,
    text(pad, 28, title, 18, 'font-weight="bold"'),
    `<rect x="${pad}" y="${top}" width="${plot}" height="${plot}" fill="none" stroke="#ccc"/>`,
  ];
  for (let i = 0; i < labels.length; i++) {
    const x = pad + inset + (points[2 * i] - minX) * scale;
    const y = top + plot - inset - (points[2 * i + 1] - minY) * scale;
    parts.push(
      `<circle cx="${x.toFixed(1)}" cy="${y.toFixed(1)}" r="2.2" fill="${CLASS_COLORS[labels[i] % 10]}" fill-opacity="0.75"/>`,
    );
  }
  const lx = pad + plot + pad;
  classNames.forEach((name, c) => {
    const y = top + 20 + c * 26;
    parts.push(`<circle cx="${lx + 8}" cy="${y - 5}" r="7" fill="${CLASS_COLORS[c % 10]}"/>`);
    parts.push(text(lx + 22, y, name, 15));
  });
  parts.push('</svg>');
  return svgToPng(parts.join(''));
}

/** A 28x28 grayscale image upscaled with nearest neighbour (crisp pixels), as a PNG data URI. */
async function imageDataUri(pixels: Uint8Array, size: number): Promise<string> {
  const png = await sharp(Buffer.from(pixels), {
    raw: { width: IMAGE_SIZE, height: IMAGE_SIZE, channels: 1 },
  })
    .resize(size, size, { kernel: 'nearest' })
    .png()
    .toBuffer();
  return `data:image/png;base64,${png.toString('base64')}`;
}

export interface NeighbourRow {
  query: { pixels: Uint8Array; label: number };
  neighbours: { pixels: Uint8Array; label: number; distance: number }[];
}

/**
 * One row per query: the query image, then its nearest gallery images framed green when their class
 * matches the query's and red otherwise (the article's recommender figures).
 */
export async function renderNeighbourGridPng(
  rows: NeighbourRow[],
  classNames: readonly string[],
  title: string,
): Promise<Buffer> {
  const cell = 84;
  const gap = 14;
  const labelH = 16;
  const top = 40;
  const left = 12;
  const cols = Math.max(1, ...rows.map((r) => r.neighbours.length)) + 1;
  const rowH = cell + labelH + gap;
  const width = left + cols * (cell + gap) + gap + 10;
  const height = top + 22 + rows.length * rowH;
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="${width}" height="${height}">`,
    `<rect width="${width}" height="${height}" fill="white"/>`,
    text(left, 26, title, 18, 'font-weight="bold"'),
    text(left, top + 14, 'query', 13, 'fill="#333"'),
    text(left + cell + 2 * gap, top + 14, 'nearest gallery items →', 13, 'fill="#333"'),
  ];
  for (let r = 0; r < rows.length; r++) {
    const y = top + 22 + r * rowH;
    const row = rows[r];
    const items = [{ ...row.query, distance: Number.NaN }, ...row.neighbours];
    for (let c = 0; c < items.length; c++) {
      const item = items[c];
      const x = left + c * (cell + gap) + (c > 0 ? gap : 0);
      const uri = await imageDataUri(item.pixels, cell);
      const color = c === 0 ? '#222' : item.label === row.query.label ? MATCH : MISMATCH;
      parts.push(
        `<image x="${x}" y="${y}" width="${cell}" height="${cell}" href="${uri}" xlink:href="${uri}"/>`,
      );
      parts.push(
        `<rect x="${x - 2}" y="${y - 2}" width="${cell + 4}" height="${cell + 4}" fill="none" stroke="${color}" stroke-width="4"/>`,
      );
      const caption = classNames[item.label] ?? String(item.label);
      parts.push(text(x, y + cell + 14, caption, 11, `fill="${color}"`));
    }
  }
  parts.push('</svg>');
  return svgToPng(parts.join(''));
}

/**
 * Heatmap of a confusion matrix, each row normalised to its total (rows = true class, columns =
 * predicted), with the counts written in the cells.
 */
export async function renderConfusionPng(
  matrix: number[][],
  classNames: readonly string[],
  title: string,
): Promise<Buffer> {
  const n = matrix.length;
  const cell = 58;
  const left = 110;
  const top = 60;
  const bottom = 110;
  const width = left + n * cell + 20;
  const height = top + n * cell + bottom;
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">`,
    `<rect width="${width}" height="${height}" fill="white"/>`,
    text(10, 26, title, 17, 'font-weight="bold"'),
    text(10, 46, 'rows: true class · columns: class of the nearest neighbour', 12, 'fill="#444"'),
  ];
  for (let i = 0; i < n; i++) {
    const total = matrix[i].reduce((a, b) => a + b, 0) || 1;
    for (let j = 0; j < n; j++) {
      const v = matrix[i][j] / total;
      // White → dark blue with the row fraction.
      const shade = (a: number, b: number) => Math.round(a + (b - a) * Math.sqrt(v));
      const fill = `rgb(${shade(255, 8)},${shade(255, 48)},${shade(255, 107)})`;
      const x = left + j * cell;
      const y = top + i * cell;
      parts.push(`<rect x="${x}" y="${y}" width="${cell}" height="${cell}" fill="${fill}" stroke="#fff"/>`);
      parts.push(
        text(
          x + cell / 2,
          y + cell / 2 + 4,
          String(matrix[i][j]),
          12,
          `text-anchor="middle" fill="${v > 0.4 ? 'white' : 'black'}"`,
        ),
      );
    }
    parts.push(text(left - 6, top + i * cell + cell / 2 + 4, classNames[i], 12, 'text-anchor="end"'));
    const cx = left + i * cell + cell / 2;
    const cy = top + n * cell + 14;
    parts.push(text(cx, cy, classNames[i], 12, `text-anchor="end" transform="rotate(-50 ${cx} ${cy})"`));
  }
  parts.push('</svg>');
  return svgToPng(parts.join(''));
}

/** Several PNGs side by side on one white canvas, each under its caption. */
export async function combineSideBySide(images: { png: Buffer; caption: string }[]): Promise<Buffer> {
  const metas = await Promise.all(images.map((i) => sharp(i.png).metadata()));
  const captionH = 34;
  const gap = 16;
  const width = metas.reduce((s, m) => s + (m.width ?? 0) + gap, gap);
  const height = captionH + Math.max(...metas.map((m) => m.height ?? 0)) + gap;
  let x = gap;
  const captions: string[] = [];
  const composites: OverlayOptions[] = [];
  images.forEach((img, i) => {
    composites.push({ input: img.png, left: x, top: captionH });
    captions.push(text(x, 24, img.caption, 20, 'font-weight="bold"'));
    x += (metas[i].width ?? 0) + gap;
  });
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">${captions.join('')}</svg>`;
  composites.unshift({ input: Buffer.from(svg), left: 0, top: 0 });
  return sharp({ create: { width, height, channels: 3, background: '#ffffff' } })
    .composite(composites)
    .png()
    .toBuffer();
}

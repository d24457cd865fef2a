/**
 * The web page in a real browser (Debian's Chromium through playwright-core, headless) against the real
 * server: the page built by Vite exactly as `npm run build:web` does, a 1,000-item catalog from the
 * bundled test split, the shipped model (models/default, so results mean something), a real HNSW index
 * and the UMAP map. Covers photo search, browse and the "more like this" walk, like/dislike, the map,
 * the status panel with a rebuild, keyboard use, axe-core, no console errors, no request to another
 * host, phone width; saves screenshots under test-artifacts/web/.
 *
 * Browser-side code is passed to `evaluate` as strings: the repository's root TypeScript program has no
 * DOM types (the page's own sources are checked with src/web/page/tsconfig.json).
 */
import { mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { type Browser, type BrowserContext, chromium, type Page, type Request } from 'playwright-core';
import sharp from 'sharp';
import { build } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLASS_NAMES } from '../../src/data/classes.ts';
import { loadFashionMnistSplit } from '../../src/data/fashionMnist.ts';
import { WEB_DIST_DIR } from '../../src/server/routes/web.ts';
import { toScreen } from '../../src/web/page/mapGeometry.ts';
import { productPhoto } from '../server/fixtures.ts';
import { type Prepared, prepareData, removeData } from '../server/harness.ts';
import { startWithPage, type WebServer } from './server.ts';

const ITEMS = 1000;
const TOKEN = 'web-test-admin-token';
const CHROMIUM = '/usr/bin/chromium';
const ARTIFACTS = fileURLToPath(new URL('../../test-artifacts/web/', import.meta.url));
const MODEL_DIR = fileURLToPath(new URL('../../models/default/', import.meta.url));
const VIEWPORTS = {
  desktop: { width: 1280, height: 800 },
  phone: { width: 390, height: 844 },
} as const;
/** The photo: the first test image of this class that is not in the catalog. */
const PHOTO_CLASS = 'Trouser';

interface Violation {
  id: string;
  impact: string | null;
  help: string;
  nodes: number;
  targets: string[];
}

let prepared: Prepared;
let server: WebServer;
let browser: Browser;
let desktop: BrowserContext;
let page: Page;
let photo: Buffer;
const consoleErrors: string[] = [];
const foreignRequests: string[] = [];
const screenshots: string[] = [];
const axeReport: { view: string; violations: Violation[] }[] = [];

const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

function watch(p: Page, label: string): void {
  p.on('console', (message) => {
    if (message.type() !== 'error') return;
    // The one refusal the test provokes: a rebuild with a wrong token (the browser logs every 4xx).
    const url = message.location().url;
    if (url.endsWith('/admin/index/rebuild') && message.text().includes('401')) return;
    consoleErrors.push(`${label}: ${message.text()} (${url})`);
  });
  p.on('pageerror', (error) => consoleErrors.push(`${label}: uncaught ${error.message}`));
  p.on('request', (request) => {
    const url = request.url();
    if (!url.startsWith(`${server.base}/`) && !url.startsWith('data:') && !url.startsWith('blob:')) {
      foreignRequests.push(url);
    }
  });
}

async function newContext(viewport: keyof typeof VIEWPORTS): Promise<BrowserContext> {
  const phone = viewport === 'phone';
  return browser.newContext({
    viewport: VIEWPORTS[viewport],
    deviceScaleFactor: phone ? 2 : 1,
    isMobile: phone,
    hasTouch: phone,
    reducedMotion: 'reduce',
  });
}

/** axe-core in the page; serious and critical violations are the test's concern, all are reported. */
async function axe(p: Page, view: string): Promise<Violation[]> {
  const loaded = await p.evaluate('typeof window.axe === "object"');
  if (!loaded) await p.evaluate(axeSource);
  const violations = (await p.evaluate(`axe.run(document, { resultTypes: ['violations'] }).then((r) =>
    r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.length,
      targets: v.nodes.slice(0, 3).map((n) => n.target.join(' ')) })))`)) as Violation[];
  axeReport.push({ view, violations });
  return violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
}

/**
 * A screenshot with every image loaded (lazy ones too). Desktop: the full page. Phone: the viewport, as
 * the phone shows it (a full-page capture re-emulates the screen and drops the touch media features).
 */
async function shoot(p: Page, name: string, scrollTo?: string): Promise<void> {
  await p.evaluate(`Promise.all([...document.images].map((img) => {
    img.loading = 'eager';
    return img.complete ? null : new Promise((resolve) => { img.onload = img.onerror = resolve; });
  }))`);
  if (scrollTo) await p.locator(scrollTo).first().scrollIntoViewIfNeeded();
  const path = join(ARTIFACTS, `${name}.png`);
  await p.screenshot({ path, fullPage: p.viewportSize()?.width !== VIEWPORTS.phone.width });
  screenshots.push(path);
}

async function go(p: Page, hash: string): Promise<void> {
  await p.evaluate(`location.hash = ${JSON.stringify(hash)}`);
}

const cardIds = (p: Page, list: string) =>
  p.locator(`${list} > li.card`).evaluateAll((cards) => cards.map((c) => c.getAttribute('data-id') ?? ''));
const cardCategories = (p: Page, list: string) =>
  p
    .locator(`${list} > li.card`)
    .evaluateAll((cards) => cards.map((c) => c.getAttribute('data-category') ?? ''));

async function waitForMap(): Promise<void> {
  for (let i = 0; i < 120; i++) {
    const res = await fetch(`${server.base}/map`);
    await res.arrayBuffer();
    if (res.status === 200) return;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  throw new Error('GET /map never became ready');
}

beforeAll(async () => {
  const started = performance.now();
  rmSync(ARTIFACTS, { recursive: true, force: true });
  mkdirSync(ARTIFACTS, { recursive: true });
  await build({
    configFile: fileURLToPath(new URL('../../src/web/vite.config.ts', import.meta.url)),
    logLevel: 'warn',
  });

  const test = await loadFashionMnistSplit('test');
  const label = CLASS_NAMES.indexOf(PHOTO_CLASS);
  let index = ITEMS;
  while (test.labels[index] !== label) index++;
  const png = await sharp(Buffer.from(test.images.subarray(index * 784, (index + 1) * 784)), {
    raw: { width: 28, height: 28, channels: 1 },
  })
    .png()
    .toBuffer();
  photo = await productPhoto(png, 512);

  prepared = await prepareData(ITEMS);
  server = await startWithPage(prepared, { ADMIN_TOKEN: TOKEN, MODEL_DIR });
  // The map is computed in the background after its first request: start it now.
  await (await fetch(`${server.base}/map`)).arrayBuffer();

  // launch() gives Chromium a fresh profile of its own (a mkdtemp'd --user-data-dir, removed on close).
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
      '--disable-quic',
    ],
  });
  desktop = await newContext('desktop');
  page = await desktop.newPage();
  watch(page, 'desktop');
  await waitForMap();
  console.log(`web test set-up: ${((performance.now() - started) / 1000).toFixed(1)} s`);
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
  if (prepared) removeData(prepared);
  if (screenshots.length > 0) console.log(`screenshots:\n  ${screenshots.join('\n  ')}`);
  for (const { view, violations } of axeReport) {
    const list = violations.map((v) => `${v.id} (${v.impact}, ${v.nodes} nodes)`).join(', ');
    console.log(`axe ${view}: ${violations.length === 0 ? 'no violations' : list}`);
  }
});

describe('the web page', () => {
  it('is built small: JS + CSS within 100 KB gzipped', () => {
    const assets = readdirSync(join(WEB_DIST_DIR, 'assets')).filter((f) => /\.(js|css)$/.test(f));
    expect(assets.some((f) => f.endsWith('.js'))).toBe(true);
    expect(assets.some((f) => f.endsWith('.css'))).toBe(true);
    let raw = 0;
    let gzipped = 0;
    for (const file of assets) {
      const bytes = readFileSync(join(WEB_DIST_DIR, 'assets', file));
      expect(file).toMatch(/-[A-Za-z0-9_-]{8}\.(js|css)$/); // content-hashed names
      raw += bytes.length;
      gzipped += gzipSync(bytes, { level: 9 }).length;
    }
    console.log(
      `web bundle: ${assets.join(', ')}: ${(raw / 1024).toFixed(1)} KB, ${(gzipped / 1024).toFixed(1)} KB gzipped`,
    );
    expect(gzipped).toBeLessThanOrEqual(100 * 1024);
  });

  it('searches by photo: the original beside the model input, similar items of the right category', async () => {
    const res = await page.goto(`${server.base}/`);
    expect(res?.status()).toBe(200);
    expect(res?.headers()['cache-control']).toBe('no-cache');
    await expect.poll(() => page.title()).toContain('Search by photo');
    await page
      .locator('#photo-file')
      .setInputFiles({ name: 'trousers.jpg', mimeType: 'image/jpeg', buffer: photo });
    await page.locator('#search-results > li.card').first().waitFor();
    await expect.poll(() => page.locator('#search-status').textContent()).toMatch(/12 similar items/);
    const categories = await cardCategories(page, '#search-results');
    expect(categories).toHaveLength(12);
    expect(categories[0]).toBe(PHOTO_CLASS);
    expect(categories.filter((c) => c === PHOTO_CLASS).length).toBeGreaterThanOrEqual(10);
    expect(await page.locator('#query-original').getAttribute('src')).toMatch(/^blob:/);
    const input = page.locator('#query-model-input');
    await input.waitFor();
    expect(await input.getAttribute('src')).toMatch(/^data:image\/png;base64,/);
    expect(await input.evaluate((img) => (img as unknown as { naturalWidth: number }).naturalWidth)).toBe(28);
    // Every card shows an image, a title, the category and a distance.
    const first = page.locator('#search-results > li.card').first();
    expect(await first.locator('.card-title').textContent()).toMatch(new RegExp(`^${PHOTO_CLASS} #\\d+$`));
    expect(await first.locator('.card-distance').textContent()).toMatch(/^d \d+\.\d{3}$/);
    await expect
      .poll(() =>
        first.locator('img').evaluate((img) => (img as unknown as { naturalWidth: number }).naturalWidth),
      )
      .toBe(28);

    // k and category re-run the search with the same photo.
    await page.locator('#search-category').selectOption('Bag');
    await expect.poll(() => page.locator('#search-status').textContent()).toMatch(/in Bag/);
    expect(new Set(await cardCategories(page, '#search-results'))).toEqual(new Set(['Bag']));
    await page.locator('#search-k').fill('5');
    await page.locator('#search-k').press('Enter');
    await expect.poll(() => page.locator('#search-results > li.card').count()).toBe(5);
    await page.locator('#search-category').selectOption('');
    await page.locator('#search-k').fill('12');
    await page.locator('#search-k').press('Enter');
    await expect.poll(() => page.locator('#search-status').textContent()).toMatch(/^12 similar items,/);
    const plain = await cardIds(page, '#search-results');

    // Attribute filters (learnt from the catalog's attributes) and diversity.
    const attrs = () => page.locator('#search-results .card-attrs').allTextContents();
    await page.locator('#search-controls-f-brand').selectOption('Acme');
    await expect.poll(() => page.locator('#search-status').textContent()).toMatch(/brand Acme/);
    expect((await attrs()).every((text) => text.includes('brand: Acme'))).toBe(true);
    await page.locator('#search-controls-f-price-max').fill('50');
    await page.locator('#search-controls-f-price-max').press('Enter');
    await expect.poll(() => page.locator('#search-status').textContent()).toMatch(/price ≤ 50/);
    const prices = (await attrs()).map((text) => Number(/price: ([\d.]+)/.exec(text)?.[1]));
    expect(prices.length).toBeGreaterThan(0);
    expect(prices.every((price) => price <= 50)).toBe(true);
    await page.locator('#search-controls-f-in_stock').check();
    await expect.poll(() => page.locator('#search-status').textContent()).toMatch(/in stock/);
    expect((await attrs()).every((text) => text.includes('in stock: yes'))).toBe(true);
    await page.locator('#search-controls-f-brand').selectOption('');
    await page.locator('#search-controls-f-price-max').fill('');
    await page.locator('#search-controls-f-price-max').press('Enter');
    await page.locator('#search-controls-f-in_stock').uncheck();
    await expect.poll(() => cardIds(page, '#search-results')).toEqual(plain);
    await Promise.all([
      page.waitForRequest((r) => r.url().includes('/similar?') && r.url().includes('diversity=1')),
      page.locator('#search-diversity').fill('1'),
    ]);
    await expect.poll(() => page.locator('#search-status').textContent()).toMatch(/diversity 1/);
    expect(await cardIds(page, '#search-results')).not.toEqual(plain);
    await page.locator('#search-diversity').fill('0');
    await expect.poll(() => cardIds(page, '#search-results')).toEqual(plain);
    expect(await axe(page, 'search (desktop)')).toEqual([]);
    await shoot(page, 'desktop-search');
  });

  it('browses pages and categories, opens an item and follows two recommendations with a visible trail', async () => {
    await page.locator('nav a[data-nav="browse"]').click();
    await expect.poll(() => page.locator('#browse-status').textContent()).toMatch(/^Page 1: 24 items\.$/);
    const page1 = await cardIds(page, '#browse-grid');
    expect(page1).toHaveLength(24);
    await page.locator('#browse-next').click();
    await expect.poll(() => page.locator('#browse-status').textContent()).toMatch(/^Page 2: 24 items\.$/);
    const page2 = await cardIds(page, '#browse-grid');
    expect(page2.some((id) => page1.includes(id))).toBe(false);
    await page.locator('#browse-prev').click();
    await expect.poll(() => cardIds(page, '#browse-grid')).toEqual(page1);

    await page.locator('#browse-category').selectOption('Sneaker');
    await expect.poll(() => page.locator('#browse-status').textContent()).toMatch(/in Sneaker\.$/);
    expect(new Set(await cardCategories(page, '#browse-grid'))).toEqual(new Set(['Sneaker']));
    await page.locator('#browse-controls-f-colour').selectOption('black');
    await expect
      .poll(() => page.locator('#browse-status').textContent())
      .toMatch(/in Sneaker, colour black\.$/);
    const colours = await page.locator('#browse-grid .card-attrs').allTextContents();
    expect(colours.length).toBeGreaterThan(0);
    expect(colours.every((text) => text.includes('colour: black'))).toBe(true);
    await page.locator('#browse-controls-f-colour').selectOption('');
    await expect
      .poll(() => page.locator('#browse-status').textContent())
      .toMatch(/^Page 1: 24 items in Sneaker\.$/);
    expect(await axe(page, 'browse (desktop)')).toEqual([]);
    await shoot(page, 'desktop-browse');

    const start = page.locator('#browse-grid > li.card').first();
    const startTitle = (await start.locator('.card-title').textContent())!;
    await start.locator('a').click();
    await expect.poll(() => page.locator('#item-title').textContent()).toBe(startTitle);
    await expect.poll(() => page.locator('#item-recs > li.card').count()).toBe(12);
    expect(await page.locator('#item-trail li').allTextContents()).toEqual([startTitle]);

    const titles = [startTitle];
    const walked = [(await start.getAttribute('data-id'))!];
    for (const pick of [0, 1]) {
      const rec = page.locator('#item-recs > li.card').nth(pick);
      const title = (await rec.locator('.card-title').textContent())!;
      const id = await rec.getAttribute('data-id');
      await rec.locator('a').click();
      titles.push(title);
      await expect.poll(() => page.locator('#item-title').textContent()).toBe(title);
      await expect.poll(() => page.locator('#item-trail li').allTextContents()).toEqual(titles);
      await expect.poll(() => page.locator('#item-recs > li.card').count()).toBe(12);
      walked.push(id!);
      // Neither the current item nor an earlier step of the walk is offered again.
      const offered = await cardIds(page, '#item-recs');
      for (const step of walked) expect(offered).not.toContain(step);
    }
    // Earlier steps are links back; the current one is marked.
    expect(await page.locator('#item-trail a').count()).toBe(2);
    expect(await page.locator('#item-trail [aria-current="page"]').textContent()).toBe(titles[2]);
    await page.goBack();
    await expect.poll(() => page.locator('#item-trail li').allTextContents()).toEqual(titles.slice(0, 2));
    await page.goForward();
    await expect.poll(() => page.locator('#item-trail li').allTextContents()).toEqual(titles);
  });

  it('refines the recommendations with likes and dislikes (POST /recommendations)', async () => {
    await expect.poll(() => page.locator('#item-status').textContent()).toBe('12 recommendations.');
    await expect.poll(() => page.locator('#item-recs > li.card').count()).toBe(12);
    const before = await cardIds(page, '#item-recs');
    const liked = before[0];
    const isRecommend = (r: Request) => r.url().endsWith('/recommendations') && r.method() === 'POST';
    const [request] = await Promise.all([
      page.waitForRequest(isRecommend),
      page.locator(`#item-recs > li.card[data-id="${liked}"] button[data-pick="like"]`).click(),
    ]);
    const body = request.postDataJSON() as { positive: string[]; negative: string[]; k: number };
    expect(body.positive).toHaveLength(2);
    expect(body.positive[1]).toBe(liked);
    expect(body.negative).toEqual([]);
    await expect
      .poll(() => page.locator('#item-status').textContent())
      .toMatch(/refined by 1 like and 0 dislikes/);
    const afterLike = await cardIds(page, '#item-recs');
    expect(afterLike).toHaveLength(12);
    expect(afterLike).not.toContain(liked);
    expect(afterLike).not.toEqual(before);
    expect(await page.locator('#prefs-liked li').getAttribute('data-id')).toBe(liked);

    const disliked = afterLike[afterLike.length - 1];
    const [second] = await Promise.all([
      page.waitForRequest(isRecommend),
      page.locator(`#item-recs > li.card[data-id="${disliked}"] button[data-pick="dislike"]`).click(),
    ]);
    expect((second.postDataJSON() as { negative: string[] }).negative).toEqual([disliked]);
    await expect
      .poll(() => page.locator('#item-status').textContent())
      .toMatch(/refined by 1 like and 1 dislike\./);
    const afterDislike = await cardIds(page, '#item-recs');
    expect(afterDislike).not.toContain(disliked);
    expect(afterDislike).not.toEqual(afterLike);
    expect(await page.locator('#prefs-disliked li').getAttribute('data-id')).toBe(disliked);
    expect(await axe(page, 'item with picks (desktop)')).toEqual([]);
    await shoot(page, 'desktop-item');

    // Removing the picks goes back to the plain recommendations of the item.
    await page.locator('#prefs-clear').click();
    await expect.poll(() => page.locator('#item-status').textContent()).toMatch(/^12 recommendations\.$/);
    expect(await cardIds(page, '#item-recs')).toEqual(before);
  });

  it('draws the embedding map; hover shows a thumbnail, click opens the item; the photo query is on it', async () => {
    const map = (await (await fetch(`${server.base}/map`)).json()) as {
      points: { id: string; category: string; x: number; y: number }[];
    };
    expect(map.points.length).toBe(ITEMS);
    await page.locator('nav a[data-nav="map"]').click();
    await expect.poll(() => page.locator('#map-status').textContent()).toMatch(/^1,000 items of index build/);
    expect(await page.locator('#map-legend li').count()).toBe(CLASS_NAMES.length);
    // The photo searched above is placed on the map.
    expect(await page.locator('#map-query').textContent()).toMatch(/is the star/);
    const coloured = (await page.evaluate(`(() => {
      const c = document.getElementById('map-canvas');
      const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
      let n = 0;
      for (let i = 3; i < d.length; i += 4) if (d[i] > 0) n++;
      return n;
    })()`)) as number;
    expect(coloured).toBeGreaterThan(2000);

    const canvas = page.locator('#map-canvas');
    const box = (await canvas.boundingBox())!;
    // The canvas can reach below the window: hover a point that is on screen (the first one may not be).
    const view = page.viewportSize()!;
    const screenOf = (p: { x: number; y: number }) => {
      const s = toScreen(p.x, p.y, { width: box.width, height: box.height });
      return { px: s.px, py: s.py, visible: box.y + s.py > 0 && box.y + s.py < view.height };
    };
    const target = map.points.find((p) => screenOf(p).visible)!;
    const { px, py } = screenOf(target);
    await page.mouse.move(box.x + px, box.y + py);
    const tip = page.locator('#map-tip');
    await tip.waitFor();
    const thumb = tip.locator('img');
    expect(await thumb.getAttribute('src')).toMatch(/^\/items\/fmnist-test-\d+\/image$/);
    await expect
      .poll(() => thumb.evaluate((img) => (img as unknown as { naturalWidth: number }).naturalWidth))
      .toBe(28);
    await expect.poll(() => tip.locator('.tip-title').textContent()).toMatch(/ #\d+$/);
    expect(await axe(page, 'map (desktop)')).toEqual([]);
    await shoot(page, 'desktop-map');

    const hovered = (await thumb.getAttribute('src'))!.split('/')[2];
    await page.mouse.click(box.x + px, box.y + py);
    await expect.poll(() => page.evaluate('location.hash')).toBe(`#/item/${hovered}`);
    await page.goBack();
    await expect.poll(() => page.locator('#map-status').textContent()).toMatch(/^1,000 items/);

    // Keyboard: focusing the map highlights a point, the arrows move between points, Enter opens one.
    await page.mouse.move(0, 0);
    await canvas.focus();
    await tip.waitFor();
    const focusedOn = await thumb.getAttribute('src');
    await page.keyboard.press('ArrowRight');
    await page.keyboard.press('ArrowRight');
    await expect.poll(() => thumb.getAttribute('src')).not.toBe(focusedOn);
    const chosen = (await thumb.getAttribute('src'))!.split('/')[2];
    await page.keyboard.press('Enter');
    await expect.poll(() => page.evaluate('location.hash')).toBe(`#/item/${chosen}`);
  });

  it("shows the model's figures, the catalog and the index; with the admin token a rebuild runs until it serves", async () => {
    const status = (await (await fetch(`${server.base}/status`)).json()) as {
      model: { version: string; evaluation: { p_at_1: number; map_at_r: number; knn_accuracy: number } };
      index: { build_id: number };
    };
    expect(status.model.evaluation).not.toBeNull();
    await page.locator('nav a[data-nav="status"]').click();
    await page.locator('#st-model .figures').waitFor();
    const figures = await page.locator('#st-model .figure').allTextContents();
    expect(figures).toEqual([
      `${status.model.evaluation.p_at_1.toFixed(3)}P@1`,
      `${status.model.evaluation.map_at_r.toFixed(3)}MAP@R`,
      `${status.model.evaluation.knn_accuracy.toFixed(3)}kNN`,
    ]);
    expect(await page.locator('#st-model').textContent()).toContain(status.model.version);
    expect(await page.locator('#st-catalog').textContent()).toContain('1,000');
    expect(await page.locator('#st-index').textContent()).toMatch(/M 24, efConstruction 100, efSearch \d+/);
    expect(await page.locator('#st-index').textContent()).toContain(`#${status.index.build_id}`);

    // A wrong token is refused with a readable message.
    await page.locator('#admin-token').fill('not-the-token');
    await page.locator('#admin-rebuild').click();
    await expect.poll(() => page.locator('#job-text').textContent()).toMatch(/^Refused: /);

    await page.locator('#admin-token').fill(TOKEN);
    await page.locator('#admin-rebuild').click();
    await expect
      .poll(() => page.locator('#job-text').textContent(), { timeout: 90_000, interval: 250 })
      .toMatch(/serves now/);
    const after = (await (await fetch(`${server.base}/status`)).json()) as { index: { build_id: number } };
    expect(after.index.build_id).toBeGreaterThan(status.index.build_id);
    await expect.poll(() => page.locator('#st-index').textContent()).toContain(`#${after.index.build_id}`);
    expect(await page.locator('#job-progress').getAttribute('value')).toBe('1');
    // The token stays in memory: nothing in sessionStorage unless asked.
    expect(await page.evaluate('sessionStorage.length')).toBe(0);
    expect(await axe(page, 'status (desktop)')).toEqual([]);
    await shoot(page, 'desktop-status');
  });

  it('is keyboard-usable: skip link, navigation and item links by keyboard', async () => {
    await page.goto('about:blank');
    await page.goto(`${server.base}/#/search`);
    await page.keyboard.press('Tab');
    expect(await page.evaluate('document.activeElement.className')).toBe('skip-link');
    await page.keyboard.press('Enter');
    expect(await page.evaluate('document.activeElement.id')).toBe('main');
    await page.locator('nav a[data-nav="browse"]').focus();
    await page.keyboard.press('Enter');
    await expect.poll(() => page.locator('#browse-status').textContent()).toMatch(/^Page 1/);
    // Focus moves to the new view's heading, and the focus ring is visible on the next control.
    expect(await page.evaluate('document.activeElement.id')).toBe('browse-title');
    await page.keyboard.press('Tab');
    expect(await page.evaluate('document.activeElement.tagName')).toBe('SUMMARY'); // the Filters box
    await page.keyboard.press('Tab');
    expect(await page.evaluate('document.activeElement.id')).toBe('browse-category');
    expect(await page.evaluate('getComputedStyle(document.activeElement).outlineStyle')).toBe('solid');
    await page.locator('#browse-grid a').first().focus();
    await page.keyboard.press('Enter');
    await expect.poll(() => page.evaluate('location.hash')).toMatch(/^#\/item\//);
    await expect.poll(() => page.locator('#item-recs > li.card').count()).toBe(12);
  });

  it('fits a phone screen (390x844) in every view', async () => {
    await waitForMap(); // recomputed for the index the rebuild made
    const phone = await newContext('phone');
    const p = await phone.newPage();
    watch(p, 'phone');
    try {
      await p.goto(`${server.base}/#/search`);
      expect(await p.locator('#photo-camera').isVisible()).toBe(true); // the camera picker on touch screens
      expect(await p.locator('#photo-camera').getAttribute('capture')).toBe('environment');
      await p
        .locator('#photo-file')
        .setInputFiles({ name: 'trousers.jpg', mimeType: 'image/jpeg', buffer: photo });
      await expect.poll(() => p.locator('#search-results > li.card').count()).toBe(12);
      await p.locator('#query-model-input').waitFor();
      const views: [string, string, string][] = [
        ['search', '#/search', '#search-results > li.card'],
        ['browse', '#/browse', '#browse-grid > li.card'],
        ['item', '#/item/fmnist-test-00000', '#item-recs > li.card'],
        ['map', '#/map', '#map-legend li'],
        ['status', '#/status', '#st-model .figure'],
      ];
      for (const [name, hash, ready] of views) {
        await go(p, hash);
        await p.locator(ready).first().waitFor();
        const overflow = (await p.evaluate(
          'document.documentElement.scrollWidth - document.documentElement.clientWidth',
        )) as number;
        expect(overflow, `${name} is wider than the phone`).toBeLessThanOrEqual(0);
        expect(await axe(p, `${name} (phone)`)).toEqual([]);
        await shoot(p, `phone-${name}`);
        if (name === 'search' || name === 'item') await shoot(p, `phone-${name}-results`, ready);
      }
    } finally {
      await phone.close();
    }
  });

  it('logged no console error and asked no other host', () => {
    expect(consoleErrors).toEqual([]);
    expect(foreignRequests).toEqual([]);
  });
});

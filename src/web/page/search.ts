/** Search by photo: drop, paste or pick an image; the original beside the model input; the similar items. */
import { api, type SearchResponse } from './api.ts';
import { byId, fill } from './dom.ts';
import { addFilterControls } from './filters.ts';
import {
  card,
  describeError,
  describeOptions,
  fillCategorySelects,
  plural,
  readOptions,
  Sequence,
  say,
  state,
  watchForm,
} from './shared.ts';
import type { View } from './view.ts';

export function searchView(): View {
  const section = byId('view-search');
  const drop = byId('drop-zone');
  const fileInput = byId('photo-file', HTMLInputElement);
  const cameraInput = byId('photo-camera', HTMLInputElement);
  const form = byId('search-controls', HTMLFormElement);
  const status = byId('search-status');
  const results = byId('search-results', HTMLOListElement);
  const views = byId('query-views');
  const original = byId('query-original', HTMLImageElement);
  const modelInput = byId('query-model-input', HTMLImageElement);
  const modelMissing = byId('query-model-missing');
  const seq = new Sequence();
  let photo: File | null = null;
  let active = false;

  async function run(): Promise<void> {
    if (!photo) return;
    const ticket = seq.next();
    const options = readOptions(form);
    results.setAttribute('aria-busy', 'true');
    say(status, 'Searching…');
    let answer: SearchResponse;
    try {
      answer = await api.similarToPhoto(photo, options);
    } catch (err) {
      if (!seq.current(ticket)) return;
      results.setAttribute('aria-busy', 'false');
      fill(results);
      say(status, `Search failed: ${describeError(err)}`, 'error');
      return;
    }
    if (!seq.current(ticket)) return;
    showModelInput(answer);
    fill(
      results,
      answer.results.map((r, i) => {
        const li = card(r, `#/item/${encodeURIComponent(r.id)}`);
        li.dataset.rank = String(i + 1);
        return li;
      }),
    );
    results.setAttribute('aria-busy', 'false');
    const where = describeOptions(options);
    say(
      status,
      answer.results.length === 0
        ? `No similar items${where}.`
        : `${plural(answer.results.length, 'similar item')}${where}, nearest first (${answer.took_ms.toFixed(0)} ms).`,
    );
  }

  function showModelInput(answer: SearchResponse): void {
    const input = answer.query?.image ?? null;
    modelInput.hidden = input === null;
    modelMissing.hidden = input !== null;
    if (input !== null) modelInput.src = input;
    if (state.photo) {
      state.photo.modelInput = input;
      state.photo.place = answer.query?.map ?? null;
    }
  }

  function usePhoto(file: File): void {
    if (!file.type.startsWith('image/')) {
      say(status, `That is not an image (${file.type || 'unknown type'}).`, 'error');
      return;
    }
    photo = file;
    if (state.photo) URL.revokeObjectURL(state.photo.original);
    const url = URL.createObjectURL(file);
    state.photo = { original: url, modelInput: null, place: null, name: file.name || 'pasted image' };
    original.src = url;
    original.alt = `Your upload${file.name ? `: ${file.name}` : ''}`;
    modelInput.hidden = true;
    modelMissing.hidden = true;
    views.hidden = false;
    void run();
  }

  for (const input of [fileInput, cameraInput]) {
    input.addEventListener('change', () => {
      const file = input.files?.[0];
      if (file) usePhoto(file);
      input.value = '';
    });
  }

  drop.addEventListener('dragover', (event) => {
    event.preventDefault();
    if (event.dataTransfer) event.dataTransfer.dropEffect = 'copy';
    drop.classList.add('dragging');
  });
  drop.addEventListener('dragleave', () => drop.classList.remove('dragging'));
  drop.addEventListener('drop', (event) => {
    event.preventDefault();
    drop.classList.remove('dragging');
    const file = [...(event.dataTransfer?.files ?? [])].find((f) => f.type.startsWith('image/'));
    if (file) usePhoto(file);
    else say(status, 'Drop an image file (PNG, JPEG or WebP).', 'error');
  });
  document.addEventListener('paste', (event) => {
    if (!active) return;
    const file = [...(event.clipboardData?.files ?? [])].find((f) => f.type.startsWith('image/'));
    if (!file) return;
    event.preventDefault();
    usePhoto(file);
  });

  watchForm(form, () => void run());

  return {
    name: 'search',
    section,
    enter() {
      active = true;
      void fillCategorySelects(form);
      void addFilterControls(form);
      if (!photo) say(status, '');
    },
    leave() {
      active = false;
    },
  };
}

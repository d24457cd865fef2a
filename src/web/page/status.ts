/**
 * Status: the served model and its evaluation figures, the index and the catalog (`GET /status`), and, with
 * the admin token, a rebuild whose job is followed until the new index serves. The token lives in memory,
 * or in sessionStorage when the user asks; it never goes anywhere but this server's admin endpoints.
 */
import { ApiError, api, conflictJob, type Job, type Status } from './api.ts';
import { byId, dl, fill, fmt, fmtDate, fmtInt, h } from './dom.ts';
import { describeError, plural, say, state } from './shared.ts';
import type { View } from './view.ts';

const TOKEN_KEY = 'fashion-similar.admin-token';
const POLL_MS = 700;

const PHASES: Record<Job['status'], string> = {
  queued: 'Queued',
  embedding: 'Embedding the catalog',
  building: 'Building the index',
  verifying: 'Verifying the index',
  active: 'Active',
  failed: 'Failed',
};

export function statusView(onServed: () => void): View {
  const section = byId('view-status');
  const line = byId('status-line');
  const modelBox = byId('st-model');
  const indexBox = byId('st-index');
  const catalogBox = byId('st-catalog');
  const form = byId('admin-form', HTMLFormElement);
  const tokenInput = byId('admin-token', HTMLInputElement);
  const remember = byId('admin-remember', HTMLInputElement);
  const button = byId('admin-rebuild', HTMLButtonElement);
  const jobBox = byId('job-box');
  const progress = byId('job-progress', HTMLProgressElement);
  const jobLabel = byId('job-label');
  const jobText = byId('job-text');
  let token = readStoredToken();
  let polling = false;
  tokenInput.value = token;
  remember.checked = token !== '';

  function render(status: Status): void {
    const model = status.model;
    const evaluation = model?.evaluation ?? null;
    fill(
      modelBox,
      model === null
        ? h('p', null, 'Loading the model…')
        : [
            dl([
              ['Version', h('code', null, model.version)],
              ['Name', model.name ?? '–'],
              ['Engine', model.engine ?? '–'],
              ['Network', model.arch ?? '–'],
              ['Loss', model.loss ?? '–'],
              ['Trained', fmtDate(model.trained_at)],
            ]),
            evaluation
              ? h(
                  'div',
                  { class: 'figures', 'aria-label': 'Evaluation figures' },
                  figure('P@1', evaluation.p_at_1, 'precision at 1'),
                  figure('MAP@R', evaluation.map_at_r, 'mean average precision at R'),
                  figure('kNN', evaluation.knn_accuracy, 'k-nearest-neighbour accuracy'),
                )
              : h('p', { class: 'muted' }, 'No evaluation report for this model.'),
            evaluation
              ? h(
                  'p',
                  { class: 'muted small' },
                  "npm run eval's figures: test images against the training images.",
                )
              : null,
          ],
    );
    const index = status.index;
    fill(
      indexBox,
      index === null
        ? h('p', null, 'No index is served yet.')
        : dl([
            ['Build', index.build_id === null ? '–' : `#${index.build_id}`],
            ['Items', fmtInt(index.size)],
            [
              'HNSW',
              index.params
                ? `M ${index.params.M}, efConstruction ${index.params.efConstruction}, efSearch ${index.params.efSearch}`
                : '–',
            ],
            ['Built', fmtDate(index.built_at)],
            ['Build time', index.build_seconds == null ? '–' : `${index.build_seconds.toFixed(1)} s`],
          ]),
    );
    fill(
      catalogBox,
      dl([
        ['Items', fmtInt(status.catalog.items)],
        ['Categories', String(status.catalog.categories.length)],
      ]),
      status.catalog.categories.length > 0
        ? h(
            'table',
            { class: 'categories' },
            h('caption', { class: 'visually-hidden' }, 'Items per category'),
            h(
              'thead',
              null,
              h('tr', null, h('th', { scope: 'col' }, 'Category'), h('th', { scope: 'col' }, 'Items')),
            ),
            h(
              'tbody',
              null,
              status.catalog.categories.map((c) =>
                h('tr', null, h('th', { scope: 'row' }, c.category), h('td', null, fmtInt(c.count))),
              ),
            ),
          )
        : null,
    );
  }

  async function refresh(): Promise<Status | null> {
    try {
      const status = await api.status();
      state.status = status;
      render(status);
      say(line, `Updated ${new Date().toLocaleTimeString('en-GB', { hour12: false })}.`);
      if (!polling && status.job && isRunning(status.job)) showJob(status.job);
      return status;
    } catch (err) {
      if (err instanceof ApiError && err.status === 404) return fallback();
      say(line, `Could not load the status: ${describeError(err)}`, 'error');
      return null;
    }
  }

  /** A server without `GET /status`: what `/readyz` says. */
  async function fallback(): Promise<null> {
    try {
      const ready = await api.ready();
      fill(modelBox, dl([['Version', ready.model ?? '–']]));
      fill(indexBox, dl([['Items', fmtInt(ready.index_size)]]));
      fill(catalogBox, h('p', { class: 'muted' }, 'Not reported by this server.'));
      say(line, 'This server has no /status endpoint; showing /readyz.');
    } catch (err) {
      say(line, `Could not load the status: ${describeError(err)}`, 'error');
    }
    return null;
  }

  function showJob(job: Job, note = ''): void {
    jobBox.hidden = false;
    jobLabel.textContent = `Rebuild job ${job.id}: ${PHASES[job.status] ?? job.status}`;
    const running = isRunning(job);
    if (running && job.status === 'queued') progress.removeAttribute('value');
    else progress.value = job.status === 'active' ? 1 : job.progress;
    const items = job.item_count === null ? '' : ` · ${plural(job.item_count, 'item')}`;
    const pct = running ? ` · ${Math.round(job.progress * 100)}% of this phase` : '';
    const text =
      job.status === 'failed'
        ? `Failed: ${job.error ?? 'unknown error'}`
        : job.status === 'active'
          ? `The new index (build #${job.build_id ?? '–'}, model ${job.model_version ?? job.model}) serves now.`
          : `${PHASES[job.status]}${pct}${items}`;
    jobText.textContent = note ? `${note} ${text}` : text;
    jobText.classList.toggle('error', job.status === 'failed');
  }

  async function follow(first: Job, note = ''): Promise<void> {
    polling = true;
    button.disabled = true;
    let job = first;
    showJob(job, note);
    try {
      while (isRunning(job)) {
        await sleep(POLL_MS);
        job = await api.job(token, job.id);
        showJob(job, note);
      }
      if (job.status === 'active') {
        // The job is active once the new set serves; confirm with /status before saying so.
        const status = await refresh();
        if (status?.index && job.build_id !== null && status.index.build_id !== job.build_id) {
          await sleep(POLL_MS);
          await refresh();
        }
        onServed();
      }
    } catch (err) {
      jobText.textContent = `Lost track of job ${job.id}: ${describeError(err)}`;
      jobText.classList.add('error');
    } finally {
      polling = false;
      button.disabled = false;
    }
  }

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    token = tokenInput.value.trim();
    storeToken(remember.checked ? token : '');
    if (token === '') {
      jobBox.hidden = false;
      jobLabel.textContent = 'Rebuild';
      jobText.textContent = 'Enter the admin token first.';
      jobText.classList.add('error');
      tokenInput.focus();
      return;
    }
    button.disabled = true;
    try {
      const job = await api.rebuild(token);
      await follow(job);
    } catch (err) {
      const running = conflictJob(err);
      if (running) {
        await follow(running, 'A rebuild was already running.');
        return;
      }
      button.disabled = false;
      jobBox.hidden = false;
      jobLabel.textContent = 'Rebuild';
      jobText.textContent =
        err instanceof ApiError && (err.status === 401 || err.status === 403)
          ? `Refused: ${err.message}`
          : `Could not start the rebuild: ${describeError(err)}`;
      jobText.classList.add('error');
    }
  });
  remember.addEventListener('change', () => storeToken(remember.checked ? tokenInput.value.trim() : ''));

  return {
    name: 'status',
    section,
    enter() {
      void refresh();
    },
  };
}

function figure(label: string, value: number, long: string): HTMLElement {
  return h(
    'div',
    { class: 'figure' },
    h('span', { class: 'figure-value' }, fmt(value)),
    h('abbr', { class: 'figure-label', title: long }, label),
  );
}

function isRunning(job: Job): boolean {
  return job.status !== 'active' && job.status !== 'failed';
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => window.setTimeout(resolve, ms));
}

function readStoredToken(): string {
  try {
    return sessionStorage.getItem(TOKEN_KEY) ?? '';
  } catch {
    return '';
  }
}

function storeToken(token: string): void {
  try {
    if (token) sessionStorage.setItem(TOKEN_KEY, token);
    else sessionStorage.removeItem(TOKEN_KEY);
  } catch {
    // storage disabled: the token stays in memory only
  }
}

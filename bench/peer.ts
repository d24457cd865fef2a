/**
 * `npm run bench:peer`: this service beside the FastAPI + PyTorch + hnswlib
 * peer in `../shared/peers/serving`, on the same 70,000 vectors, network H and
 * efSearch, driven one after the other by the peer's own wrk load (`load.sh`:
 * recommendations, /similar with a 28x28 PNG and with a 512x512 JPEG, at c=1
 * and c=16). Also measures this service's first start on an empty data
 * directory (time to /readyz 200, resident and peak memory) and a restart.
 *
 * Needs Debian's wrk, python3-torch, python3-hnswlib, python3-fastapi,
 * python3-uvicorn, python3-multipart, python3-pil (see the peer's README) and
 * the full Fashion-MNIST (`dataset-fashion-mnist`).
 * Env: BENCH_DATA_DIR (reuse a data directory: skips the first-start figure
 * unless it is empty), BENCH_WORKERS (this service's WORKERS, default 1: the
 * peer's single worker is the like-for-like comparison), DURATION (wrk seconds per run, default 15s), CONCS
 * ("1 16"). Prints one JSON document on stdout; progress on stderr.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildServer, startServer, stopServer } from './serverProcess.ts';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const PEER_DIR = resolve(ROOT, '../shared/peers/serving');
const PYTHON = '/usr/bin/python3';
const PEER_PORT = 8701;
/** The index parameters the project builds with (src/index/hnswIndex.ts DEFAULT_HNSW_PARAMS). */
const HNSW = { M: 24, efConstruction: 100, efSearch: 32 };
const GOALS = { jpegRpsRatioC16: 5, jpegP50RatioC1: 0.33, pngRpsRatioC16: 10 };

function note(message: string): void {
  process.stderr.write(`[bench:peer] ${message}\n`);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A process and its descendants (WORKERS > 1 serves from the cluster primary's children). */
function processTree(pid: number): number[] {
  const parentOf = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      parentOf.set(Number(entry), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
    } catch {
      // exited meanwhile
    }
  }
  const tree = [pid];
  for (let i = 0; i < tree.length; i++)
    for (const [p, parent] of parentOf) if (parent === tree[i]) tree.push(p);
  return tree;
}

/** Resident and peak resident memory of a process with its descendants, MB (from /proc; peaks summed). */
function memory(pid: number): { rss_mb: number; peak_rss_mb: number } {
  let rss = 0;
  let peak = 0;
  for (const p of processTree(pid)) {
    try {
      const status = readFileSync(`/proc/${p}/status`, 'utf8');
      const kb = (key: string) => Number(new RegExp(`${key}:\\s+(\\d+)`).exec(status)?.[1] ?? 0);
      rss += kb('VmRSS');
      peak += kb('VmHWM');
    } catch {
      // exited meanwhile
    }
  }
  return { rss_mb: Math.round(rss / 1024), peak_rss_mb: Math.round(peak / 1024) };
}

async function waitReady(url: string, child: ChildProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`${url}: server exited with code ${child.exitCode}`);
    try {
      if ((await fetch(url)).status === 200) return;
    } catch {
      // not listening yet
    }
    await sleep(100);
  }
  throw new Error(`${url} not ready after ${timeoutMs} ms`);
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await Promise.race([exited, sleep(15_000)]);
  if (child.exitCode === null) child.kill('SIGKILL');
}

interface LoadRun {
  label: string;
  scenario: string;
  concurrency: number;
  server_cpu_s: number;
  result: {
    requests: number;
    rps: number;
    errors: Record<string, number>;
    latency_us: Record<string, number>;
  } | null;
}

function runLoad(base: string, label: string, pid: number, out: string): LoadRun[] {
  note(`wrk load on ${label} (${base})`);
  execFileSync('bash', [join(PEER_DIR, 'load.sh'), base, label], {
    env: { ...process.env, SERVER_PID: String(pid), OUT: out },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  return readFileSync(join(out, `load_${label}.jsonl`), 'utf8')
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as LoadRun);
}

function find(runs: LoadRun[], scenario: string, concurrency: number): LoadRun['result'] {
  return runs.find((r) => r.scenario === scenario && r.concurrency === concurrency)?.result ?? null;
}

const round = (x: number, digits = 3) => Math.round(x * 10 ** digits) / 10 ** digits;

async function main(): Promise<void> {
  const scratch = mkdtempSync(join(tmpdir(), 'bench-peer-'));
  const dataDir = process.env.BENCH_DATA_DIR ?? join(scratch, 'data');
  mkdirSync(dataDir, { recursive: true });
  const fresh = readdirSync(dataDir).length === 0;
  const report: Record<string, unknown> = {
    bench: 'serving-vs-peer',
    hnsw: HNSW,
    net: 'H',
    workers: Number(process.env.BENCH_WORKERS ?? 1),
    loadavg_at_start: loadavg(),
  };
  let project: ChildProcess | null = null;
  let peer: ChildProcess | null = null;
  try {
    // What `npm start` does before the server starts (incremental: seconds only when sources changed).
    report.build_seconds = round(buildServer(), 1);
    note(fresh ? `first start on an empty ${dataDir}` : `start on ${dataDir}`);
    const env = { DATA_DIR: dataDir, WORKERS: process.env.BENCH_WORKERS ?? '1' };
    const first = await startServer(env, 10 * 60_000);
    project = first.child;
    if (fresh) report.first_start = { seconds: round(first.startSeconds, 1), ...memory(project.pid!) };
    await stopServer(first);
    const restart = await startServer(env, 10 * 60_000);
    project = restart.child;
    report.restart = {
      seconds: round(restart.startSeconds, 2),
      ...memory(project.pid!),
      ready: restart.ready,
    };

    note('exporting the same vectors to the peer');
    const peerArtifacts = join(scratch, 'peer');
    execFileSync(
      PYTHON,
      [
        join(PEER_DIR, 'from_project.py'),
        '--db',
        join(dataDir, 'catalog.sqlite'),
        '--out',
        peerArtifacts,
        '--M',
        String(HNSW.M),
        '--efc',
        String(HNSW.efConstruction),
      ],
      { stdio: ['ignore', 'ignore', 'inherit'] },
    );
    const out = join(scratch, 'load');
    const projectRuns = runLoad(restart.base, 'project', project.pid!, out);
    report.project_memory_after_load = memory(project.pid!);
    await stop(project);
    project = null;

    peer = spawn(
      PYTHON,
      [
        '-m',
        'uvicorn',
        'server:app',
        '--host',
        '127.0.0.1',
        '--port',
        String(PEER_PORT),
        '--no-access-log',
        '--log-level',
        'warning',
      ],
      {
        cwd: PEER_DIR,
        env: {
          ...process.env,
          PEER_NET: 'H',
          PEER_EF: String(HNSW.efSearch),
          PEER_ARTIFACTS: peerArtifacts,
          PYTHONDONTWRITEBYTECODE: '1',
        },
        stdio: ['ignore', 'ignore', 'inherit'],
      },
    );
    await waitReady(`http://127.0.0.1:${PEER_PORT}/health`, peer, 120_000);
    const peerRuns = runLoad(`http://127.0.0.1:${PEER_PORT}`, 'peer', peer.pid!, out);
    report.peer_memory_after_load = memory(peer.pid!);

    const ratio = (scenario: string, c: number, field: 'rps' | 'p50') => {
      const a = find(projectRuns, scenario, c);
      const b = find(peerRuns, scenario, c);
      if (!a || !b) return null;
      return field === 'rps' ? round(a.rps / b.rps, 2) : round(a.latency_us.p50 / b.latency_us.p50, 3);
    };
    report.load = { project: projectRuns, peer: peerRuns };
    report.ratios = {
      recs_rps_c16: ratio('recs', 16, 'rps'),
      png_rps_c16: ratio('similar_png28', 16, 'rps'),
      jpeg_rps_c16: ratio('similar_jpg512', 16, 'rps'),
      jpeg_p50_c1: ratio('similar_jpg512', 1, 'p50'),
    };
    report.goals = GOALS;
    report.errors = Object.fromEntries(
      [...projectRuns, ...peerRuns].map((r) => [
        `${r.label}/${r.scenario}/c${r.concurrency}`,
        r.result ? Object.values(r.result.errors).reduce((a, b) => a + b, 0) : null,
      ]),
    );
  } finally {
    if (project) await stop(project);
    if (peer) await stop(peer);
    // The data directory is inside it unless BENCH_DATA_DIR named one.
    rmSync(scratch, { recursive: true, force: true });
  }
  process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
}

main().catch((err) => {
  process.stderr.write(`${(err as Error).stack ?? err}\n`);
  process.exit(1);
});

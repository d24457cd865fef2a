import { type ChildProcess, spawn } from 'node:child_process';
import { access, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'train-cli-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function start(args: string[]): {
  child: ChildProcess;
  done: Promise<{ code: number | null; stdout: string; stderr: string }>;
} {
  // node --import tsx (not npx): the signal must reach the training process itself.
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/train.ts', ...args], {
    env: { ...process.env, TFJS_BACKEND: 'wasm', LOG_LEVEL: 'warn' },
  });
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (d) => {
    stdout += d;
  });
  child.stderr?.on('data', (d) => {
    stderr += d;
  });
  const done = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) =>
    child.on('close', (code) => resolve({ code, stdout, stderr })),
  );
  return { child, done };
}

/** The CLI's result: its last stdout JSON line that is not a pino log line (pino may flush after it). */
function resultLine(stdout: string): unknown {
  const lines = stdout
    .trim()
    .split('\n')
    .filter((line) => line.startsWith('{'));
  const parsed = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
  return parsed.filter((entry) => !('level' in entry)).at(-1);
}

async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}

async function waitFor(check: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('npm run train (src/cli/train.ts)', () => {
  it('rejects bad arguments with a usage message', async () => {
    const unknown = await start(['--bogus']).done;
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/Usage: npm run train/);
    const invalid = await start(['--loss', 'nope', '--out', join(dir, 'x')]).done;
    expect(invalid.code).toBe(1);
    expect(invalid.stderr).toMatch(/--loss must be one of/);
    // batch-all is read as batch_all, whose miner is fixed.
    const miner = await start(['--loss', 'batch-all', '--miner', 'semi-hard', '--out', join(dir, 'x')]).done;
    expect(miner.code).toBe(1);
    expect(miner.stderr).toMatch(/--miner and --reducer apply to --loss triplet only \(--loss batch_all/);
  }, 30_000);

  it('--dataset folder reads the shop metadata and refuses a single category', async () => {
    await writeFile(join(dir, 'items.csv'), 'id,title,category,file\na,A,shirts,a.png\nb,B,shirts,b.png\n');
    const args = ['--dataset', 'folder', '--dir', dir, '--metadata', 'items.csv', '--out', join(dir, 'shop')];
    const run = await start(['--loss', 'triplet', '--miner', 'distance-weighted', ...args]).done;
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(
      /training needs images of at least 2 categories; .*items.csv has 2 rows and only 'shirts'/,
    );
  }, 30_000);

  it('Ctrl-C writes a checkpoint and exits; --resume finishes the run', async () => {
    const out = join(dir, 'interrupted');
    const args = ['--loss', 'batch_all', '--epochs', '2', '--batch', '64', '--train-limit', '640'];
    const common = [...args, '--val-limit', '128', '--log-every', '1', '--no-progress', '--out', out];
    const run = start(common);
    // Interrupt once training is under way (the first step line is written).
    await waitFor(
      async () => (await readFile(join(out, 'metrics.jsonl'), 'utf8').catch(() => '')).length > 0,
      30_000,
    );
    run.child.kill('SIGINT');
    const first = await run.done;
    expect(first.code).toBe(130);
    expect(resultLine(first.stdout)).toMatchObject({ interrupted: true });
    expect(await exists(join(out, 'checkpoint', 'state.json'))).toBe(true);
    expect(await exists(join(out, 'model.json'))).toBe(false);

    const second = await start([...common, '--resume']).done;
    expect(second.code).toBe(0);
    expect(resultLine(second.stdout)).toMatchObject({ interrupted: false, epochs: 2 });
    const metadata = JSON.parse(await readFile(join(out, 'metadata.json'), 'utf8'));
    expect(metadata.command).toContain('npm run train -- --loss batch_all');
    expect(await exists(join(out, 'checkpoint'))).toBe(false);
  }, 60_000);
});

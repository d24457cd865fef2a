/**
 * `npm start`'s server as a real child process on a prepared data directory,
 * for tests that signal or kill it: its JSON log lines, stderr and exit. It
 * runs package.json's start command on the build test/globalSetup.ts compiles.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { projectPath, startCommand } from '../../src/paths.ts';
import type { Prepared } from './harness.ts';

export interface Child {
  proc: ChildProcess;
  lines: Record<string, unknown>[];
  stderr: string[];
  /** Exit code (null when killed by a signal). */
  exit: Promise<number | null>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

/** `detached` puts the server in its own process group, so a test can kill it with all its children. */
export function serve(prepared: Prepared, env: Record<string, string>, detached = false): Child {
  const start = startCommand();
  const proc = spawn(process.execPath, start.args, {
    cwd: projectPath(),
    env: {
      ...process.env,
      ...start.env,
      DATA_DIR: prepared.dataDir,
      MODEL_DIR: prepared.modelDir,
      CATALOG: 'none',
      WORKERS: '1',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached,
  });
  const lines: Record<string, unknown>[] = [];
  const stderr: string[] = [];
  let buffered = '';
  proc.stdout!.on('data', (chunk: Buffer) => {
    buffered += chunk.toString();
    const parts = buffered.split('\n');
    buffered = parts.pop()!;
    for (const line of parts) if (line.trim()) lines.push(JSON.parse(line) as Record<string, unknown>);
  });
  proc.stderr!.on('data', (chunk: Buffer) => stderr.push(chunk.toString()));
  const exit = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
  return { proc, lines, stderr, exit };
}

/** Resolves with the milliseconds until /readyz answered 200. */
export async function waitReady(base: string, child: Child, timeoutMs = 240_000): Promise<number> {
  const started = Date.now();
  while (Date.now() - started < timeoutMs) {
    if (child.proc.exitCode !== null) throw new Error(`server exited: ${child.stderr.join('')}`);
    try {
      if ((await fetch(`${base}/readyz`)).status === 200) return Date.now() - started;
    } catch {
      // Not listening yet.
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error('server did not become ready');
}

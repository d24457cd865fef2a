/**
 * The real server as `npm start` runs it (compiled by `npm run build:server`,
 * package.json's start command) as a child process on a free loopback port,
 * for the load benchmarks: the load
 * generator then never shares the server's event loop. One serving process
 * without the per-client rate limit unless `env` says otherwise: one load
 * generator is one client, and one process's RSS is the memory figure.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { projectPath, startCommand } from '../src/paths.ts';

let built = false;

/** `npm run build:server` (incremental), once per benchmark process; returns its seconds. */
export function buildServer(): number {
  const started = performance.now();
  execFileSync('npm', ['run', '--silent', 'build:server'], { cwd: projectPath(), stdio: 'inherit' });
  built = true;
  return (performance.now() - started) / 1000;
}

export interface ServerProcess {
  child: ChildProcess;
  base: string;
  /** Seconds from spawn to /readyz 200. */
  startSeconds: number;
  ready: { model: string; index_size: number };
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

export async function startServer(
  env: Record<string, string>,
  timeoutMs = 30 * 60_000,
): Promise<ServerProcess> {
  if (!built) buildServer();
  const port = await freePort();
  const started = performance.now();
  const start = startCommand();
  const child = spawn(process.execPath, start.args, {
    cwd: projectPath(),
    env: {
      WORKERS: '1',
      RATE_LIMIT_PER_MINUTE: '0',
      ...process.env,
      ...start.env,
      ...env,
      PORT: String(port),
      HOST: '127.0.0.1',
      LOG_LEVEL: 'warn',
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const base = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`server exited with code ${child.exitCode}`);
    try {
      const r = await fetch(`${base}/readyz`);
      if (r.status === 200) {
        const ready = (await r.json()) as ServerProcess['ready'];
        return { child, base, ready, startSeconds: (performance.now() - started) / 1000 };
      }
    } catch {
      // Not listening yet.
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  child.kill('SIGTERM');
  throw new Error('server did not become ready');
}

export async function stopServer(server: ServerProcess): Promise<void> {
  if (server.child.exitCode !== null) return;
  const exited = new Promise((resolve) => server.child.once('exit', resolve));
  server.child.kill('SIGTERM');
  await exited;
}

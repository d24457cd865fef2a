/**
 * The real server (`src/cli/serve.ts`, as `npm start` runs it) as a child
 * process on a free loopback port, for the load benchmarks: the load
 * generator then never shares the server's event loop. One serving process
 * without the per-client rate limit unless `env` says otherwise: one load
 * generator is one client, and one process's RSS is the memory figure.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';

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
  const port = await freePort();
  const started = performance.now();
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/serve.ts'], {
    env: {
      WORKERS: '1',
      RATE_LIMIT_PER_MINUTE: '0',
      ...process.env,
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

/**
 * The cluster primary of `npm start` with WORKERS > 1. It serves nothing
 * itself: it starts the first serving process alone (it imports, embeds and
 * builds on a first start), the others once that one is ready (they then load
 * in seconds), relays "the catalog changed" between them so every process's
 * change feed catches up at once, restarts a process that dies, and on
 * SIGTERM/SIGINT lets every process drain before exiting.
 */
import cluster, { type Worker } from 'node:cluster';
import type { Config } from '../config/env.ts';
import { createLogger } from '../log.ts';

export type ClusterMessage = { type: 'ready' } | { type: 'catalog-changed' };

/** A process that dies sooner than this after its start is restarted only after a pause (a crash loop). */
const QUICK_DEATH_MS = 10_000;
const RESTART_PAUSE_MS = 2_000;

export function runPrimary(config: Config, workers: number): void {
  const log = createLogger('cluster', config.LOG_LEVEL);
  const startedAt = new Map<Worker, number>();
  let stopping = false;

  const fork = (): Worker => {
    const worker = cluster.fork();
    startedAt.set(worker, Date.now());
    worker.on('message', (message: ClusterMessage) => {
      if (message.type !== 'catalog-changed') return;
      for (const other of Object.values(cluster.workers ?? {})) {
        if (other && other !== worker && other.isConnected()) other.send(message);
      }
    });
    return worker;
  };

  const first = fork();
  first.once('message', (message: ClusterMessage) => {
    if (message.type !== 'ready' || stopping) return;
    for (let i = 1; i < workers; i++) fork();
  });
  log.info({ workers, pid: process.pid }, 'cluster primary: starting serving processes');

  cluster.on('exit', (worker, code, signal) => {
    const lived = Date.now() - (startedAt.get(worker) ?? 0);
    startedAt.delete(worker);
    if (stopping) return;
    log.error({ worker: worker.id, code, signal, livedMs: lived }, 'serving process died: starting another');
    setTimeout(
      () => {
        if (!stopping) fork();
      },
      lived < QUICK_DEATH_MS ? RESTART_PAUSE_MS : 0,
    );
  });

  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'cluster primary: draining every serving process');
    for (const worker of Object.values(cluster.workers ?? {})) worker?.process.kill('SIGTERM');
    const timer = setTimeout(() => {
      log.error({ timeoutMs: config.SHUTDOWN_TIMEOUT_MS }, 'cluster shutdown timed out');
      process.exit(1);
    }, config.SHUTDOWN_TIMEOUT_MS + 2_000);
    timer.unref();
    const done = () => {
      if (Object.keys(cluster.workers ?? {}).length === 0) process.exit(0);
    };
    cluster.on('exit', done);
    done();
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

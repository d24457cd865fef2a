/**
 * A throw-away PostgreSQL 15 cluster for tests: `initdb` into a temporary
 * directory, `pg_ctl start` on a free port of 127.0.0.1 (TCP only, fsync off),
 * one fresh database per `createDatabase()`, and `stop()` deletes it all.
 *
 * PostgreSQL refuses to run as root, so as root the cluster runs as `nobody`.
 * Missing binaries fail loudly: a contract suite that skips itself would let
 * the PostgreSQL store break unnoticed (`.ci/run` installs postgresql-15).
 */
import { execFile, execFileSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';

const run = promisify(execFile);

export const POSTGRES_BIN = process.env.POSTGRES_BIN ?? '/usr/lib/postgresql/15/bin';
const SUPERUSER = 'postgres';
/** Unprivileged account the cluster runs as when the tests run as root. */
const CLUSTER_USER = 'nobody';

export interface TestPostgres {
  /** Superuser URL of the `postgres` database. */
  readonly adminUrl: string;
  readonly port: number;
  /** A new, empty database; returns its URL. */
  createDatabase(): Promise<string>;
  /** Runs SQL as the superuser on the `postgres` database (e.g. to terminate a connection). */
  admin(sql: string, values?: unknown[]): Promise<pg.QueryResult>;
  /** `pg_ctl stop -m fast` and start again on the same port and data: an outage of the server, nothing lost. */
  pause(): Promise<void>;
  resume(): Promise<void>;
  stop(): Promise<void>;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject()));
    });
  });
}

/** Runs one of the PostgreSQL binaries, as `nobody` when this process is root. */
function asClusterUser(binary: string, args: string[]): Promise<{ stdout: string; stderr: string }> {
  const path = join(POSTGRES_BIN, binary);
  if (process.getuid?.() !== 0) return run(path, args);
  return run('runuser', ['-u', CLUSTER_USER, '--', path, ...args]);
}

function ownedByClusterUser(dir: string): void {
  if (process.getuid?.() !== 0) return;
  const uid = Number(execFileSync('id', ['-u', CLUSTER_USER], { encoding: 'utf8' }).trim());
  const gid = Number(execFileSync('id', ['-g', CLUSTER_USER], { encoding: 'utf8' }).trim());
  chownSync(dir, uid, gid);
}

function serverOptions(port: number): string {
  return [
    `-p ${port}`,
    "-c listen_addresses='127.0.0.1'",
    // No Unix socket: the default directory is not writable by `nobody`, and TCP is all the tests use.
    "-c unix_socket_directories=''",
    '-c fsync=off',
    '-c synchronous_commit=off',
    '-c full_page_writes=off',
    '-c max_connections=200',
  ].join(' ');
}

export async function startPostgres(): Promise<TestPostgres> {
  if (!existsSync(join(POSTGRES_BIN, 'initdb'))) {
    throw new Error(
      `PostgreSQL 15 is not installed (no ${POSTGRES_BIN}/initdb): ` +
        'apt-get install postgresql-15 (.ci/run does), or set POSTGRES_BIN to its bin directory',
    );
  }
  const dir = mkdtempSync(join(tmpdir(), 'test-postgres-'));
  ownedByClusterUser(dir);
  const data = join(dir, 'data');
  const logFile = join(dir, 'server.log');
  let stopped = false;
  // A test process that dies without afterAll must not leave a server behind.
  const killOnExit = () => {
    if (stopped) return;
    try {
      const pid = Number(readFileSync(join(data, 'postmaster.pid'), 'utf8').split('\n')[0]);
      process.kill(pid, 'SIGQUIT');
    } catch {
      // Not started, or already gone.
    }
    rmSync(dir, { recursive: true, force: true });
  };
  process.once('exit', killOnExit);
  try {
    await asClusterUser('initdb', [
      '-D',
      data,
      '-U',
      SUPERUSER,
      '--auth=trust',
      '--encoding=UTF8',
      '--no-locale',
      '--no-sync',
    ]);
    const startServer = (port: number) =>
      asClusterUser('pg_ctl', [
        '-D',
        data,
        '-l',
        logFile,
        '-o',
        serverOptions(port),
        '-w',
        '-t',
        '60',
        'start',
      ]);
    let port = 0;
    // Another process may take the port between freePort() and the server's bind: try a few.
    for (let attempt = 1; ; attempt++) {
      port = await freePort();
      try {
        await startServer(port);
        break;
      } catch (err) {
        if (attempt >= 3) {
          const serverLog = existsSync(logFile) ? readFileSync(logFile, 'utf8') : '';
          throw new Error(`pg_ctl start failed: ${(err as Error).message}\n${serverLog}`);
        }
      }
    }
    const adminUrl = `postgres://${SUPERUSER}@127.0.0.1:${port}/postgres`;
    const adminPool = new pg.Pool({ connectionString: adminUrl, max: 2 });
    // The admin pool's idle connections die with a pause: that is expected, not a crash.
    adminPool.on('error', () => {});
    let databases = 0;
    return {
      adminUrl,
      port,
      admin: (sql, values) => adminPool.query(sql, values),
      async pause() {
        await asClusterUser('pg_ctl', ['-D', data, '-m', 'fast', '-w', 'stop']);
      },
      async resume() {
        await startServer(port);
      },
      async createDatabase() {
        const name = `test_${process.pid}_${++databases}`;
        await adminPool.query(`CREATE DATABASE ${name}`);
        return `postgres://${SUPERUSER}@127.0.0.1:${port}/${name}`;
      },
      async stop() {
        if (stopped) return;
        stopped = true;
        process.removeListener('exit', killOnExit);
        await adminPool.end();
        await asClusterUser('pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop']).catch(() => {});
        rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (err) {
    killOnExit();
    stopped = true;
    process.removeListener('exit', killOnExit);
    throw err;
  }
}

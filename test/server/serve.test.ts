/**
 * `npm start` as a real process: bad configuration is refused with a clear
 * message, the first start embeds and builds the index, a request in flight
 * during SIGTERM still completes, and the next start loads the index instead
 * of rebuilding it. Logs are JSON with the request id on request lines.
 */
import { request as httpRequest } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { productPhoto } from './fixtures.ts';
import { type Prepared, prepareData, removeData } from './harness.ts';
import { freePort, serve as startProcess, waitReady } from './processes.ts';

let prepared: Prepared;
const serve = (env: Record<string, string>) => startProcess(prepared, env);

beforeAll(async () => {
  prepared = await prepareData(300);
});

afterAll(() => {
  if (prepared) removeData(prepared);
});

describe('npm start (src/cli/serve.ts)', () => {
  it('refuses an invalid configuration with a message naming the variable', async () => {
    const child = serve({ PORT: 'eighty', CATALOG: 'everything' });
    expect(await child.exit).toBe(2);
    const message = child.stderr.join('');
    expect(message).toContain('PORT="eighty"');
    expect(message).toContain('CATALOG="everything"');
  });

  it('builds on first start, finishes in-flight requests on SIGTERM, loads on the next start', async () => {
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const first = serve({ PORT: String(port), LOG_LEVEL: 'info' });
    await waitReady(base, first);
    expect(first.lines.some((l) => l.msg === 'no index for this model yet: building one')).toBe(true);
    expect(first.lines.some((l) => String(l.msg).startsWith('embedding catalog: 100%'))).toBe(true);

    const res = await fetch(`${base}/items/fmnist-test-00001`, { headers: { 'x-request-id': 'trace-abc' } });
    expect(res.headers.get('x-request-id')).toBe('trace-abc');
    await new Promise((r) => setTimeout(r, 100));
    const requestLine = first.lines.find((l) => l.msg === 'request completed' && l.reqId === 'trace-abc');
    expect(requestLine).toMatchObject({ method: 'GET', url: '/items/fmnist-test-00001', status: 200 });

    // A request whose body is still arriving when SIGTERM comes must be answered.
    const photo = await productPhoto(
      Buffer.from(await (await fetch(`${base}/items/fmnist-test-00003/image`)).arrayBuffer()),
    );
    const answered = new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = httpRequest(
        `${base}/similar?k=3`,
        { method: 'POST', headers: { 'content-type': 'image/jpeg', 'content-length': photo.length } },
        (response) => {
          let body = '';
          response.on('data', (c: Buffer) => {
            body += c.toString();
          });
          response.on('end', () => resolve({ status: response.statusCode!, body }));
        },
      );
      req.on('error', reject);
      req.write(photo.subarray(0, 100));
      setTimeout(() => {
        first.proc.kill('SIGTERM');
        setTimeout(() => req.end(photo.subarray(100)), 300);
      }, 200);
    });
    const result = await answered;
    expect(result.status).toBe(200);
    expect((JSON.parse(result.body) as { results: unknown[] }).results).toHaveLength(3);
    expect(await first.exit).toBe(0);
    expect(first.lines.some((l) => l.msg === 'closed cleanly')).toBe(true);

    const second = serve({ PORT: String(port), LOG_LEVEL: 'info' });
    await waitReady(base, second);
    expect(second.lines.some((l) => l.msg === 'index loaded')).toBe(true);
    expect(second.lines.some((l) => l.msg === 'no index for this model yet: building one')).toBe(false);
    const ready = second.lines.find((l) => l.msg === 'ready')!;
    expect(ready.items).toBe(300);
    second.proc.kill('SIGINT');
    expect(await second.exit).toBe(0);
  });
});

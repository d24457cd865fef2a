import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { createRng } from '../../src/data/random.ts';
import { startWorker } from '../../src/workers/startWorker.ts';

const fixture = (name: string) => new URL(`./fixtures/${name}`, import.meta.url);

/** The first message, or the error / early exit that came instead. */
function firstMessage(w: Worker): Promise<unknown> {
  return new Promise((resolve, reject) => {
    w.once('message', resolve);
    w.once('error', reject);
    w.once('exit', (code) => reject(new Error(`worker exited with code ${code}`)));
  });
}

describe('startWorker', () => {
  it('runs a TypeScript module that imports TypeScript, with workerData as given', async () => {
    const shared = new Int32Array(new SharedArrayBuffer(8));
    const w = startWorker(fixture('echoWorker.ts'), { n: 3, list: ['a'], shared });
    try {
      const m = (await firstMessage(w)) as { workerData: Record<string, unknown>; random: number };
      expect(m.workerData).toEqual({ n: 3, list: ['a'], shared });
      expect(m.random).toBe(createRng(7)());
    } finally {
      await w.terminate();
    }
  });

  it('without workerData', async () => {
    const w = startWorker(fixture('echoWorker.ts'));
    try {
      expect(await firstMessage(w)).toMatchObject({ workerData: {} });
    } finally {
      await w.terminate();
    }
  });

  it('an error thrown while the module loads is an error event with its message, then exit 1', async () => {
    const w = startWorker(fixture('throwsOnLoad.ts'));
    const exit = new Promise<number>((resolve) => w.once('exit', resolve));
    await expect(firstMessage(w)).rejects.toThrow('fixture refuses to load');
    expect(await exit).toBe(1);
  });

  it('a missing module is an error event too', async () => {
    const w = startWorker(fixture('noSuchWorker.ts'));
    await expect(firstMessage(w)).rejects.toThrow(/noSuchWorker\.ts/);
  });

  it('from a parent run as node --input-type=module -e, with V8 flags (neither may be listed for a worker)', async () => {
    const script = `
      import { startWorker } from ${JSON.stringify(fileURLToPath(new URL('../../src/workers/startWorker.ts', import.meta.url)))};
      const w = startWorker(new URL(${JSON.stringify(fixture('echoWorker.ts').href)}), { n: 1 });
      w.on('message', (m) => { console.log(JSON.stringify(m.workerData)); w.terminate(); });
      w.on('error', (e) => { console.log('error', e.message); });`;
    const flags = ['--max-old-space-size=400', '--expose-gc', '--import', 'tsx', '--input-type=module'];
    const { stdout } = await promisify(execFile)(process.execPath, [...flags, '-e', script]);
    expect(stdout.trim()).toBe('{"n":1}');
  });

  it('refuses workerData that is not a plain object, and the reserved key', () => {
    expect(() => startWorker(fixture('echoWorker.ts'), new Float32Array(2))).toThrow(TypeError);
    expect(() => startWorker(fixture('echoWorker.ts'), [1, 2])).toThrow(TypeError);
    expect(() => startWorker(fixture('echoWorker.ts'), { __module: 'x' })).toThrow(/reserved/);
  });
});

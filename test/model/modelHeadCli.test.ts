/**
 * `npm run model:head` as a real process on a small saved cosine model: it records the head, writes a
 * model.onnx that loads under the new version, and refuses bad options before writing anything.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../src/model/backend.ts';
import { saveModel } from '../../src/model/modelIo.ts';
import { buildNetwork } from '../../src/model/network.ts';
import { exportOnnx } from '../../src/model/onnx/export.ts';
import { loadOnnxEmbedder } from '../../src/model/onnxEmbedder.ts';

const run = promisify(execFile);
const dir = mkdtempSync(join(tmpdir(), 'model-head-'));
const metadataPath = join(dir, 'metadata.json');

function modelHead(...args: string[]) {
  return run(process.execPath, ['--import', 'tsx', 'src/cli/model-head.ts', '--model', dir, ...args], {
    env: { ...process.env, LOG_LEVEL: 'warn' },
  });
}

beforeAll(async () => {
  await initBackend('cpu');
  const model = buildNetwork({ arch: 'seed', head: 'cosine', seed: 4, embeddingNorm: 'l2' });
  await saveModel(model, dir);
  model.dispose();
  writeFileSync(metadataPath, JSON.stringify({ name: 'tiny', hyperParameters: { cosScale: 16 } }));
  await exportOnnx(dir);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('npm run model:head', () => {
  it('records the head (the training scale by default) and exports model.onnx under the new version', async () => {
    const before = await loadOnnxEmbedder(dir);
    before.dispose();
    const { stdout } = await modelHead('--flip-average', '--class-pull', '0.5');
    const summary = JSON.parse(stdout) as { modelVersion: string };
    const head = { flipAverage: true, classPull: { weight: 0.5, scale: 16 } };
    expect(JSON.parse(readFileSync(metadataPath, 'utf8'))).toMatchObject({
      name: 'tiny',
      embeddingHead: head,
    });
    const after = await loadOnnxEmbedder(dir);
    expect(after.modelVersion).toBe(summary.modelVersion);
    expect(after.modelVersion).not.toBe(before.modelVersion);
    after.dispose();

    // No options: back to the network's own embedding and its version.
    await modelHead();
    const plain = await loadOnnxEmbedder(dir);
    expect(plain.modelVersion).toBe(before.modelVersion);
    plain.dispose();
  });

  it('refuses a non-positive pull without touching the files', async () => {
    const metadata = readFileSync(metadataPath, 'utf8');
    const onnx = readFileSync(join(dir, 'model.onnx'));
    await expect(modelHead('--class-pull', '0')).rejects.toMatchObject({
      code: 1,
      // The log's fatal line (pino writes to stdout).
      stdout: expect.stringMatching(/classPull needs a positive weight/),
    });
    expect(readFileSync(metadataPath, 'utf8')).toBe(metadata);
    expect(readFileSync(join(dir, 'model.onnx')).equals(onnx)).toBe(true);
  });
});

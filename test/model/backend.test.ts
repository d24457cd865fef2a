import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { initBackend } from '../../src/model/backend.ts';

describe('initBackend', () => {
  it('honours an explicit choice', async () => {
    expect(await initBackend('cpu')).toBe('cpu');
    expect(tf.getBackend()).toBe('cpu');
    expect(await initBackend('wasm')).toBe('wasm');
    expect(tf.getBackend()).toBe('wasm');
  });

  it('falls back along tensorflow → wasm → cpu when nothing is requested', async () => {
    const name = await initBackend('');
    expect(['tensorflow', 'wasm', 'cpu']).toContain(name);
    expect(tf.getBackend()).toBe(name);
  });

  it('rejects unknown names and backends that cannot load, instead of silently falling back', async () => {
    await expect(initBackend('webgl2000')).rejects.toThrow(/unknown tfjs backend/);
    let tfjsNode = true;
    try {
      const pkg = '@tensorflow/tfjs-node';
      await import(pkg);
    } catch {
      tfjsNode = false;
    }
    if (!tfjsNode) await expect(initBackend('tensorflow')).rejects.toThrow(/could not be loaded/);
  });
});

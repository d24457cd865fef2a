import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readModelCard } from '../../src/serving/modelCard.ts';

const tmp = mkdtempSync(join(tmpdir(), 'model-card-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('readModelCard', () => {
  it('reads the bundled model: its embedding head and its evaluation figures', () => {
    const card = readModelCard('models/default');
    expect(card.name).toBe('default');
    expect(card.head).toEqual({ flipAverage: true, classPull: { weight: 0.5, scale: 24 } });
    expect(card.evaluation?.precisionAt1).toBeGreaterThan(0.9);
  });

  it('says it does not know a head that metadata.json no longer describes, rather than guessing', () => {
    writeFileSync(
      join(tmp, 'metadata.json'),
      JSON.stringify({ name: 'x', embeddingHead: { flipAverage: 3 } }),
    );
    expect(readModelCard(tmp)).toMatchObject({ name: 'x', head: null, evaluation: null });
    writeFileSync(join(tmp, 'metadata.json'), JSON.stringify({ name: 'x' }));
    expect(readModelCard(tmp).head).toEqual({ flipAverage: false, classPull: null });
  });
});

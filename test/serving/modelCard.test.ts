import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readModelCard } from '../../src/serving/modelCard.ts';

const tmp = mkdtempSync(join(tmpdir(), 'model-card-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('readModelCard', () => {
  it('reads the bundled model: its training metadata and its evaluation figures', () => {
    const card = readModelCard('models/default');
    expect(card).toMatchObject({ name: 'default', arch: 'improved', loss: 'cosface' });
    expect(card.evaluation?.precisionAt1).toBeGreaterThan(0.9);
  });

  it('says what it does not know rather than guessing: no report, no figures; unreadable metadata, nulls', () => {
    writeFileSync(join(tmp, 'metadata.json'), JSON.stringify({ name: 'x', arch: 3 }));
    expect(readModelCard(tmp)).toEqual({
      name: 'x',
      arch: null,
      loss: null,
      createdAt: null,
      evaluation: null,
    });
    writeFileSync(join(tmp, 'metadata.json'), '{');
    expect(readModelCard(tmp).name).toBeNull();
  });
});

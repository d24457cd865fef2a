/** The README's configuration table is the one generated from src/config/env.ts. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CONFIG_VARS, renderConfigTable } from '../../src/config/env.ts';

const README = new URL('../../README.md', import.meta.url);

describe('README configuration table', () => {
  it('matches CONFIG_VARS exactly', () => {
    const readme = readFileSync(README, 'utf8');
    const match = /<!-- config-table:start -->\n([\s\S]*?)\n<!-- config-table:end -->/.exec(readme);
    expect(match, 'README.md needs the config-table markers').not.toBeNull();
    expect(match![1]).toBe(renderConfigTable());
  });

  it('lists at least the variables the issue names', () => {
    const names = CONFIG_VARS.map((v) => v.name);
    for (const name of ['PORT', 'HOST', 'DATA_DIR', 'MODEL_DIR', 'CATALOG', 'ADMIN_TOKEN', 'LOG_LEVEL']) {
      expect(names).toContain(name);
    }
  });
});

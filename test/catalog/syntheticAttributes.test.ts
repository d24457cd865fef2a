import { describe, expect, it } from 'vitest';
import { SYNTHETIC_BRANDS, syntheticAttributes } from '../../src/catalog/syntheticAttributes.ts';
import { CLASS_NAMES } from '../../src/data/classes.ts';
import { parseAttributes } from '../../src/search/attributes.ts';

describe('synthetic Fashion-MNIST attributes', () => {
  it('are deterministic, valid and spread over every brand', () => {
    const brands = new Map<string, number>();
    let inStock = 0;
    const n = 20_000;
    for (let i = 0; i < n; i++) {
      const category = CLASS_NAMES[i % 10];
      const a = syntheticAttributes('train', i, category);
      expect(syntheticAttributes('train', i, category)).toEqual(a);
      expect(parseAttributes(a)).toEqual(a);
      brands.set(a.brand as string, (brands.get(a.brand as string) ?? 0) + 1);
      if (a.in_stock) inStock++;
      if (category === 'Bag') expect(a.sizes).toBeUndefined();
    }
    expect([...brands.keys()].sort()).toEqual([...SYNTHETIC_BRANDS].sort());
    for (const count of brands.values()) expect(count / n).toBeCloseTo(1 / 8, 1);
    expect(inStock / n).toBeCloseTo(0.85, 1);
    expect(syntheticAttributes('test', 5, 'Dress')).not.toEqual(syntheticAttributes('train', 5, 'Dress'));
  });
});

import { describe, expect, it } from 'vitest';
import type { CatalogItem } from '../../src/catalog/store.ts';
import { createRng } from '../../src/data/random.ts';
import { VectorTable } from '../../src/index/vectorTable.ts';
import { ResidentCatalog } from '../../src/serving/residentCatalog.ts';

function item(label: number, category: string, extra: Partial<CatalogItem> = {}): CatalogItem {
  return {
    label,
    id: `item-${label}`,
    title: `title ${label}`,
    category,
    source: label % 2 ? 'api' : 'fashion-mnist',
    split: label % 3 ? null : 'test',
    originalPath: label % 5 ? null : `/photos/${label}.jpg`,
    attributes: label % 4 ? { brand: `b${label % 7}`, price: label / 10, sizes: ['S', 'M'] } : {},
    createdAt: new Date(1_700_000_000_000 + label).toISOString(),
    updatedAt: new Date(1_700_000_000_000 + 2 * label).toISOString(),
    ...extra,
  };
}

describe('ResidentCatalog', () => {
  it('agrees with a plain map under random puts, replacements and removes', () => {
    const rng = createRng(7);
    const catalog = new ResidentCatalog();
    const reference = new Map<number, CatalogItem>();
    const categories = ['Dress', 'Bag', 'Sneaker'];
    for (let step = 0; step < 5000; step++) {
      const label = Math.floor(rng() * 3000);
      if (rng() < 0.3) {
        expect(catalog.remove(label)).toBe(reference.delete(label));
      } else {
        const next = item(label, categories[Math.floor(rng() * 3)], { title: `t${step}` });
        catalog.put(next);
        reference.set(label, next);
      }
    }
    expect(catalog.size).toBe(reference.size);
    for (let label = 0; label < 3000; label++) {
      const want = reference.get(label) ?? null;
      expect(catalog.byLabel(label)).toEqual(want);
      if (want) {
        expect(catalog.get(want.id)).toEqual(want);
        expect(catalog.labelOf(want.id)).toBe(label);
        expect(catalog.summary(label)).toEqual({
          id: want.id,
          title: want.title,
          category: want.category,
          attributes: want.attributes,
        });
      } else {
        expect(catalog.summary(label)).toBeNull();
      }
    }
    const counts = new Map<string, number>();
    for (const it of reference.values()) counts.set(it.category, (counts.get(it.category) ?? 0) + 1);
    expect(catalog.categories()).toEqual(
      [...counts].sort(([a], [b]) => a.localeCompare(b)).map(([category, count]) => ({ category, count })),
    );
  });

  it('moves an item between categories and frees an emptied category', () => {
    const catalog = new ResidentCatalog();
    catalog.put(item(1, 'Bag'));
    catalog.put(item(1, 'Dress', { id: 'renamed' }));
    expect(catalog.hasCategory('Bag')).toBe(false);
    expect(catalog.get('item-1')).toBeNull();
    expect(catalog.get('renamed')?.category).toBe('Dress');
  });
});

describe('VectorTable', () => {
  it('agrees with a plain map, including labels far beyond the first capacity', () => {
    const rng = createRng(3);
    const table = new VectorTable(4, 2);
    const reference = new Map<number, number[]>();
    for (let step = 0; step < 3000; step++) {
      const label = Math.floor(rng() * 5000);
      if (rng() < 0.3) {
        expect(table.delete(label)).toBe(reference.delete(label));
      } else {
        const v = [rng(), rng(), rng(), rng()];
        table.set(label, v);
        reference.set(label, Array.from(Float32Array.from(v)));
      }
    }
    expect(table.size).toBe(reference.size);
    for (let label = 0; label < 5000; label++) {
      const got = table.get(label);
      expect(got ? Array.from(got) : null).toEqual(reference.get(label) ?? null);
    }
  });

  it('adopts rows by label and refuses a mismatched shape', () => {
    const table = VectorTable.of(2, [5, 1], Float32Array.of(1, 2, 3, 4));
    expect(Array.from(table.get(5)!)).toEqual([1, 2]);
    expect(Array.from(table.get(1)!)).toEqual([3, 4]);
    expect(table.get(0)).toBeNull();
    table.set(9, [7, 8]);
    expect(Array.from(table.get(9)!)).toEqual([7, 8]);
    expect(() => VectorTable.of(2, [1], Float32Array.of(1, 2, 3))).toThrow(/3 floats/);
    expect(() => table.set(2, [1])).toThrow(/1 values/);
  });
});

/**
 * Synthetic shop attributes for the Fashion-MNIST catalog, so that attribute
 * filters can be tried out of the box. They are made up: a deterministic
 * function of the item's split and index (no randomness between runs), with
 * no relation to the picture beyond its category.
 */
import type { Attributes } from '../search/attributes.ts';

export const SYNTHETIC_BRANDS = ['Acme', 'Borealis', 'Cobalt', 'Dune', 'Ember', 'Fjord', 'Gale', 'Halcyon'];
export const SYNTHETIC_COLOURS = ['black', 'white', 'grey', 'navy', 'red', 'green', 'beige', 'brown'];
const CLOTHING_SIZES = ['XS', 'S', 'M', 'L', 'XL'];
const SHOE_SIZES = ['37', '38', '39', '40', '41', '42', '43', '44'];
const FOOTWEAR = new Set(['Sandal', 'Sneaker', 'Ankle boot']);
/** Price range per category (from, to), in the shop's currency. */
const PRICE_RANGE: Record<string, [number, number]> = {
  'T-shirt/top': [9, 39],
  Trouser: [25, 89],
  Pullover: [29, 99],
  Dress: [29, 149],
  Coat: [59, 299],
  Sandal: [19, 79],
  Shirt: [19, 69],
  Sneaker: [39, 159],
  Bag: [19, 249],
  'Ankle boot': [49, 199],
};

/** A well-mixed 32-bit hash (splitmix32 finaliser) of an integer. */
function mix(x: number): number {
  let z = (x + 0x9e3779b9) | 0;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return (z ^ (z >>> 16)) >>> 0;
}

/** Uniform in [0, 1) from the item and a field number. */
function unit(seed: number, field: number): number {
  return mix(seed * 16 + field) / 2 ** 32;
}

export function syntheticAttributes(split: 'train' | 'test', index: number, category: string): Attributes {
  const seed = (split === 'train' ? 0 : 1_000_000) + index;
  const [low, high] = PRICE_RANGE[category] ?? [10, 100];
  const sizes = FOOTWEAR.has(category) ? SHOE_SIZES : category === 'Bag' ? [] : CLOTHING_SIZES;
  const attributes: Attributes = {
    brand: SYNTHETIC_BRANDS[Math.floor(unit(seed, 0) * SYNTHETIC_BRANDS.length)],
    colour: SYNTHETIC_COLOURS[Math.floor(unit(seed, 1) * SYNTHETIC_COLOURS.length)],
    // Prices end in .99, spread evenly over the category's range.
    price: Math.floor(low + unit(seed, 2) * (high - low)) + 0.99,
    in_stock: unit(seed, 3) < 0.85,
  };
  if (sizes.length > 0) attributes.sizes = sizes.filter((_, i) => unit(seed, 4 + i) < 0.6);
  return attributes;
}

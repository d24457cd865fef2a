-- Item attributes (brand, colour, price, sizes, ...): a JSON object of strings,
-- numbers, booleans and arrays of strings, validated by src/search/attributes.ts.
-- Existing items get none.
ALTER TABLE items ADD COLUMN attributes TEXT NOT NULL DEFAULT '{}';

import { describe, expect, it } from 'vitest';
import { compileLayoutWat } from '../../src/model/kernels/simd/build.ts';
import { LAYOUT_WASM_BASE64 } from '../../src/model/kernels/simd/layoutWasm.ts';

describe('layout.wat', () => {
  it('the shipped bytes are the compiled source (run simd/build.ts after editing the .wat)', async () => {
    const bytes = await compileLayoutWat();
    expect(Buffer.from(bytes).toString('base64')).toBe(LAYOUT_WASM_BASE64);
  });
});

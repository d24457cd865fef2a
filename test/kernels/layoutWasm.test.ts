import { describe, expect, it } from 'vitest';
import { compileLayoutWat } from '../../src/model/kernels/simd/build.ts';
import { LAYOUT_WASM_BASE64, LAYOUT_WASM_SHARED_BASE64 } from '../../src/model/kernels/simd/layoutWasm.ts';

describe('layout.wat', () => {
  it('the shipped bytes are the compiled source (run simd/build.ts after editing the .wat)', async () => {
    expect(Buffer.from(await compileLayoutWat(false)).toString('base64')).toBe(LAYOUT_WASM_BASE64);
    expect(Buffer.from(await compileLayoutWat(true)).toString('base64')).toBe(LAYOUT_WASM_SHARED_BASE64);
  });
});

import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { samePads } from '../../src/model/onnx/convert.ts';
import { attr, encodeModel, type OnnxModel, readModelInfo } from '../../src/model/onnx/onnxProto.ts';
import { ProtoDecodeError, ProtoWriter, readFields } from '../../src/model/onnx/protobuf.ts';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

describe('protobuf wire encoding', () => {
  it('writes varints, negative int64, floats and length-delimited fields as protoc does', () => {
    // Known encodings (protobuf.dev, "Encoding"): field 1 = 150 → 08 96 01; field 2 = "testing".
    expect(hex(new ProtoWriter().varint(1, 150).finish())).toBe('089601');
    expect(hex(new ProtoWriter().string(2, 'testing').finish())).toBe('120774657374696e67');
    // -1 as int64: ten bytes of two's complement.
    expect(hex(new ProtoWriter().varint(3, -1).finish())).toBe('18ffffffffffffffffff01');
    // 1.5f little-endian with wire type 5.
    expect(hex(new ProtoWriter().float(2, 1.5).finish())).toBe('150000c03f');
    expect(hex(new ProtoWriter().varint(20, 7).finish())).toBe('a00107');
  });

  it('reads back what it wrote and refuses truncated input', () => {
    const bytes = new ProtoWriter()
      .varint(1, 2n ** 40n)
      .string(14, 'héllo')
      .float(5, 0.25)
      .finish();
    const fields = [...readFields(bytes)];
    expect(fields.map((f) => f.field)).toEqual([1, 14, 5]);
    expect(fields[0].varint).toBe(2n ** 40n);
    expect(new TextDecoder().decode(fields[1].bytes)).toBe('héllo');
    expect(() => [...readFields(bytes.subarray(0, bytes.length - 2))]).toThrow(ProtoDecodeError);
  });
});

describe('TF "same" padding', () => {
  it('puts the odd pixel at the end', () => {
    expect(samePads(28, 3, 1)).toEqual([1, 1]);
    expect(samePads(28, 3, 2)).toEqual([0, 1]);
    expect(samePads(14, 3, 2)).toEqual([0, 1]);
    expect(samePads(7, 3, 2)).toEqual([1, 1]);
    expect(samePads(4, 2, 2)).toEqual([0, 0]);
    expect(samePads(5, 3, 1, 2)).toEqual([2, 2]);
  });
});

/** y = LeakyRelu(Gemm(x, W, b; transB, alpha = 2), 0.1), then z = Conv1x1 over a reshape of y. */
function tinyModel(): OnnxModel {
  return {
    producerName: 'test',
    metadata: { weights_sha256: 'abc', note: 'ünïcode' },
    graph: {
      name: 'tiny',
      nodes: [
        {
          opType: 'Gemm',
          inputs: ['x', 'W', 'b'],
          outputs: ['g'],
          attributes: { transB: attr.int(1), alpha: attr.float(2) },
        },
        { opType: 'LeakyRelu', inputs: ['g'], outputs: ['y'], attributes: { alpha: attr.float(0.1) } },
        { opType: 'Reshape', inputs: ['y', 'shape'], outputs: ['y4'] },
        {
          opType: 'Conv',
          inputs: ['y4', 'K', 'c'],
          outputs: ['z'],
          attributes: { kernel_shape: attr.ints([1, 1]), pads: attr.ints([0, 0, 0, 0]) },
        },
      ],
      initializers: [
        // W is [out=2, in=3] with transB = 1.
        { name: 'W', dims: [2, 3], data: Float32Array.of(1, 2, 3, -1, 0, 1) },
        { name: 'b', dims: [2], data: Float32Array.of(0.5, -10) },
        { name: 'shape', dims: [4], data: BigInt64Array.of(-1n, 2n, 1n, 1n) },
        // One output channel: 3*ch0 - ch1 + 1.
        { name: 'K', dims: [1, 2, 1, 1], data: Float32Array.of(3, -1) },
        { name: 'c', dims: [1], data: Float32Array.of(1) },
      ],
      inputs: [{ name: 'x', elemType: 'float32', shape: ['N', 3] }],
      outputs: [
        { name: 'y', elemType: 'float32', shape: ['N', 2] },
        { name: 'z', elemType: 'float32', shape: ['N', 1, 1, 1] },
      ],
    },
  };
}

describe('ONNX model writer', () => {
  it('writes a model ONNX Runtime loads and runs, with the hand-computed result', async () => {
    const bytes = encodeModel(tinyModel());
    const session = await ort.InferenceSession.create(bytes);
    try {
      expect(session.inputNames).toEqual(['x']);
      expect(session.outputNames).toEqual(['y', 'z']);
      const x = new ort.Tensor('float32', Float32Array.of(1, 1, 1, 2, 0, -1), [2, 3]);
      const out = await session.run({ x });
      // Row 0: W·x = (6, 0) → 2·(6,0) + (0.5,-10) = (12.5, -10) → leaky (12.5, -1).
      // Row 1: W·x = (2-3, -2-1) = (-1, -3) → (-2+0.5, -6-10) = (-1.5, -16) → (-0.15, -1.6).
      const y = Array.from(out.y.data as Float32Array);
      expect(y[0]).toBeCloseTo(12.5, 6);
      expect(y[1]).toBeCloseTo(-1, 6);
      expect(y[2]).toBeCloseTo(-0.15, 6);
      expect(y[3]).toBeCloseTo(-1.6, 6);
      expect(out.z.dims).toEqual([2, 1, 1, 1]);
      const z = Array.from(out.z.data as Float32Array);
      expect(z[0]).toBeCloseTo(3 * 12.5 + 1 + 1, 5);
      expect(z[1]).toBeCloseTo(3 * -0.15 + 1.6 + 1, 5);
    } finally {
      await session.release();
    }
  });

  it('writes IR version 8, opset 17 and the metadata, readable without the graph', () => {
    const info = readModelInfo(encodeModel(tinyModel()));
    expect(info).toEqual({
      irVersion: 8,
      producerName: 'test',
      opsets: { '': 17 },
      metadata: { weights_sha256: 'abc', note: 'ünïcode' },
    });
    expect(() => readModelInfo(Uint8Array.of(0x0a, 0x05, 0x01))).toThrow(ProtoDecodeError);
  });

  it('refuses a tensor whose data does not match its dims', () => {
    const model = tinyModel();
    const broken: OnnxModel = {
      ...model,
      graph: { ...model.graph, initializers: [{ name: 'W', dims: [2, 2], data: Float32Array.of(1, 2, 3) }] },
    };
    expect(() => encodeModel(broken)).toThrow(/need 4 values, got 3/);
  });
});

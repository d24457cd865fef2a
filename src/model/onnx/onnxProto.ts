/**
 * The few ONNX messages this project writes (ModelProto, GraphProto, NodeProto, AttributeProto,
 * TensorProto, ValueInfoProto, TypeProto, TensorShapeProto, OperatorSetIdProto, StringStringEntryProto)
 * as plain objects, and their protobuf encoding. Field numbers are those of onnx/onnx.proto
 * (https://github.com/onnx/onnx/blob/main/onnx/onnx.proto), cited next to each write.
 * No tfjs here: the serving side reads metadata with `readModelInfo` without loading tfjs.
 */
import { ProtoDecodeError, ProtoWriter, readFields, WIRE_LENGTH_DELIMITED, WIRE_VARINT } from './protobuf.ts';

/** IR version 8 (ONNX 1.10+): what opset 17 needs and what onnxruntime 1.30 reads. */
export const ONNX_IR_VERSION = 8;
export const ONNX_OPSET = 17;

export type OnnxDataType = 'float32' | 'int64';
/** TensorProto.DataType values. */
const DATA_TYPE: Record<OnnxDataType, number> = { float32: 1, int64: 7 };

export interface OnnxTensor {
  name: string;
  dims: readonly number[];
  data: Float32Array | BigInt64Array;
}

export type OnnxAttribute =
  | { type: 'int'; value: number }
  | { type: 'float'; value: number }
  | { type: 'ints'; value: readonly number[] }
  | { type: 'floats'; value: readonly number[] }
  | { type: 'string'; value: string }
  | { type: 'tensor'; value: OnnxTensor };

/** Attribute constructors: `{ kernel_shape: attr.ints([3, 3]) }`. */
export const attr = {
  int: (value: number): OnnxAttribute => ({ type: 'int', value }),
  float: (value: number): OnnxAttribute => ({ type: 'float', value }),
  ints: (value: readonly number[]): OnnxAttribute => ({ type: 'ints', value }),
  floats: (value: readonly number[]): OnnxAttribute => ({ type: 'floats', value }),
  string: (value: string): OnnxAttribute => ({ type: 'string', value }),
  tensor: (value: OnnxTensor): OnnxAttribute => ({ type: 'tensor', value }),
};

export interface OnnxNode {
  opType: string;
  inputs: readonly string[];
  outputs: readonly string[];
  name?: string;
  /** Operator set domain; empty (the default) is the standard ai.onnx set. */
  domain?: string;
  attributes?: Readonly<Record<string, OnnxAttribute>>;
}

/** A graph input or output: a tensor type and shape, a string dimension being symbolic (e.g. 'N'). */
export interface OnnxValueInfo {
  name: string;
  elemType: OnnxDataType;
  shape: readonly (number | string)[];
}

export interface OnnxGraph {
  name: string;
  nodes: readonly OnnxNode[];
  initializers: readonly OnnxTensor[];
  inputs: readonly OnnxValueInfo[];
  outputs: readonly OnnxValueInfo[];
  docString?: string;
}

export interface OnnxModel {
  graph: OnnxGraph;
  irVersion?: number;
  /** Version of the default (ai.onnx) operator set. */
  opsetVersion?: number;
  producerName?: string;
  producerVersion?: string;
  docString?: string;
  /** ModelProto.metadata_props: free string pairs. */
  metadata?: Readonly<Record<string, string>>;
}

function tensorRawData(t: OnnxTensor): Uint8Array {
  const count = t.dims.reduce((a, b) => a * b, 1);
  if (t.data.length !== count)
    throw new RangeError(
      `tensor ${t.name}: dims ${JSON.stringify(t.dims)} need ${count} values, got ${t.data.length}`,
    );
  // raw_data is little-endian whatever the host.
  const out = new Uint8Array(t.data.length * (t.data instanceof Float32Array ? 4 : 8));
  const view = new DataView(out.buffer);
  if (t.data instanceof Float32Array) {
    for (let i = 0; i < t.data.length; i++) view.setFloat32(i * 4, t.data[i], true);
  } else {
    for (let i = 0; i < t.data.length; i++) view.setBigInt64(i * 8, t.data[i], true);
  }
  return out;
}

function encodeTensor(t: OnnxTensor): Uint8Array {
  const w = new ProtoWriter();
  for (const d of t.dims) w.varint(1, d); // dims = 1
  w.varint(2, DATA_TYPE[t.data instanceof Float32Array ? 'float32' : 'int64']); // data_type = 2
  w.string(8, t.name); // name = 8
  w.bytes(9, tensorRawData(t)); // raw_data = 9
  return w.finish();
}

/** AttributeProto.AttributeType values. */
const ATTRIBUTE_TYPE = { float: 1, int: 2, string: 3, tensor: 4, floats: 6, ints: 7 } as const;

function encodeAttribute(name: string, a: OnnxAttribute): Uint8Array {
  const w = new ProtoWriter();
  w.string(1, name); // name = 1
  w.varint(20, ATTRIBUTE_TYPE[a.type]); // type = 20
  switch (a.type) {
    case 'float':
      w.float(2, a.value); // f = 2
      break;
    case 'int':
      w.varint(3, a.value); // i = 3
      break;
    case 'string':
      w.string(4, a.value); // s = 4
      break;
    case 'tensor':
      w.message(5, encodeTensor(a.value)); // t = 5
      break;
    case 'floats':
      for (const v of a.value) w.float(7, v); // floats = 7
      break;
    case 'ints':
      for (const v of a.value) w.varint(8, v); // ints = 8
      break;
  }
  return w.finish();
}

function encodeNode(n: OnnxNode): Uint8Array {
  const w = new ProtoWriter();
  for (const i of n.inputs) w.string(1, i); // input = 1
  for (const o of n.outputs) w.string(2, o); // output = 2
  if (n.name) w.string(3, n.name); // name = 3
  w.string(4, n.opType); // op_type = 4
  for (const [name, a] of Object.entries(n.attributes ?? {})) w.message(5, encodeAttribute(name, a)); // attribute = 5
  if (n.domain) w.string(7, n.domain); // domain = 7
  return w.finish();
}

function encodeValueInfo(v: OnnxValueInfo): Uint8Array {
  const shape = new ProtoWriter();
  for (const d of v.shape) {
    // TensorShapeProto.dim = 1; Dimension.dim_value = 1 | dim_param = 2
    const dim = new ProtoWriter();
    if (typeof d === 'number') dim.varint(1, d);
    else dim.string(2, d);
    shape.message(1, dim.finish());
  }
  // TypeProto.Tensor: elem_type = 1, shape = 2
  const tensorType = new ProtoWriter().varint(1, DATA_TYPE[v.elemType]).message(2, shape.finish()).finish();
  const type = new ProtoWriter().message(1, tensorType).finish(); // TypeProto.tensor_type = 1
  return new ProtoWriter().string(1, v.name).message(2, type).finish(); // ValueInfoProto: name = 1, type = 2
}

function encodeGraph(g: OnnxGraph): Uint8Array {
  const w = new ProtoWriter();
  for (const n of g.nodes) w.message(1, encodeNode(n)); // node = 1
  w.string(2, g.name); // name = 2
  for (const t of g.initializers) w.message(5, encodeTensor(t)); // initializer = 5
  if (g.docString) w.string(10, g.docString); // doc_string = 10
  for (const v of g.inputs) w.message(11, encodeValueInfo(v)); // input = 11
  for (const v of g.outputs) w.message(12, encodeValueInfo(v)); // output = 12
  return w.finish();
}

/** Serialises a model to the bytes of a `.onnx` file. */
export function encodeModel(m: OnnxModel): Uint8Array {
  const w = new ProtoWriter();
  w.varint(1, m.irVersion ?? ONNX_IR_VERSION); // ir_version = 1
  if (m.producerName) w.string(2, m.producerName); // producer_name = 2
  if (m.producerVersion) w.string(3, m.producerVersion); // producer_version = 3
  if (m.docString) w.string(6, m.docString); // doc_string = 6
  w.message(7, encodeGraph(m.graph)); // graph = 7
  // opset_import = 8; OperatorSetIdProto: domain = 1 (empty: ai.onnx, left out), version = 2
  w.message(8, new ProtoWriter().varint(2, m.opsetVersion ?? ONNX_OPSET).finish());
  for (const [key, value] of Object.entries(m.metadata ?? {})) {
    // metadata_props = 14; StringStringEntryProto: key = 1, value = 2
    w.message(14, new ProtoWriter().string(1, key).string(2, value).finish());
  }
  return w.finish();
}

export interface OnnxModelInfo {
  irVersion: number;
  producerName: string;
  /** Operator set versions by domain ('' = ai.onnx). */
  opsets: Record<string, number>;
  metadata: Record<string, string>;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * The header fields of a `.onnx` file (IR version, producer, opsets, metadata_props), read without
 * decoding the graph. Throws ProtoDecodeError on bytes that are not a well-formed protobuf message.
 */
export function readModelInfo(bytes: Uint8Array): OnnxModelInfo {
  const info: OnnxModelInfo = { irVersion: 0, producerName: '', opsets: {}, metadata: {} };
  const text = (b: Uint8Array | undefined) => utf8.decode(b ?? new Uint8Array(0));
  for (const f of readFields(bytes)) {
    if (f.field === 1 && f.wireType === WIRE_VARINT) info.irVersion = Number(f.varint);
    else if (f.field === 2 && f.wireType === WIRE_LENGTH_DELIMITED) info.producerName = text(f.bytes);
    else if (f.field === 8 && f.wireType === WIRE_LENGTH_DELIMITED) {
      let domain = '';
      let version = 0;
      for (const g of readFields(f.bytes!)) {
        if (g.field === 1 && g.wireType === WIRE_LENGTH_DELIMITED) domain = text(g.bytes);
        else if (g.field === 2 && g.wireType === WIRE_VARINT) version = Number(g.varint);
      }
      info.opsets[domain] = version;
    } else if (f.field === 14 && f.wireType === WIRE_LENGTH_DELIMITED) {
      let key = '';
      let value = '';
      for (const g of readFields(f.bytes!)) {
        if (g.field === 1 && g.wireType === WIRE_LENGTH_DELIMITED) key = text(g.bytes);
        else if (g.field === 2 && g.wireType === WIRE_LENGTH_DELIMITED) value = text(g.bytes);
      }
      info.metadata[key] = value;
    }
  }
  if (info.irVersion === 0) throw new ProtoDecodeError('no ir_version: not an ONNX model');
  return info;
}

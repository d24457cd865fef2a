/**
 * The protobuf wire format, as much of it as the ONNX writer and reader need: varints (int32, int64,
 * enums), 32-bit floats, and length-delimited fields (strings, bytes, sub-messages). Repeated scalars
 * are written unpacked, one field each, as proto2 declares ONNX's (parsers accept both forms).
 * https://protobuf.dev/programming-guides/encoding/
 */

export const WIRE_VARINT = 0;
export const WIRE_FIXED64 = 1;
export const WIRE_LENGTH_DELIMITED = 2;
export const WIRE_FIXED32 = 5;

const utf8 = new TextEncoder();
const TWO_64 = 1n << 64n;

/** Appends fields to a growing buffer; `finish()` returns the encoded message. */
export class ProtoWriter {
  private buf = new Uint8Array(256);
  private len = 0;

  private reserve(n: number): void {
    if (this.len + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.len + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.len));
    this.buf = next;
  }

  private rawVarint(value: number | bigint): void {
    // Negative int32/int64 values are sign-extended to 64 bits: always ten bytes, as protobuf does.
    let v = BigInt(value);
    if (v < 0n) v += TWO_64;
    if (v < 0n || v >= TWO_64) throw new RangeError(`varint out of the 64-bit range: ${value}`);
    this.reserve(10);
    while (v >= 0x80n) {
      this.buf[this.len++] = Number(v & 0x7fn) | 0x80;
      v >>= 7n;
    }
    this.buf[this.len++] = Number(v);
  }

  private tag(field: number, wireType: number): void {
    if (!Number.isInteger(field) || field < 1 || field > 0x1fffffff)
      throw new RangeError(`invalid field number ${field}`);
    this.rawVarint(field * 8 + wireType);
  }

  private rawBytes(bytes: Uint8Array): void {
    this.reserve(bytes.length);
    this.buf.set(bytes, this.len);
    this.len += bytes.length;
  }

  /** int32, int64 and enum fields. */
  varint(field: number, value: number | bigint): this {
    if (typeof value === 'number' && !Number.isSafeInteger(value))
      throw new RangeError(`field ${field}: ${value} is not a safe integer`);
    this.tag(field, WIRE_VARINT);
    this.rawVarint(value);
    return this;
  }

  float(field: number, value: number): this {
    this.tag(field, WIRE_FIXED32);
    this.reserve(4);
    new DataView(this.buf.buffer, this.buf.byteOffset + this.len, 4).setFloat32(0, value, true);
    this.len += 4;
    return this;
  }

  bytes(field: number, value: Uint8Array): this {
    this.tag(field, WIRE_LENGTH_DELIMITED);
    this.rawVarint(value.length);
    this.rawBytes(value);
    return this;
  }

  string(field: number, value: string): this {
    return this.bytes(field, utf8.encode(value));
  }

  /** An embedded message, already encoded. */
  message(field: number, encoded: Uint8Array): this {
    return this.bytes(field, encoded);
  }

  finish(): Uint8Array {
    return this.buf.slice(0, this.len);
  }
}

/** One field as read from the wire: `varint`, `bytes` (length-delimited) or `fixed` (4 or 8 raw bytes). */
export interface WireField {
  field: number;
  wireType: number;
  varint?: bigint;
  bytes?: Uint8Array;
  fixed?: Uint8Array;
}

export class ProtoDecodeError extends Error {}

/** Iterates over the top-level fields of one encoded message (nested messages stay as bytes). */
export function* readFields(buf: Uint8Array): Generator<WireField> {
  let pos = 0;
  const varint = (): bigint => {
    let result = 0n;
    let shift = 0n;
    for (;;) {
      if (pos >= buf.length) throw new ProtoDecodeError('truncated varint');
      const b = buf[pos++];
      result |= BigInt(b & 0x7f) << shift;
      if ((b & 0x80) === 0) return result;
      shift += 7n;
      if (shift > 63n) throw new ProtoDecodeError('varint longer than 10 bytes');
    }
  };
  const take = (n: number): Uint8Array => {
    if (n < 0 || pos + n > buf.length) throw new ProtoDecodeError('field runs past the end of the message');
    const out = buf.subarray(pos, pos + n);
    pos += n;
    return out;
  };
  while (pos < buf.length) {
    const key = varint();
    const field = Number(key >> 3n);
    const wireType = Number(key & 7n);
    if (field === 0) throw new ProtoDecodeError('field number 0');
    switch (wireType) {
      case WIRE_VARINT:
        yield { field, wireType, varint: varint() };
        break;
      case WIRE_FIXED64:
        yield { field, wireType, fixed: take(8) };
        break;
      case WIRE_LENGTH_DELIMITED: {
        const n = varint();
        if (n > BigInt(buf.length)) throw new ProtoDecodeError('length runs past the end of the message');
        yield { field, wireType, bytes: take(Number(n)) };
        break;
      }
      case WIRE_FIXED32:
        yield { field, wireType, fixed: take(4) };
        break;
      default:
        throw new ProtoDecodeError(`unsupported wire type ${wireType} (field ${field})`);
    }
  }
}

/**
 * safetensors (https://github.com/huggingface/safetensors) for F32 tensors (F64 and I64 too, for PyTorch):
 * [u64 LE header length N][N bytes JSON header, space padded][raw LE data].
 * The decoder treats the file as untrusted: every field is validated before
 * any data is read, and failures are DensenormError('ERR_MODEL_FILE').
 */
import { endianness } from 'node:os';
import { DensenormError, ERR_MODEL_FILE } from '../errors';
import { shapeSize } from '../util/shape';
import { describe, isPlainObject, typeError, rangeError } from '../validate';

export interface NamedTensor {
  name: string;
  shape: number[];
  data: Float32Array;
}

export interface DecodedTensor {
  shape: number[];
  data: Float32Array;
}

/** A tensor of one of the dtypes PyTorch state dicts hold here: F32 weights, I64 counters (num_batches_tracked), F64; I8 for int8 models. */
export interface TypedTensor {
  name: string;
  dtype: 'F32' | 'F64' | 'I64' | 'I8';
  shape: number[];
  data: Float32Array | Float64Array | BigInt64Array | Int8Array;
}

const DTYPE_BYTES: Record<TypedTensor['dtype'], number> = { F32: 4, F64: 8, I64: 8, I8: 1 };

/** Same cap as the reference implementation: a larger header is hostile or corrupt. */
export const MAX_HEADER_BYTES = 100 * 1024 * 1024;
const METADATA_KEY = '__metadata__';
const LITTLE_ENDIAN_HOST = endianness() === 'LE';

function fail(message: string, source?: string): never {
  throw new DensenormError(`${source ? `${source}: ` : ''}invalid safetensors file: ${message}`, ERR_MODEL_FILE);
}

/** Serializes tensors (data in the given order) plus optional string metadata. */
export function encodeSafetensors(tensors: readonly (NamedTensor | TypedTensor)[], metadata?: Record<string, string>): Buffer {
  if (!Array.isArray(tensors)) throw typeError('an array of { name, shape, data }', 'tensors', tensors);
  const header: Record<string, unknown> = {};
  if (metadata !== undefined) {
    if (!isPlainObject(metadata)) throw typeError('a plain object of strings', 'metadata', metadata);
    for (const [k, v] of Object.entries(metadata)) {
      if (typeof v !== 'string') throw typeError('a string', `metadata[${JSON.stringify(k)}]`, v);
    }
    header[METADATA_KEY] = { ...metadata };
  }
  const seen = new Set<string>();
  let offset = 0;
  tensors.forEach((t, i) => {
    const arg = `tensors[${i}]`;
    if (typeof t !== 'object' || t === null) throw typeError('an object { name, shape, data }', arg, t);
    if (typeof t.name !== 'string') throw typeError('a string', `${arg}.name`, t.name);
    if (t.name === METADATA_KEY || t.name.length === 0) throw rangeError('a non-empty name other than "__metadata__"', `${arg}.name`, t.name);
    if (seen.has(t.name)) throw rangeError('a unique tensor name', `${arg}.name`, t.name);
    seen.add(t.name);
    const dtype: TypedTensor['dtype'] = 'dtype' in t && t.dtype !== undefined ? t.dtype : 'F32';
    const Arr = dtype === 'F32' ? Float32Array : dtype === 'F64' ? Float64Array : dtype === 'I64' ? BigInt64Array : dtype === 'I8' ? Int8Array : undefined;
    if (Arr === undefined) throw rangeError('"F32", "F64", "I64" or "I8"', `${arg}.dtype`, dtype);
    if (!(t.data instanceof Arr)) throw typeError(`a ${Arr.name}`, `${arg}.data`, t.data);
    const shape: unknown = t.shape;
    if (!Array.isArray(shape)) throw typeError('an array of non-negative integers', `${arg}.shape`, shape);
    if (!shape.every((d: unknown) => typeof d === 'number' && Number.isSafeInteger(d) && d >= 0)) {
      throw rangeError('an array of non-negative integers', `${arg}.shape`, shape);
    }
    if (shapeSize(t.shape) !== t.data.length) {
      throw new RangeError(
        `Expected ${shapeSize(t.shape)} values (shape [${t.shape.join(', ')}]) for ${arg}.data but received ${describe(t.data)}`,
      );
    }
    const bytes = t.data.length * DTYPE_BYTES[dtype];
    header[t.name] = { dtype, shape: t.shape.slice(), data_offsets: [offset, offset + bytes] };
    offset += bytes;
  });

  let json = JSON.stringify(header);
  // Pad with spaces so the data section starts 8-byte aligned, as the reference writer does.
  const jsonBytes = Buffer.byteLength(json, 'utf8');
  json += ' '.repeat((8 - (jsonBytes % 8)) % 8);
  const headerLen = Buffer.byteLength(json, 'utf8');

  const out = Buffer.alloc(8 + headerLen + offset);
  out.writeBigUInt64LE(BigInt(headerLen), 0);
  out.write(json, 8, 'utf8');
  let pos = 8 + headerLen;
  for (const t of tensors) {
    const d = t.data;
    if (LITTLE_ENDIAN_HOST || d instanceof Int8Array) {
      out.set(new Uint8Array(d.buffer, d.byteOffset, d.byteLength), pos);
    } else if (d instanceof Float32Array) {
      for (let i = 0; i < d.length; i++) out.writeFloatLE(d[i], pos + 4 * i);
    } else if (d instanceof Float64Array) {
      for (let i = 0; i < d.length; i++) out.writeDoubleLE(d[i], pos + 8 * i);
    } else {
      for (let i = 0; i < d.length; i++) out.writeBigInt64LE(d[i], pos + 8 * i);
    }
    pos += t.data.byteLength;
  }
  return out;
}

interface Entry {
  name: string;
  dtype: TypedTensor['dtype'];
  shape: number[];
  start: number;
  end: number;
}

/** Parses and fully validates a safetensors buffer; returned arrays are fresh copies (aligned, not views into buf). */
export function decodeSafetensors(buf: Buffer | Uint8Array, source?: string): Map<string, DecodedTensor> {
  return decodeSafetensorsWithMetadata(buf, source).tensors;
}

/** Like decodeSafetensors, also returning the "__metadata__" strings ({} when absent). */
export function decodeSafetensorsWithMetadata(
  buf: Buffer | Uint8Array,
  source?: string,
): { tensors: Map<string, DecodedTensor>; metadata: Record<string, string> } {
  const { tensors, metadata } = decodeTyped(buf, ['F32'], source);
  return { tensors: new Map([...tensors].map(([k, t]) => [k, { shape: t.shape, data: t.data as Float32Array }])), metadata };
}

/** Like decodeSafetensorsWithMetadata, also accepting F64 and I64 tensors (PyTorch state dicts). */
export function decodeSafetensorsTyped(
  buf: Buffer | Uint8Array,
  source?: string,
): { tensors: Map<string, TypedTensor>; metadata: Record<string, string> } {
  return decodeTyped(buf, ['F32', 'F64', 'I64'], source);
}

/** F32 and I8 tensors (an int8 quantized model's weights.safetensors). */
export function decodeSafetensorsInt8(
  buf: Buffer | Uint8Array,
  source?: string,
): { tensors: Map<string, TypedTensor>; metadata: Record<string, string> } {
  return decodeTyped(buf, ['F32', 'I8'], source);
}

function decodeTyped(
  buf: Buffer | Uint8Array,
  dtypes: readonly TypedTensor['dtype'][],
  source?: string,
): { tensors: Map<string, TypedTensor>; metadata: Record<string, string> } {
  if (!(buf instanceof Uint8Array)) throw typeError('a Buffer', 'buf', buf);
  if (buf.length < 8) fail(`file is ${buf.length} bytes, shorter than the 8-byte header length prefix`, source);
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const headerLenBig = view.getBigUint64(0, true);
  if (headerLenBig > BigInt(MAX_HEADER_BYTES)) {
    fail(`header length ${headerLenBig} exceeds the ${MAX_HEADER_BYTES}-byte limit`, source);
  }
  const headerLen = Number(headerLenBig);
  if (headerLen < 2) fail(`header length ${headerLen} is too small for a JSON object`, source);
  if (8 + headerLen > buf.length) {
    fail(`header length ${headerLen} exceeds the file size (${buf.length} bytes)`, source);
  }
  const headerBytes = buf.subarray(8, 8 + headerLen);
  if (headerBytes[0] !== 0x7b) fail('header does not start with "{"', source);

  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(headerBytes);
  } catch {
    fail('header is not valid UTF-8', source);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    fail(`header is not valid JSON (${(e as Error).message})`, source);
  }
  if (!isPlainObject(parsed)) fail('header is not a JSON object', source);

  const dataStart = 8 + headerLen;
  const dataLen = buf.length - dataStart;
  const entries: Entry[] = [];
  const metadata: Record<string, string> = {};
  for (const [name, info] of Object.entries(parsed)) {
    if (name === METADATA_KEY) {
      if (!isPlainObject(info)) fail('"__metadata__" is not an object', source);
      for (const [k, v] of Object.entries(info)) {
        if (typeof v !== 'string') fail(`"__metadata__" value for ${JSON.stringify(k)} is not a string`, source);
        metadata[k] = v;
      }
      continue;
    }
    const what = `tensor ${JSON.stringify(name)}`;
    if (!isPlainObject(info)) fail(`${what} entry is not an object`, source);
    const dtype = info.dtype as TypedTensor['dtype'];
    if (!(dtypes as readonly unknown[]).includes(dtype)) {
      fail(`${what} has dtype ${describe(info.dtype)}; only ${dtypes.map((d) => `"${d}"`).join(', ')} ${dtypes.length > 1 ? 'are' : 'is'} supported`, source);
    }
    const size = DTYPE_BYTES[dtype];
    const shape = info.shape;
    if (!Array.isArray(shape) || !shape.every((d): d is number => Number.isSafeInteger(d) && (d as number) >= 0)) {
      fail(`${what} has an invalid shape ${JSON.stringify(shape)} (expected non-negative integers)`, source);
    }
    const offs = info.data_offsets;
    if (
      !Array.isArray(offs) ||
      offs.length !== 2 ||
      !offs.every((o): o is number => Number.isSafeInteger(o) && (o as number) >= 0)
    ) {
      fail(`${what} has invalid data_offsets ${JSON.stringify(offs)} (expected [start, end])`, source);
    }
    const [start, end] = offs;
    if (end < start) fail(`${what} has data_offsets [${start}, ${end}] with end before start`, source);
    if (end > dataLen) {
      fail(`${what} has data_offsets [${start}, ${end}] beyond the ${dataLen}-byte data section`, source);
    }
    const n = shapeSize(shape);
    if (!Number.isSafeInteger(n * size) || n * size !== end - start) {
      fail(`${what} has shape [${shape.join(', ')}] (${n} values, ${n * size} bytes) but data_offsets span ${end - start} bytes`, source);
    }
    entries.push({ name, dtype, shape: shape.slice(), start, end });
  }

  // The format requires the tensors to tile the data section exactly: no overlaps, gaps or trailing bytes.
  entries.sort((a, b) => a.start - b.start || a.end - b.end);
  let expectedStart = 0;
  for (const e of entries) {
    if (e.start < expectedStart) fail(`tensor ${JSON.stringify(e.name)} overlaps the previous tensor's data`, source);
    if (e.start > expectedStart) fail(`gap in the data section before tensor ${JSON.stringify(e.name)} (bytes ${expectedStart}..${e.start})`, source);
    expectedStart = e.end;
  }
  if (expectedStart !== dataLen) {
    fail(`data section is ${dataLen} bytes but the tensors cover ${expectedStart}`, source);
  }

  const out = new Map<string, TypedTensor>();
  for (const e of entries) {
    const n = (e.end - e.start) / DTYPE_BYTES[e.dtype];
    const data = e.dtype === 'F32' ? new Float32Array(n) : e.dtype === 'F64' ? new Float64Array(n) : e.dtype === 'I8' ? new Int8Array(n) : new BigInt64Array(n);
    const src = buf.subarray(dataStart + e.start, dataStart + e.end);
    if (LITTLE_ENDIAN_HOST || data instanceof Int8Array) {
      new Uint8Array(data.buffer).set(src);
    } else {
      const dv = new DataView(src.buffer, src.byteOffset, src.byteLength);
      for (let i = 0; i < n; i++) {
        if (data instanceof Float32Array) data[i] = dv.getFloat32(4 * i, true);
        else if (data instanceof Float64Array) data[i] = dv.getFloat64(8 * i, true);
        else (data as BigInt64Array)[i] = dv.getBigInt64(8 * i, true);
      }
    }
    out.set(e.name, { name: e.name, dtype: e.dtype, shape: e.shape, data });
  }
  return { tensors: out, metadata };
}

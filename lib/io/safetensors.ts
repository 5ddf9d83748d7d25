/**
 * safetensors (https://github.com/huggingface/safetensors) for F32 tensors:
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

/** Same cap as the reference implementation: a larger header is hostile or corrupt. */
export const MAX_HEADER_BYTES = 100 * 1024 * 1024;
const METADATA_KEY = '__metadata__';
const LITTLE_ENDIAN_HOST = endianness() === 'LE';

function fail(message: string, source?: string): never {
  throw new DensenormError(`${source ? `${source}: ` : ''}invalid safetensors file: ${message}`, ERR_MODEL_FILE);
}

/** Serializes tensors (data in the given order) plus optional string metadata. */
export function encodeSafetensors(tensors: readonly NamedTensor[], metadata?: Record<string, string>): Buffer {
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
    if (!(t.data instanceof Float32Array)) throw typeError('a Float32Array', `${arg}.data`, t.data);
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
    const bytes = t.data.length * 4;
    header[t.name] = { dtype: 'F32', shape: t.shape.slice(), data_offsets: [offset, offset + bytes] };
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
    if (LITTLE_ENDIAN_HOST) {
      out.set(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength), pos);
    } else {
      for (let i = 0; i < t.data.length; i++) out.writeFloatLE(t.data[i], pos + 4 * i);
    }
    pos += t.data.byteLength;
  }
  return out;
}

interface Entry {
  name: string;
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
    if (info.dtype !== 'F32') fail(`${what} has dtype ${describe(info.dtype)}; only "F32" is supported`, source);
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
    if (!Number.isSafeInteger(n * 4) || n * 4 !== end - start) {
      fail(`${what} has shape [${shape.join(', ')}] (${n} values, ${n * 4} bytes) but data_offsets span ${end - start} bytes`, source);
    }
    entries.push({ name, shape: shape.slice(), start, end });
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

  const out = new Map<string, DecodedTensor>();
  for (const e of entries) {
    const n = (e.end - e.start) / 4;
    const data = new Float32Array(n);
    const src = buf.subarray(dataStart + e.start, dataStart + e.end);
    if (LITTLE_ENDIAN_HOST) {
      new Uint8Array(data.buffer).set(src);
    } else {
      const dv = new DataView(src.buffer, src.byteOffset, src.byteLength);
      for (let i = 0; i < n; i++) data[i] = dv.getFloat32(4 * i, true);
    }
    out.set(e.name, { shape: e.shape, data });
  }
  return { tensors: out, metadata };
}

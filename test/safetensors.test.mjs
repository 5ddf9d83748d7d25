import { expect } from 'chai';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeSafetensors, decodeSafetensors, decodeSafetensorsTyped, decodeSafetensorsWithMetadata } from '../dist/io/safetensors.js';
import { writeFileAtomic, writeFileAtomicSync } from '../dist/io/atomic.js';
import { DensenormError } from '../dist/errors.js';

const sample = () => [
  { name: 'dense/kernel', shape: [2, 3], data: new Float32Array([1, 2, 3, 4, 5, 6]) },
  { name: 'empty', shape: [0], data: new Float32Array(0) },
  { name: 'bn/moving_mean', shape: [1], data: new Float32Array([-0.5]) },
];

/** Builds a file from an arbitrary header object, for corrupt-file tests. */
function rawFile(header, data = Buffer.alloc(0)) {
  const json = Buffer.from(typeof header === 'string' ? header : JSON.stringify(header));
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(json.length));
  return Buffer.concat([len, json, data]);
}

function expectModelFileError(fn, pattern) {
  let err;
  try {
    fn();
  } catch (e) {
    err = e;
  }
  expect(err, 'expected a throw').to.be.instanceOf(DensenormError);
  expect(err.code).to.equal('ERR_MODEL_FILE');
  expect(err.message).to.match(pattern);
}

describe('safetensors', () => {
  it('round-trips tensors and metadata', () => {
    const buf = encodeSafetensors(sample(), { format: 'densenorm' });
    const { tensors, metadata } = decodeSafetensorsWithMetadata(buf);
    expect(metadata).to.deep.equal({ format: 'densenorm' });
    expect([...tensors.keys()]).to.deep.equal(['dense/kernel', 'empty', 'bn/moving_mean']);
    expect(tensors.get('dense/kernel').shape).to.deep.equal([2, 3]);
    expect(Array.from(tensors.get('dense/kernel').data)).to.deep.equal([1, 2, 3, 4, 5, 6]);
    expect(tensors.get('empty').data.length).to.equal(0);
    expect(tensors.get('bn/moving_mean').data[0]).to.equal(-0.5);
  });

  it('writes an 8-byte aligned, space padded header with F32 entries', () => {
    const buf = encodeSafetensors(sample());
    const n = Number(buf.readBigUInt64LE(0));
    expect(n % 8).to.equal(0);
    const header = JSON.parse(buf.subarray(8, 8 + n).toString('utf8'));
    expect(header['dense/kernel']).to.deep.equal({ dtype: 'F32', shape: [2, 3], data_offsets: [0, 24] });
    expect(buf.length).to.equal(8 + n + 28);
  });

  it('returns fresh aligned copies, not views into the file', () => {
    const buf = encodeSafetensors(sample());
    const t = decodeSafetensors(buf).get('dense/kernel');
    expect(t.data.byteOffset).to.equal(0);
    expect(t.data.buffer).to.not.equal(buf.buffer);
  });

  it('round-trips I64 (0-d, as num_batches_tracked) and F64 tensors; the F32 decoder refuses them', () => {
    const buf = encodeSafetensors([
      { name: 'w', dtype: 'F32', shape: [2], data: new Float32Array([1.5, -2]) },
      { name: 'n', dtype: 'I64', shape: [], data: BigInt64Array.of(-(2n ** 40n)) },
      { name: 'd', dtype: 'F64', shape: [1], data: Float64Array.of(Math.PI) },
    ]);
    const header = JSON.parse(buf.subarray(8, 8 + Number(buf.readBigUInt64LE(0))).toString());
    expect(header.n).to.deep.equal({ dtype: 'I64', shape: [], data_offsets: [8, 16] });
    const t = decodeSafetensorsTyped(buf).tensors;
    expect(t.get('n').data[0]).to.equal(-(2n ** 40n));
    expect(t.get('d').data[0]).to.equal(Math.PI);
    expect(Array.from(t.get('w').data)).to.deep.equal([1.5, -2]);
    expectModelFileError(() => decodeSafetensors(buf), /has dtype a string "I64"; only "F32" is supported/);
    expect(() => encodeSafetensors([{ name: 'n', dtype: 'I64', shape: [1], data: new Float32Array(1) }])).to.throw(TypeError, /BigInt64Array/);
    expect(() => encodeSafetensors([{ name: 'n', dtype: 'BF16', shape: [1], data: new Float32Array(1) }])).to.throw(RangeError, /"F32", "F64", "I64" or "I8"/);
  });

  it('validates encoder input', () => {
    expect(() => encodeSafetensors([{ name: 'a', shape: [2], data: new Float32Array(3) }])).to.throw(RangeError);
    expect(() => encodeSafetensors([{ name: 'a', shape: [1], data: [1] }])).to.throw(TypeError);
    const dup = [
      { name: 'a', shape: [1], data: new Float32Array(1) },
      { name: 'a', shape: [1], data: new Float32Array(1) },
    ];
    expect(() => encodeSafetensors(dup)).to.throw(RangeError, /unique/);
  });

  describe('rejects corrupt files with DensenormError ERR_MODEL_FILE', () => {
    const good = () => encodeSafetensors(sample(), { format: 'densenorm' });

    it('file shorter than 8 bytes', () => expectModelFileError(() => decodeSafetensors(Buffer.alloc(5)), /shorter/));
    it('header length beyond the file', () => {
      const b = good();
      b.writeBigUInt64LE(BigInt(b.length), 0);
      expectModelFileError(() => decodeSafetensors(b), /exceeds the file size/);
    });
    it('huge header length', () => {
      const b = good();
      b.writeBigUInt64LE(2n ** 60n, 0);
      expectModelFileError(() => decodeSafetensors(b), /limit/);
    });
    it('invalid JSON', () => expectModelFileError(() => decodeSafetensors(rawFile('{"a":')), /JSON/));
    it('non-object header', () => expectModelFileError(() => decodeSafetensors(rawFile('[1]')), /"\{"|object/));
    it('unsupported dtype', () =>
      expectModelFileError(
        () => decodeSafetensors(rawFile({ a: { dtype: 'F16', shape: [1], data_offsets: [0, 2] } }, Buffer.alloc(2))),
        /dtype/,
      ));
    it('negative or fractional shape', () =>
      expectModelFileError(
        () => decodeSafetensors(rawFile({ a: { dtype: 'F32', shape: [1.5], data_offsets: [0, 4] } }, Buffer.alloc(4))),
        /shape/,
      ));
    it('byte length not matching shape', () =>
      expectModelFileError(
        () => decodeSafetensors(rawFile({ a: { dtype: 'F32', shape: [2], data_offsets: [0, 4] } }, Buffer.alloc(4))),
        /span 4 bytes/,
      ));
    it('offsets beyond the data section', () =>
      expectModelFileError(
        () => decodeSafetensors(rawFile({ a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] } }, Buffer.alloc(4))),
        /beyond/,
      ));
    it('overlapping tensors', () =>
      expectModelFileError(
        () =>
          decodeSafetensors(
            rawFile(
              {
                a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] },
                b: { dtype: 'F32', shape: [1], data_offsets: [4, 8] },
              },
              Buffer.alloc(8),
            ),
          ),
        /overlaps/,
      ));
    it('gaps between tensors', () =>
      expectModelFileError(
        () => decodeSafetensors(rawFile({ a: { dtype: 'F32', shape: [1], data_offsets: [4, 8] } }, Buffer.alloc(8))),
        /gap/,
      ));
    it('trailing bytes after the last tensor', () =>
      expectModelFileError(() => decodeSafetensors(Buffer.concat([good(), Buffer.alloc(4)])), /cover/));
    it('truncated data', () => {
      const b = good();
      expectModelFileError(() => decodeSafetensors(b.subarray(0, b.length - 4)), /beyond/);
    });
    it('non-string metadata', () =>
      expectModelFileError(() => decodeSafetensors(rawFile({ __metadata__: { a: 1 } })), /__metadata__/));
    it('invalid data_offsets', () =>
      expectModelFileError(
        () => decodeSafetensors(rawFile({ a: { dtype: 'F32', shape: [1], data_offsets: [0] } }, Buffer.alloc(4))),
        /data_offsets/,
      ));
  });
});

describe('writeFileAtomic', () => {
  let dir;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'densenorm-atomic-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('writes and replaces a file, leaving no temp files', async () => {
    const p = join(dir, 'model.safetensors');
    await writeFileAtomic(p, 'first');
    await writeFileAtomic(p, Buffer.from('second'));
    writeFileAtomicSync(join(dir, 'b.txt'), 'sync');
    expect(readFileSync(p, 'utf8')).to.equal('second');
    expect(readFileSync(join(dir, 'b.txt'), 'utf8')).to.equal('sync');
    expect(readdirSync(dir).sort()).to.deep.equal(['b.txt', 'model.safetensors']);
  });

  it('rejects when the directory does not exist', async () => {
    let err;
    try {
      await writeFileAtomic(join(dir, 'missing', 'x'), 'a');
    } catch (e) {
      err = e;
    }
    expect(err).to.have.property('code', 'ENOENT');
  });
});

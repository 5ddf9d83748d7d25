// Property tests (fast-check) at the API boundary: random shapes, types and values for tensor(),
// layers, fit/predict/evaluate arguments, and random byte/JSON mutations and truncations of a saved
// model's files. Every call either works or throws an Error; the process survives; a call rejected
// with a TypeError/RangeError leaves the model unchanged. Seeds are fixed (DENSENORM_FC_SEED
// overrides) so a failure reproduces.
import { expect } from 'chai';
import fc from 'fast-check';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import * as os from 'node:os';
import * as path from 'node:path';

const require = createRequire(import.meta.url);
const dn = require('../dist/index.js');
const isa = dn.backend().isa;
const seed = Number(process.env.DENSENORM_FC_SEED ?? 20240601);
const params = (numRuns) => ({ seed, numRuns });

const isArgError = (e) => e instanceof TypeError || e instanceof RangeError;

/** Numbers that break naive checks. */
const weirdNumber = fc.oneof(
  fc.integer({ min: -5, max: 40 }),
  fc.constantFrom(0, -0, -1, 0.5, 1.5, NaN, Infinity, -Infinity, 2 ** 31, 2 ** 32, 2 ** 53, 2 ** 60, 1e9, 1e300, Number.MAX_SAFE_INTEGER + 2),
  fc.double(),
);
const weirdValue = fc.oneof(
  weirdNumber,
  fc.string({ maxLength: 5 }),
  fc.constantFrom(null, undefined, true, false, [], {}, [1, 2], () => 1, Symbol('s'), 10n),
);

/** Random "tensor-like" input: typed arrays of many kinds, nested arrays, ragged arrays, junk. */
function tensorLike(maxLen = 24) {
  const nums = fc.array(fc.oneof(fc.float({ noDefaultInfinity: false }), weirdNumber), { maxLength: maxLen });
  return fc.oneof(
    nums.map((a) => Float32Array.from(a, Number)),
    nums.map((a) => Float64Array.from(a, Number)),
    nums.map((a) => Int32Array.from(a, (v) => v | 0)),
    nums,
    fc.array(fc.array(fc.oneof(fc.float(), weirdNumber), { maxLength: 5 }), { maxLength: 6 }),
    fc.array(fc.array(weirdValue, { maxLength: 4 }), { maxLength: 4 }),
    nums.map((a) => {
      const t = Float32Array.from(a, Number);
      structuredClone(t.buffer, { transfer: [t.buffer] });
      return t;
    }),
    weirdValue,
  );
}
const shapeLike = fc.oneof(
  fc.constant(undefined),
  fc.array(fc.oneof(fc.integer({ min: 0, max: 8 }), weirdNumber), { maxLength: 4 }),
  weirdValue,
);

describe(`property tests at the API boundary (isa=${isa})`, function () {
  this.timeout(60000);

  it('tensor(values, shape): a consistent Tensor or a TypeError/RangeError', () => {
    fc.assert(
      fc.property(tensorLike(), shapeLike, (values, shape) => {
        let t;
        try {
          t = dn.tensor(values, shape);
        } catch (e) {
          expect(isArgError(e), String(e)).to.equal(true);
          return;
        }
        const size = t.shape.reduce((a, b) => a * b, 1);
        expect(t.data).to.be.instanceOf(Float32Array);
        expect(t.data.length).to.equal(size);
        expect(t.shape.every((d) => Number.isSafeInteger(d) && d > 0)).to.equal(true);
      }),
      params(400),
    );
  });

  it('layer constructors with random options: a layer or a TypeError/RangeError', () => {
    const actName = fc.oneof(fc.constantFrom('relu', 'sigmoid', 'tanh', 'softmax', 'linear', 'gelu', ''), weirdValue);
    const opts = fc.record(
      {
        units: weirdNumber,
        inputShape: fc.oneof(fc.array(weirdNumber, { maxLength: 2 }), weirdValue),
        activation: actName,
        useBias: weirdValue,
        momentum: weirdNumber,
        epsilon: weirdNumber,
        name: fc.oneof(fc.string({ maxLength: 6 }), weirdValue),
        kernelInitializer: fc.oneof(fc.constantFrom('glorotUniform', 'heNormal', 'zeros', 'nope'), weirdValue),
      },
      { requiredKeys: [] },
    );
    fc.assert(
      fc.property(fc.constantFrom('dense', 'batchNormalization', 'activation'), opts, (kind, o) => {
        try {
          const l = dn.layers[kind](o);
          // a layer that was accepted can be built into a model and run on one row, unless its
          // declared size is too big to be reasonable in a test
          const features = l.batchInputShape?.[1] ?? 3;
          if (features * (l.units ?? features) > 1e6) return;
          const m = dn.sequential({ layers: [l] });
          const out = m.predict(new Float32Array(features), { batchSize: 1 });
          expect(out.shape[0]).to.equal(1);
        } catch (e) {
          expect(isArgError(e) || e.name === 'DensenormError', String(e)).to.equal(true);
        }
      }),
      params(300),
    );
  });

  it('fit / trainOnBatch / predict / evaluate with random arguments: work or throw; argument errors leave the model unchanged', async () => {
    const X = new Float32Array([0.1, 0.2, 0.3, 1, -1, 0.5, -0.3, 0.7, 2, 0, 0, 1]);
    const fitArgs = fc.oneof(
      fc.record(
        {
          epochs: fc.oneof(fc.integer({ min: 1, max: 2 }), weirdNumber),
          batchSize: fc.oneof(fc.integer({ min: 1, max: 5 }), weirdNumber),
          shuffle: weirdValue,
          validationSplit: fc.oneof(fc.double({ min: 0, max: 0.9, noNaN: true }), weirdNumber),
          seed: weirdNumber,
          verbose: fc.constant(0),
        },
        { requiredKeys: [] },
      ).map((a) => (typeof a.epochs === 'number' && a.epochs > 2 ? { ...a, epochs: 2 } : a)),
      weirdValue,
    );
    // well-formed data often enough that training itself runs, not only the checks
    const small = fc.oneof(fc.integer({ min: 0, max: 2 }), fc.float({ min: -2, max: 2, noNaN: true }));
    const rows3 = fc.array(fc.array(small, { minLength: 3, maxLength: 3 }), { minLength: 1, maxLength: 7 });
    const ids = fc.array(fc.integer({ min: -1, max: 3 }), { minLength: 1, maxLength: 7 });
    const loss = fc.constantFrom('categoricalCrossentropy', 'sparseCategoricalCrossentropy', 'meanSquaredError', 'binaryCrossentropy');
    await fc.assert(
      fc.asyncProperty(loss, fc.oneof(rows3, tensorLike(16)), fc.oneof(rows3, ids, tensorLike(16)), fitArgs, fc.integer({ min: 0, max: 3 }), async (lossName, x, y, args, op) => {
        dn.setSeed(3);
        const m = dn.sequential({
          layers: [
            dn.layers.dense({ units: 4, inputShape: [3] }),
            dn.layers.batchNormalization(),
            dn.layers.activation({ activation: 'relu' }),
            dn.layers.dense({ units: 3, activation: lossName === 'binaryCrossentropy' ? 'sigmoid' : 'softmax' }),
          ],
        });
        m.compile({ optimizer: 'adam', loss: lossName });
        const before = Array.from(m.predict(X).data);
        const weights = m.getWeights().map((t) => Array.from(t.data));
        try {
          if (op === 0) await m.fit(x, y, args);
          else if (op === 1) m.trainOnBatch(x, y);
          else if (op === 2) m.predict(x, typeof args === 'object' && args && 'batchSize' in args ? { batchSize: args.batchSize } : undefined);
          else m.evaluate(x, y);
        } catch (e) {
          expect(e).to.be.instanceOf(Error);
          if (isArgError(e)) {
            expect(m.getWeights().map((t) => Array.from(t.data))).to.deep.equal(weights);
            expect(Array.from(m.predict(X).data)).to.deep.equal(before);
          }
        }
        expect(m.isTraining).to.equal(false);
        expect(m.predict(X).data.length).to.equal(12);
      }),
      params(250),
    );
  });

  describe('mutated model files', () => {
    let tmp;
    let files;
    before(async () => {
      tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'densenorm-fuzz-'));
      dn.setSeed(8);
      const m = dn.sequential({
        layers: [
          dn.layers.dense({ units: 4, inputShape: [3], name: 'fz_d1' }),
          dn.layers.batchNormalization({ name: 'fz_bn', momentum: null }),
          dn.layers.activation({ activation: 'tanh', name: 'fz_act' }),
          dn.layers.dense({ units: 2, useBias: false, name: 'fz_d2' }),
        ],
      });
      const d = path.join(tmp, 'orig');
      await m.save(d);
      files = {
        json: fs.readFileSync(path.join(d, 'model.json')),
        weights: fs.readFileSync(path.join(d, 'weights.safetensors')),
      };
    });
    after(() => fs.rmSync(tmp, { recursive: true, force: true }));

    let n = 0;
    async function loadMutated(json, weights, fixSha) {
      const d = path.join(tmp, `m${n++}`);
      fs.mkdirSync(d);
      let j = json;
      if (fixSha) {
        // keep the SHA-256 consistent so the structural checks, not the hash, are what is tested
        try {
          const parsed = JSON.parse(json.toString('utf8'));
          if (parsed && typeof parsed === 'object' && parsed.weights && typeof parsed.weights === 'object') {
            parsed.weights.sha256 = createHash('sha256').update(weights).digest('hex');
            j = Buffer.from(JSON.stringify(parsed));
          }
        } catch {
          // unparsable: leave as is
        }
      }
      fs.writeFileSync(path.join(d, 'model.json'), j);
      fs.writeFileSync(path.join(d, 'weights.safetensors'), weights);
      try {
        const m = await dn.loadModel(d);
        const out = m.predict(new Float32Array([0.5, -0.5, 1]));
        expect(out.data.length).to.equal(m.outputDim);
      } catch (e) {
        expect(e).to.be.instanceOf(Error);
      } finally {
        fs.rmSync(d, { recursive: true, force: true });
      }
    }

    /** Byte-level edits: flips, overwrites, truncation, insertion, duplication. */
    const mutation = fc.oneof(
      fc.record({ kind: fc.constant('flip'), at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }),
      fc.record({ kind: fc.constant('set'), at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }),
      fc.record({ kind: fc.constant('truncate'), at: fc.nat() }),
      fc.record({ kind: fc.constant('insert'), at: fc.nat(), bytes: fc.uint8Array({ maxLength: 16 }) }),
      fc.record({ kind: fc.constant('u64'), value: fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }) }),
    );
    function mutate(buf, muts) {
      let b = Buffer.from(buf);
      for (const m of muts) {
        if (b.length === 0) break;
        const at = m.at === undefined ? 0 : m.at % b.length;
        if (m.kind === 'flip') b[at] ^= 1 << m.bit;
        else if (m.kind === 'set') b[at] = m.value;
        else if (m.kind === 'truncate') b = b.subarray(0, at);
        else if (m.kind === 'insert') b = Buffer.concat([b.subarray(0, at), Buffer.from(m.bytes), b.subarray(at)]);
        else if (m.kind === 'u64' && b.length >= 8) b.writeBigUInt64LE(m.value, 0);
      }
      return b;
    }

    it('random byte mutations and truncations of weights.safetensors (hash fixed or not): load or throw', async () => {
      await fc.assert(
        fc.asyncProperty(fc.array(mutation, { minLength: 1, maxLength: 4 }), fc.boolean(), async (muts, fixSha) => {
          await loadMutated(files.json, mutate(files.weights, muts), fixSha);
        }),
        params(200),
      );
    });

    it('random byte mutations and truncations of model.json: load or throw', async () => {
      await fc.assert(
        fc.asyncProperty(fc.array(mutation.filter((m) => m.kind !== 'u64'), { minLength: 1, maxLength: 4 }), async (muts) => {
          await loadMutated(mutate(files.json, muts), files.weights, false);
        }),
        params(200),
      );
    });

    it('random JSON values replacing parts of model.json: load or throw', async () => {
      const orig = JSON.parse(files.json.toString('utf8'));
      // every path to a value in the document
      const paths = [];
      (function walk(v, p) {
        paths.push(p);
        if (v && typeof v === 'object') for (const k of Object.keys(v)) walk(v[k], [...p, k]);
      })(orig, []);
      const replacement = fc.oneof(fc.jsonValue({ maxDepth: 2 }), weirdNumber.filter((v) => Number.isFinite(v)));
      await fc.assert(
        fc.asyncProperty(fc.array(fc.tuple(fc.constantFrom(...paths.slice(1)), replacement), { minLength: 1, maxLength: 3 }), async (edits) => {
          const doc = structuredClone(orig);
          for (const [p, v] of edits) {
            let o = doc;
            for (const k of p.slice(0, -1)) {
              if (!o || typeof o !== 'object') break;
              o = o[k];
            }
            if (o && typeof o === 'object') o[p[p.length - 1]] = v;
          }
          await loadMutated(Buffer.from(JSON.stringify(doc)), files.weights, false);
        }),
        params(250),
      );
    });
  });
});

// bf16 mixed precision (compile precision 'mixed_bfloat16'): the bf16 GEMM on every ISA path this
// CPU has against the bit-level reference (test/bf16_reference.mjs) and a float64 bound, the
// native VDPBF16PS path's dispatch (never chosen without the CPUID bit; DENSENORM_BF16=emulate
// forces the emulation), and models trained with the policy: accuracy, gradients, fp32 state.
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { gemmRef, randomArray, rng } from './reference.mjs';
import { gemmBf16Ref, roundBf16 } from './bf16_reference.mjs';

const require = createRequire(import.meta.url);
const { native } = require('../dist/native.js');
const dn = require('../dist/index.js');
const { available, isa: activeIsa } = native.backend();
const info = native.bf16Info();
const SHAPES = [[1, 1, 1], [3, 17, 33], [17, 3, 257], [33, 257, 3], [257, 33, 17], [5, 40, 600], [9, 1, 513]];

function sameBits(got, want, label) {
  for (let i = 0; i < want.length; i++)
    if (!Object.is(got[i], want[i])) expect.fail(`${label}: element ${i} is ${got[i]}, reference ${want[i]}`);
}

function runBf16(isa, path, ta, tb, M, N, K, A, B, C0, acc) {
  const C = C0 ? Float32Array.from(C0) : new Float32Array(M * N);
  native.gemmBf16(isa, path, ta, tb, M, N, K, A, B, C, acc);
  return C;
}

describe('bf16 rounding (VCVTNEPS2BF16 rules) through a 1×1×1 product', () => {
  const one = Float32Array.of(1);
  const cases = [
    [1 + 2 ** -8, 1], // tie → even
    [1 + 3 * 2 ** -8, 1 + 2 ** -6], // tie → even (up)
    [1 + 2 ** -8 + 2 ** -20, 1 + 2 ** -7],
    [-2.5e-40, -0], // denormal → signed zero
    [Infinity, Infinity],
    [-Infinity, -Infinity],
    [3.4028234663852886e38, Infinity], // rounds past bf16's largest finite value
  ];
  for (const isa of available)
    it(`${isa}: ties to even, denormals to zero, infinities kept, NaN stays NaN`, () => {
      for (const [x, want] of cases) {
        expect(roundBf16(x), `reference ${x}`).to.satisfy((v) => Object.is(v, want));
        const C = runBf16(isa, 'emulate', false, false, 1, 1, 1, Float32Array.of(x), one, null, false);
        // the product's accumulator starts at +0, so a signed zero comes out as +0
        expect(Object.is(C[0], want === 0 ? 0 : want), `${isa} ${x} → ${C[0]}`).to.equal(true);
      }
      const C = runBf16(isa, 'emulate', false, false, 1, 1, 1, Float32Array.of(NaN), one, null, false);
      expect(Number.isNaN(C[0])).to.equal(true);
    });
});

describe('bf16 GEMM vs the bit-level reference and float64', () => {
  for (const isa of ['scalar', 'avx2', 'avx512']) {
    const run = available.includes(isa) ? describe : describe.skip;
    run(`${isa} table (emulated)`, () => {
      for (const ta of [false, true])
        for (const tb of [false, true])
          it(`transA=${ta} transB=${tb} on odd shapes, K across blocks, accumulate`, () => {
            const rand = rng(31 + 2 * Number(ta) + Number(tb));
            for (const [M, N, K] of SHAPES) {
              const A = randomArray(M * K, rand, 1);
              const B = randomArray(K * N, rand, 1);
              const C0 = randomArray(M * N, rand, 1);
              for (const acc of [false, true]) {
                const got = runBf16(isa, 'emulate', ta, tb, M, N, K, A, B, C0, acc);
                sameBits(got, gemmBf16Ref(ta, tb, M, N, K, A, B, C0, acc), `${isa} ${M}x${N}x${K} acc=${acc}`);
                // float64 bound: each operand within 2^-9 relative, fp32 sums of K terms
                const ref = gemmRef(ta, tb, M, N, K, A, B);
                for (let i = 0; i < M * N; i++) {
                  const want = ref[i] + (acc ? C0[i] : 0);
                  expect(Math.abs(got[i] - want), `${M}x${N}x${K}[${i}]`).to.be.at.most(2 * 2 ** -8 * K + 1e-6 * K);
                }
              }
            }
          });
    });
  }

  it('the threaded driver gives the single-call bits on 1 and 2 threads (with statistics)', () => {
    const rand = rng(5);
    const [M, N, K] = [300, 200, 700];
    const A = randomArray(M * K, rand, 1), B = randomArray(K * N, rand, 1);
    const want = gemmBf16Ref(false, false, M, N, K, A, B, null, false);
    const shift = randomArray(N, rand, 0.5);
    const parts = [];
    const threads = native.backend().threads;
    try {
      for (const t of [1, 2]) {
        native.setNumThreads(t);
        const C = new Float32Array(M * N);
        const part = new Float32Array(Math.ceil(M / 24) * 2 * N);
        native.gemmBf16(null, null, false, false, M, N, K, A, B, C, false, shift, part);
        sameBits(C, want, `${t} threads`);
        parts.push(part);
      }
    } finally {
      native.setNumThreads(threads);
    }
    sameBits(parts[1], parts[0], 'statistics, 2 threads vs 1');
    // the statistics are the shifted sums of the final C
    for (let j = 0; j < N; j += 37) {
      let s1 = 0, s2 = 0;
      for (let i = 0; i < 24; i++) { const d = want[i * N + j] - shift[j]; s1 += d; s2 += d * d; }
      expect(parts[0][j]).to.be.closeTo(s1, 1e-4 * (1 + Math.abs(s1)));
      expect(parts[0][N + j]).to.be.closeTo(s2, 1e-4 * (1 + s2));
    }
  });

  it('every ISA path gives the same bits (the K blocks do not depend on the ISA)', () => {
    const rand = rng(8);
    const [M, N, K] = [37, 45, 530];
    const A = randomArray(M * K, rand, 1), B = randomArray(K * N, rand, 1);
    const outs = available.map((isa) => runBf16(isa, 'emulate', false, true, M, N, K, A, B, null, false));
    for (const o of outs.slice(1)) sameBits(o, outs[0], 'ISA paths');
  });
});

describe('native VDPBF16PS path and its dispatch', () => {
  it(`this CPU ${info.cpu ? 'has' : 'lacks'} AVX512_BF16; mixed_bfloat16 ${info.native ? 'runs the native kernel' : 'runs the emulation'}`, () => {
    expect(info.error).to.equal(null);
    if (!info.cpu) {
      expect(info.native).to.equal(false);
      expect(() => native.gemmBf16('avx512', 'native', false, false, 1, 1, 1, new Float32Array(1), new Float32Array(1), new Float32Array(1), false))
        .to.throw(RangeError, /bf16 path this CPU supports/);
    } else {
      expect(info.native).to.equal(activeIsa === 'avx512');
      // native and emulated agree bit for bit away from fp32 denormals
      const rand = rng(9);
      for (const [M, N, K] of SHAPES) {
        const A = randomArray(M * K, rand, 1), B = randomArray(K * N, rand, 1);
        sameBits(runBf16('avx512', 'native', false, false, M, N, K, A, B, null, false),
          runBf16('avx512', 'emulate', false, false, M, N, K, A, B, null, false), `native ${M}x${N}x${K}`);
      }
    }
  });

  const child = (env, code) => spawnSync(process.execPath, ['-e', code], { env: { ...process.env, ...env }, encoding: 'utf8' });
  const probe = `const {native}=require('./dist/native.js');const dn=require('./dist/index.js');` +
    `let err=null;try{const m=dn.sequential();m.add(dn.layers.dense({units:2,inputShape:[3]}));` +
    `m.compile({optimizer:'sgd',loss:'meanSquaredError',precision:'mixed_bfloat16'});` +
    `m.predict(dn.tensor(new Float32Array(3),[1,3]))}catch(e){err=e.message}` +
    `console.log(JSON.stringify({...native.bf16Info(),err}))`;

  it('DENSENORM_BF16=emulate forces the emulation; the native kernel is never chosen without the CPUID bit', () => {
    const r = child({ DENSENORM_BF16: 'emulate' }, probe);
    expect(r.status, r.stderr).to.equal(0);
    const o = JSON.parse(r.stdout);
    expect(o.native).to.equal(false);
    expect(o.err).to.equal(null);
    if (!info.cpu) expect(info.native).to.equal(false);
  });

  it('DENSENORM_BF16 with an unknown value, or native on a CPU without it, fails compile\'s first use by name', () => {
    const bad = JSON.parse(child({ DENSENORM_BF16: 'fast' }, probe).stdout);
    expect(bad.err).to.match(/DENSENORM_BF16=fast is not one of auto, emulate, native/);
    if (!info.cpu) {
      const nat = JSON.parse(child({ DENSENORM_BF16: 'native' }, probe).stdout);
      expect(nat.err).to.match(/DENSENORM_BF16=native but this CPU lacks AVX512_BF16/);
    }
  });
});

function mnistModel(precision, units = 256) {
  const model = dn.sequential();
  model.add(dn.layers.dense({ units, inputShape: [784], useBias: false }));
  model.add(dn.layers.batchNormalization());
  model.add(dn.layers.activation({ activation: 'relu' }));
  model.add(dn.layers.dense({ units: 10, activation: 'softmax' }));
  model.compile({ optimizer: dn.optimizers.adam({ learningRate: 1e-3 }), loss: 'categoricalCrossentropy', metrics: ['accuracy'], ...(precision ? { precision } : {}) });
  return model;
}

describe("compile({ precision: 'mixed_bfloat16' })", () => {
  it('rejects other values by name (RangeError, TypeError for a non-string)', () => {
    const m = dn.sequential();
    m.add(dn.layers.dense({ units: 2, inputShape: [3] }));
    expect(() => m.compile({ optimizer: 'sgd', loss: 'meanSquaredError', precision: 'bfloat16' }))
      .to.throw(RangeError, /"float32" or "mixed_bfloat16" for precision but received.*bfloat16/);
    expect(() => m.compile({ optimizer: 'sgd', loss: 'meanSquaredError', precision: 16 })).to.throw(TypeError, /precision/);
  });

  it("'float32' is the default and gives the default's bits", async () => {
    const x = dn.tensor(randomArray(64 * 784, rng(3), 1), [64, 784]);
    const y = dn.tensor(new Float32Array(64 * 10).map((_, i) => (i % 10 === (i / 10 | 0) % 10 ? 1 : 0)), [64, 10]);
    const w = [];
    for (const p of [undefined, 'float32']) {
      dn.setSeed(4);
      const m = mnistModel(p, 32);
      await m.fit(x, y, { epochs: 1, batchSize: 16, shuffle: false, verbose: 0 });
      w.push(m.getWeights().map((t) => Array.from(t.data)));
    }
    expect(w[1]).to.deep.equal(w[0]);
  });

  it('bundled MNIST (the quickstart model, fixed seed): within 0.3 pp of float32; weights stay fp32; packed and unpacked predict agree', async function () {
    this.timeout(120000);
    const { xTrain, yTrain, xTest, yTest } = dn.loadMnist();
    const acc = {};
    let bfModel;
    for (const p of ['float32', 'mixed_bfloat16']) {
      dn.setSeed(1);
      const m = mnistModel(p);
      await m.fit(xTrain, yTrain, { epochs: 2, batchSize: 64, shuffle: true, seed: 1, verbose: 0 });
      acc[p] = m.evaluate(xTest, yTest).accuracy;
      if (p === 'mixed_bfloat16') bfModel = m;
    }
    expect(acc.float32).to.be.above(0.9);
    expect(Math.abs(acc.mixed_bfloat16 - acc.float32), JSON.stringify(acc)).to.be.at.most(0.003);
    // fp32 master weights: the update is not rounded to bf16
    const k = bfModel.getWeights()[0].data;
    expect(Array.from(k.subarray(0, 1000)).some((v) => roundBf16(v) !== v)).to.equal(true);
    // inference: packed bf16 kernels (9+ rows) give the bits of packing per call
    const xs = dn.tensor(xTest.data.subarray(0, 40 * 784), [40, 784]);
    const a = bfModel.predict(xs).data;
    native.setPackedInference(false);
    try {
      sameBits(bfModel.predict(xs).data, a, 'unpacked predict');
    } finally {
      native.setPackedInference(null);
    }
  });
});

describe('gradients in mixed_bfloat16', () => {
  // Dense → BN → tanh → Dense(bias) → MSE, through the NativeNet spec.
  function net(precision, seed) {
    const rand = rng(seed);
    const k1 = randomArray(6 * 5, rand, 0.7), b2 = randomArray(3, rand, 0.3), k2 = randomArray(5 * 3, rand, 0.7);
    const g = { k1: new Float32Array(30), k2: new Float32Array(15), b2: new Float32Array(3), gamma: new Float32Array(5), beta: new Float32Array(5) };
    const gamma = randomArray(5, rand, 0.3, 1), beta = randomArray(5, rand, 0.3);
    const spec = {
      inputFeatures: 6,
      ops: [
        { op: 'dense', units: 5, activation: 'linear', trainable: true, kernel: k1, gradKernel: g.k1 },
        { op: 'batchNormalization', gamma, beta, gradGamma: g.gamma, gradBeta: g.beta, movingMean: new Float32Array(5), movingVariance: new Float32Array(5).fill(1), epsilon: 1e-3, momentum: 0.9, trainable: true },
        { op: 'activation', activation: 'tanh' },
        { op: 'dense', units: 3, activation: 'linear', trainable: true, kernel: k2, bias: b2, gradKernel: g.k2, gradBias: g.b2 },
      ],
      loss: 3, optimizer: { type: 0, learningRate: 0.01 }, params: [], precision,
    };
    return { net: new native.NativeNet(spec), values: { k1, k2, b2, gamma, beta }, g };
  }

  it('match float32 within bf16 precision and central differences of the bf16 loss', () => {
    const B = 9;
    const x = randomArray(B * 6, rng(2), 1), y = randomArray(B * 3, rng(3), 1);
    const f = net('float32', 7), b = net('mixed_bfloat16', 7);
    f.net.lossAndGrad(x, B, y, false);
    const lossB = b.net.lossAndGrad(x, B, y, false).loss;
    const snap = Object.fromEntries(Object.entries(b.g).map(([k, v]) => [k, Float64Array.from(v)]));
    const lossFn = () => b.net.lossAndGrad(x, B, y, false).loss;
    expect(lossFn()).to.equal(lossB);
    let checked = 0;
    for (const name of Object.keys(b.g)) {
      const gf = f.g[name], gb = snap[name];
      const scale = Math.max(...Array.from(gf, Math.abs));
      expect(scale, name).to.be.above(1e-3);
      // bf16 operands: 2^-8 relative per input, a few layers deep
      for (let i = 0; i < gf.length; i++) expect(Math.abs(gb[i] - gf[i]), `${name}[${i}] vs fp32`).to.be.at.most(8 * 2 ** -8 * scale);
      // central differences with a step of many bf16 ulps (the rounded loss is piecewise constant)
      const vals = b.values[name];
      for (let i = 0; i < vals.length; i += 2) {
        const orig = vals[i], h = 0.05;
        vals[i] = orig + h; const lp = lossFn();
        vals[i] = orig - h; const lm = lossFn();
        vals[i] = orig;
        const num = (lp - lm) / (2 * h);
        expect(Math.abs(num - gb[i]), `${name}[${i}] numeric ${num} analytic ${gb[i]}`).to.be.at.most(0.05 * Math.abs(gb[i]) + 16 * 2 ** -8 * scale);
        checked++;
      }
    }
    expect(checked).to.be.above(20);
  });
});

// The normalization family: layerNormalization (and RMS scaling), groupNormalization, and batch
// normalization's renorm and virtualBatchSize (ghost BN). Native forward and backward against
// float64 references on odd shapes and finite differences, thread-count and fusion bit-identity,
// the degenerate settings that must equal plain batch norm bit for bit, errors, serialization,
// and one SGD step against PyTorch's nn.LayerNorm / nn.GroupNorm when /usr/bin/python3 has torch.
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { dn, native, caught } from './helpers.mjs';
import { randomArray, rng, relErr } from './reference.mjs';

const ACT = {
  linear: (v) => v,
  relu: (v) => Math.max(v, 0),
  tanh: Math.tanh,
  sigmoid: (v) => 1 / (1 + Math.exp(-v)),
};

// Float64 row normalization of h [B × n] per row and group.
function rowNormRef(h, B, n, { groups = 1, rms = false, eps, gamma, beta }) {
  const G = n / groups;
  const out = new Float64Array(B * n);
  for (let i = 0; i < B; i++) {
    for (let g = 0; g < groups; g++) {
      let m = 0;
      if (!rms) {
        for (let j = g * G; j < (g + 1) * G; j++) m += h[i * n + j];
        m /= G;
      }
      let v = 0;
      for (let j = g * G; j < (g + 1) * G; j++) v += (h[i * n + j] - m) ** 2;
      v /= G;
      const is = 1 / Math.sqrt(v + eps);
      for (let j = g * G; j < (g + 1) * G; j++) {
        out[i * n + j] = (h[i * n + j] - m) * is * (gamma ? gamma[j] : 1) + (beta ? beta[j] : 0);
      }
    }
  }
  return out;
}

function denseRef(x, B, inF, W, b, n) {
  const h = new Float64Array(B * n);
  for (let i = 0; i < B; i++) {
    for (let j = 0; j < n; j++) {
      let s = b ? b[j] : 0;
      for (let k = 0; k < inF; k++) s += x[i * inF + k] * W[k * n + j];
      h[i * n + j] = s;
    }
  }
  return h;
}

// Dense(inF → n) → norm → act → Dense(n → out), MSE loss, as a native op list.
function makeNet({ inF, n, out = 3, kind = 'layer', groups = 1, rms = false, act = 'relu', center = true, scale = true, seed = 1, fuse }) {
  const rand = rng(seed);
  const W1 = randomArray(inF * n, rand, Math.sqrt(3 / inF));
  const b1 = randomArray(n, rand, 0.5);
  const gamma = scale || rms ? randomArray(n, rand, 0.3, 1) : undefined;
  const beta = center && !rms ? randomArray(n, rand, 0.3) : undefined;
  const W2 = randomArray(n * out, rand, Math.sqrt(3 / n));
  const b2 = randomArray(out, rand, 0.1);
  const grads = { W1: new Float32Array(W1.length), b1: new Float32Array(n), W2: new Float32Array(W2.length), b2: new Float32Array(out) };
  if (gamma) grads.gamma = new Float32Array(n);
  if (beta) grads.beta = new Float32Array(n);
  const norm = kind === 'layer'
    ? { op: 'layerNormalization', rms }
    : { op: 'groupNormalization', groups };
  const ops = [
    { op: 'dense', units: n, activation: 'linear', trainable: true, kernel: W1, bias: b1, gradKernel: grads.W1, gradBias: grads.b1 },
    { ...norm, epsilon: 1e-3, gamma, beta, gradGamma: grads.gamma, gradBeta: grads.beta },
    { op: 'activation', activation: act },
    { op: 'dense', units: out, activation: 'linear', trainable: true, kernel: W2, bias: b2, gradKernel: grads.W2, gradBias: grads.b2 },
  ];
  const spec = { inputFeatures: inF, ops, loss: 3, optimizer: { type: 0, learningRate: 0.01 }, params: [] };
  if (fuse !== undefined) spec.fuse = fuse;
  const net = new native.NativeNet(spec);
  const params = { W1, b1, gamma, beta, W2, b2 };
  const ref = (x, B) => {
    const h = denseRef(x, B, inF, W1, b1, n);
    const y = rowNormRef(h, B, n, { groups: kind === 'layer' ? 1 : groups, rms, eps: 1e-3, gamma, beta }).map(ACT[act]);
    return denseRef(y, B, n, W2, b2, out);
  };
  return { net, params, grads, ref, out, rand };
}

// Central difference of f with respect to arr[k], with the float32-rounded steps.
function centralDiff(arr, k, f, H) {
  const orig = arr[k];
  arr[k] = orig + H;
  const hp = arr[k] - orig;
  const fp = f();
  arr[k] = orig - H;
  const hm = arr[k] - orig;
  const fm = f();
  arr[k] = orig;
  return (fp - fm) / (hp - hm);
}

const SHAPES = [
  { n: 1, groups: [1] },
  { n: 3, groups: [1, 3] },
  { n: 17, groups: [1, 17] },
  { n: 33, groups: [3, 11] },
  { n: 257, groups: [1, 257] },
];

describe(`normalization family (${native.backend().isa})`, () => {
  describe('layer and group normalization against float64', () => {
    for (const { n, groups } of SHAPES) {
      for (const B of [1, 5]) {
        const cases = [
          { kind: 'layer' },
          { kind: 'layer', rms: true },
          ...groups.map((g) => ({ kind: 'group', groups: g })),
        ];
        for (const c of cases) {
          const label = `${c.kind}${c.rms ? ' rms' : ''}${c.groups ? ` groups ${c.groups}` : ''} n=${n} B=${B}`;
          it(`${label}: predict and the training forward`, () => {
            const m = makeNet({ inF: 7, n, ...c, act: 'tanh' });
            const x = randomArray(B * 7, m.rand, 1);
            const ref = m.ref(x, B);
            const got = new Float32Array(B * m.out);
            m.net.predict(x, B, got);
            expect(relErr(got, ref).err).to.be.below(2e-5);
            const train = new Float32Array(B * m.out);
            m.net.forwardTrain(x, B, false, train);
            expect(Array.from(train)).to.deep.equal(Array.from(got));  // no batch statistics
          });
        }
      }
    }
  });

  describe('gradients by finite differences (of the float64 reference)', () => {
    const H = 1e-3;
    const cases = [
      { kind: 'layer', n: 17, act: 'relu' },
      { kind: 'layer', n: 33, act: 'sigmoid', rms: true },
      { kind: 'group', n: 33, groups: 3, act: 'tanh' },
      { kind: 'group', n: 34, groups: 17, act: 'linear' },
      { kind: 'layer', n: 3, act: 'tanh', center: false, scale: false },
    ];
    const diff = (arr, k, f) => centralDiff(arr, k, f, H);
    for (const c of cases) {
      it(`${c.kind}${c.rms ? ' rms' : ''} n=${c.n}${c.groups ? ` groups ${c.groups}` : ''} ${c.act}: every parameter and the input`, () => {
        const m = makeNet({ inF: 5, ...c, seed: 7 });
        const B = 6;
        const x = randomArray(B * 5, m.rand, 1);
        const y = randomArray(B * m.out, m.rand, 1);
        m.net.lossAndGrad(x, B, y, false);
        const mse = () => m.ref(x, B).reduce((s, v, i) => s + (v - y[i]) ** 2, 0) / (B * m.out);
        let checked = 0;
        for (const [name, value] of Object.entries(m.params)) {
          if (!value) continue;
          const ana = Float64Array.from(m.grads[name]);
          const scale = Math.max(...ana.map(Math.abs));
          expect(scale, `${name} gradient is all zero`).to.be.above(1e-5);
          const count = Math.min(value.length, 6);
          for (let i = 0; i < count; i++) {
            const k = Math.floor((i * value.length) / count);
            const num = diff(value, k, mse);
            expect(Math.abs(num - ana[k]), `${name}[${k}] numeric ${num} analytic ${ana[k]}`).to.be.at.most(2e-3 * Math.abs(num) + 1e-4 * scale + 1e-6);
            checked++;
          }
        }
        // the input gradient through forwardBackward with dy = 1 (the gradient of Σ out)
        const dy = new Float32Array(B * m.out).fill(1);
        const dx = new Float32Array(B * 5);
        m.net.forwardBackward(x, B, dy, dx);
        const sumOut = () => m.ref(x, B).reduce((s, v) => s + v, 0);
        const dscale = Math.max(...Array.from(dx, Math.abs));
        expect(dscale).to.be.above(1e-5);
        for (let k = 0; k < x.length; k += 7) {
          const num = diff(x, k, sumOut);
          expect(Math.abs(num - dx[k]), `dx[${k}] numeric ${num} analytic ${dx[k]}`).to.be.at.most(2e-3 * Math.abs(num) + 1e-4 * dscale + 1e-6);
          checked++;
        }
        expect(checked).to.be.above(10);
      });
    }
  });

  describe('bit-identical for every thread count and with fusion off', () => {
    const savedThreads = dn.backend().threads;
    for (const c of [{ kind: 'layer' }, { kind: 'layer', rms: true }, { kind: 'group', groups: 11 }]) {
      it(`${c.kind}${c.rms ? ' rms' : ''}${c.groups ? ` groups ${c.groups}` : ''}: B=300, n=1023`, () => {
        const run = (threads, fuse) => {
          dn.setNumThreads(threads);
          try {
            const m = makeNet({ inF: 19, n: 1023, ...c, seed: 3, fuse });
            const x = randomArray(300 * 19, rng(5), 1);
            const y = randomArray(300 * 3, rng(6), 1);
            const r = m.net.lossAndGrad(x, 300, y, false);
            const p = new Float32Array(300 * 3);
            m.net.predict(x, 300, p);
            return { loss: r.loss, p: Array.from(p), g: Object.values(m.grads).map((a) => Array.from(a)) };
          } finally {
            dn.setNumThreads(savedThreads);
          }
        };
        const one = run(1);
        expect(run(2)).to.deep.equal(one);
        expect(run(2, false)).to.deep.equal(one);
      });
    }
  });

  describe('fusion', () => {
    it('Dense → layerNormalization → relu runs as one block; groups checked against the width', () => {
      const m = dn.sequential({ layers: [dn.layers.dense({ units: 8, inputShape: [4] }), dn.layers.layerNormalization(), dn.layers.activation({ activation: 'relu' }), dn.layers.dense({ units: 2 })] });
      m.compile({ optimizer: 'sgd', loss: 'meanSquaredError' });
      expect(native.fusionGroups(m.layers.flatMap((l) => l.toOps()))).to.deep.equal([[0, 1, 2], [3]]);
    });
  });

  describe('the layers', () => {
    it('Keras defaults, config round trip and weights', () => {
      const ln = dn.layers.layerNormalization();
      expect([ln.epsilon, ln.center, ln.scale, ln.rmsScaling]).to.deep.equal([1e-3, true, true, false]);
      const gn = dn.layers.groupNormalization();
      expect([gn.groups, gn.epsilon, gn.center, gn.scale]).to.deep.equal([32, 1e-3, true, true]);
      const m = dn.sequential({ layers: [dn.layers.dense({ units: 8, inputShape: [4] }), dn.layers.layerNormalization({ rmsScaling: true }), dn.layers.groupNormalization({ groups: 4, center: false })] });
      expect(m.layers[1].weights.map((w) => w.name)).to.deep.equal(['gamma']);  // RMS: gamma only
      expect(m.layers[2].weights.map((w) => w.name)).to.deep.equal(['gamma']);
      const back = dn.layers.layerFromConfig('GroupNormalization', m.layers[2].getConfig());
      expect(back.getConfig()).to.deep.equal({ ...m.layers[2].getConfig(), name: back.name });
    });

    it('saves and loads with equal predictions', async () => {
      const fs = await import('node:fs');
      const os = await import('node:os');
      const path = await import('node:path');
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dn-norms-'));
      const m = dn.sequential({ layers: [dn.layers.dense({ units: 6, inputShape: [3] }), dn.layers.groupNormalization({ groups: 3 }), dn.layers.dense({ units: 2, activation: 'tanh' }), dn.layers.layerNormalization()] });
      m.compile({ optimizer: 'adam', loss: 'meanSquaredError' });
      const x = dn.tensor([[1, 2, 3], [0, -1, 2], [3, 1, 0]]);
      await m.fit(x, dn.tensor([[1, 0], [0, 1], [1, 1]]), { epochs: 2, verbose: 0 });
      await m.save(dir);
      const back = await dn.loadModel(dir);
      expect(Array.from(back.predict(x).data)).to.deep.equal(Array.from(m.predict(x).data));
      fs.rmSync(dir, { recursive: true, force: true });
    });

    it('trains at batch size 1 (no batch statistics)', () => {
      const m = dn.sequential({ layers: [dn.layers.dense({ units: 6, inputShape: [3] }), dn.layers.layerNormalization(), dn.layers.dense({ units: 1 })] });
      m.compile({ optimizer: 'sgd', loss: 'meanSquaredError' });
      const before = Array.from(m.getWeights()[0].data);
      const loss = m.trainOnBatch(dn.tensor([[1, 2, 3]]), dn.tensor([[2]]));
      expect(Number.isFinite(loss)).to.equal(true);
      expect(Array.from(m.getWeights()[0].data)).to.not.deep.equal(before);
    });

    it('clear errors', async () => {
      const e1 = await caught(() => dn.sequential({ layers: [dn.layers.dense({ units: 10, inputShape: [3] }), dn.layers.groupNormalization({ groups: 4 })] }));
      expect(e1).to.be.instanceOf(RangeError);
      expect(e1.message).to.match(/divisible by groups \(4\).*received 10/);
      expect(await caught(() => dn.layers.groupNormalization({ groups: 0 }))).to.be.instanceOf(RangeError);
      expect(await caught(() => dn.layers.groupNormalization({ groups: 2.5 }))).to.be.instanceOf(RangeError);
      expect(await caught(() => dn.layers.layerNormalization({ epsilon: 0 }))).to.be.instanceOf(RangeError);
      expect(await caught(() => dn.layers.layerNormalization({ rmsScaling: 'yes' }))).to.be.instanceOf(TypeError);
      expect(await caught(() => dn.layers.layerNormalization({ axis: 0 }))).to.be.instanceOf(RangeError);
      expect((await caught(() => dn.layers.layerNormalization({ group: 2 }))).message).to.match(/group/);
      // the core checks its own inputs too
      const bad = { inputFeatures: 10, ops: [{ op: 'groupNormalization', groups: 3, epsilon: 1e-3 }], loss: 3, optimizer: { type: 0, learningRate: 0.1 }, params: [] };
      expect((await caught(() => new native.NativeNet(bad))).message).to.match(/groups to divide the feature count 10/);
    });
  });

  describe('batch renormalization and ghost batch norm', () => {
    const data = (B, seed) => {
      const r = rng(seed);
      return { x: dn.tensor(Array.from({ length: B }, () => Array.from({ length: 5 }, () => r() * 2 - 1))), y: dn.tensor(Array.from({ length: B }, (_, i) => [i % 3 === 0 ? 1 : 0, i % 3 === 1 ? 1 : 0, i % 3 === 2 ? 1 : 0])) };
    };
    const model = (bnArgs, useBias) => {
      dn.setSeed(11);
      const m = dn.sequential({ layers: [
        dn.layers.dense({ units: 9, inputShape: [5], useBias }),
        dn.layers.batchNormalization(bnArgs),
        dn.layers.activation({ activation: 'relu' }),
        dn.layers.dense({ units: 3, activation: 'softmax' }),
      ] });
      m.compile({ optimizer: dn.optimizers.sgd({ learningRate: 0.2 }), loss: 'categoricalCrossentropy' });
      return m;
    };
    const trained = (bnArgs, useBias, B = 12) => {
      const m = model(bnArgs, useBias);
      const { x, y } = data(B, 4);
      for (let s = 0; s < 5; s++) m.trainOnBatch(x, y);
      return { p: Array.from(m.predict(x).data), w: m.getWeights().filter((t, i) => !m.weights?.[i]?.name?.startsWith?.('renorm')).map((t) => Array.from(t.data)) };
    };
    const plainWeights = (r) => r;

    for (const useBias of [false, true]) {
      it(`renorm with rmax = rmin = 1, dmax = 0 is bit-identical to plain batch norm (bias ${useBias})`, () => {
        const plain = trained({}, useBias);
        const re = trained({ renorm: true, renormClipping: { rmax: 1, rmin: 1, dmax: 0 } }, useBias);
        expect(re.p).to.deep.equal(plain.p);
        // renorm adds renorm_mean/renorm_stddev after the moving statistics: compare the rest
        const m = model({ renorm: true }, useBias);
        const names = m.layers.flatMap((l) => l.weights.map((w) => w.name));
        const keep = names.map((n) => !n.startsWith('renorm'));
        expect(re.w.filter((_, i) => keep[i])).to.deep.equal(plainWeights(plain.w));
      });

      it(`virtualBatchSize equal to the batch is bit-identical to plain batch norm (bias ${useBias})`, () => {
        expect(trained({ virtualBatchSize: 12 }, useBias)).to.deep.equal(trained({}, useBias));
      });
    }

    it('ghost batch norm: each sub-batch normalized by its own statistics (float64), moving statistics from their means', () => {
      const B = 12, V = 4, n = 5;
      const r = rng(9);
      const x = randomArray(B * n, r, 1, 0.3);
      const gamma = randomArray(n, r, 0.3, 1);
      const beta = randomArray(n, r, 0.3);
      const mm = new Float32Array(n), mv = new Float32Array(n).fill(1);
      const net = new native.NativeNet({ inputFeatures: n, ops: [{ op: 'batchNormalization', epsilon: 1e-3, momentum: 0.9, trainable: true, virtualBatchSize: V, gamma, beta, movingMean: mm, movingVariance: mv, numBatches: new Float64Array(1) }], loss: 3, optimizer: { type: 0, learningRate: 0.1 }, params: [] });
      const out = new Float32Array(B * n);
      net.forwardTrain(x, B, true, out);
      const ref = new Float64Array(B * n);
      const meanOfMeans = new Float64Array(n), meanOfVars = new Float64Array(n);
      for (let q = 0; q < B / V; q++) {
        for (let j = 0; j < n; j++) {
          let m = 0, v = 0;
          for (let i = q * V; i < (q + 1) * V; i++) m += x[i * n + j] / V;
          for (let i = q * V; i < (q + 1) * V; i++) v += (x[i * n + j] - m) ** 2 / V;
          for (let i = q * V; i < (q + 1) * V; i++) ref[i * n + j] = gamma[j] * (x[i * n + j] - m) / Math.sqrt(v + 1e-3) + beta[j];
          meanOfMeans[j] += m / (B / V);
          meanOfVars[j] += v / (B / V);
        }
      }
      expect(relErr(out, ref).err).to.be.below(1e-5);
      for (let j = 0; j < n; j++) {
        expect(mm[j]).to.be.closeTo(0.1 * meanOfMeans[j], 1e-6);
        expect(mv[j]).to.be.closeTo(0.9 + 0.1 * meanOfVars[j] * V / (V - 1), 1e-6);  // unbiased per sub-batch
      }
      // a batch the virtual size does not divide
      expect((() => { try { net.forwardTrain(x.subarray(0, 10 * n), 10, false, out.subarray(0, 10 * n)); } catch (e) { return e.message; } })()).to.match(/divisible by virtualBatchSize 4 but received 10/);
    });

    it('renorm: forward with r and d from the renorm statistics, backward with them constant (float64)', () => {
      const B = 8, n = 6;
      const r = rng(21);
      const x = randomArray(B * n, r, 1, 0.5);
      const gamma = randomArray(n, r, 0.3, 1), beta = randomArray(n, r, 0.3);
      const rmean = randomArray(n, r, 0.3), rstd = randomArray(n, r, 0.2, 0.8);
      const clip = { rmax: 1.2, rmin: 0.9, dmax: 0.1 };
      const gG = new Float32Array(n), gB = new Float32Array(n);
      const mm = new Float32Array(n), mv = new Float32Array(n).fill(1);
      const rm0 = Float64Array.from(rmean), rs0 = Float64Array.from(rstd);
      const net = new native.NativeNet({ inputFeatures: n, ops: [{ op: 'batchNormalization', epsilon: 1e-3, momentum: 0.99, trainable: true, renorm: true, renormMomentum: 0.9, ...clip, gamma, beta, movingMean: mm, movingVariance: mv, numBatches: new Float64Array(1), renormMean: rmean, renormStddev: rstd, gradGamma: gG, gradBeta: gB }], loss: 3, optimizer: { type: 0, learningRate: 0.1 }, params: [] });
      const dy = randomArray(B * n, r, 1);
      const dx = new Float32Array(B * n);
      net.forwardBackward(x, B, dy, dx);
      const out = new Float32Array(B * n);
      net.forwardTrain(x, B, true, out);
      let clipped = 0;
      for (let j = 0; j < n; j++) {
        let m = 0, v = 0;
        for (let i = 0; i < B; i++) m += x[i * n + j] / B;
        for (let i = 0; i < B; i++) v += (x[i * n + j] - m) ** 2 / B;
        const sd = Math.sqrt(v + 1e-3);
        const rr = Math.min(Math.max(sd / rs0[j], clip.rmin), clip.rmax);
        const dd = Math.min(Math.max((m - rm0[j]) / rs0[j], -clip.dmax), clip.dmax);
        if (rr !== sd / rs0[j] || dd !== (m - rm0[j]) / rs0[j]) clipped++;
        let sdu = 0, sdux = 0, gg = 0;
        const xh = [];
        for (let i = 0; i < B; i++) {
          xh.push((x[i * n + j] - m) / sd);
          expect(out[i * n + j]).to.be.closeTo(gamma[j] * (xh[i] * rr + dd) + beta[j], 2e-5);
          sdu += dy[i * n + j];
          sdux += dy[i * n + j] * xh[i];
          gg += dy[i * n + j] * (xh[i] * rr + dd);
        }
        expect(gG[j]).to.be.closeTo(gg, 2e-5);
        expect(gB[j]).to.be.closeTo(sdu, 2e-5);
        for (let i = 0; i < B; i++) {
          const ref = (gamma[j] * rr / sd) * (dy[i * n + j] - sdu / B - xh[i] * sdux / B);
          expect(dx[i * n + j]).to.be.closeTo(ref, 5e-5);
        }
        // the renorm statistics moved toward the batch's (rate 1 − renormMomentum)
        expect(rmean[j]).to.be.closeTo(rm0[j] + (m - rm0[j]) * 0.1, 1e-6);
        expect(rstd[j]).to.be.closeTo(rs0[j] + (sd - rs0[j]) * 0.1, 1e-6);
      }
      // the clipping bounds were hit on this data, and not everywhere (else it would check less)
      expect(clipped).to.be.within(1, 2 * n - 1);
    });

    it('ghost batch norm gradients by finite differences (the sub-batch statistics depend on x)', () => {
      const B = 12, n = 4, V = 4, H = 1e-2;
      const r = rng(13);
      const x = randomArray(B * n, r, 1, 0.2);
      const gamma = randomArray(n, r, 0.3, 1), beta = randomArray(n, r, 0.3);
      const gG = new Float32Array(n), gB = new Float32Array(n);
      const net = new native.NativeNet({ inputFeatures: n, ops: [{ op: 'batchNormalization', epsilon: 1e-3, momentum: 0.9, trainable: true, virtualBatchSize: V, gamma, beta, movingMean: new Float32Array(n), movingVariance: new Float32Array(n).fill(1), numBatches: new Float64Array(1), gradGamma: gG, gradBeta: gB }, { op: 'activation', activation: 'tanh' }], loss: 3, optimizer: { type: 0, learningRate: 0.1 }, params: [] });
      const dy = randomArray(B * n, r, 1);
      const dx = new Float32Array(B * n);
      net.forwardBackward(x, B, dy, dx);
      const ana = { x: Float64Array.from(dx), gamma: Float64Array.from(gG), beta: Float64Array.from(gB) };
      const out = new Float32Array(B * n);
      const f = () => {
        net.forwardTrain(x, B, false, out);
        return out.reduce((s, v, i) => s + v * dy[i], 0);
      };
      for (const [name, arr] of [['x', x], ['gamma', gamma], ['beta', beta]]) {
        const scale = Math.max(...ana[name].map(Math.abs));
        expect(scale, name).to.be.above(1e-3);
        for (let k = 0; k < arr.length; k += name === 'x' ? 5 : 1) {
          const num = centralDiff(arr, k, f, H);
          expect(Math.abs(num - ana[name][k]), `${name}[${k}] numeric ${num} analytic ${ana[name][k]}`).to.be.at.most(2e-2 * Math.abs(num) + 2e-3 * scale);
        }
      }
    });

    for (const [label, args] of [['ghost (virtualBatchSize 100)', { virtualBatchSize: 100 }], ['renorm', { renorm: true, renormClipping: { rmax: 2, rmin: 0.5, dmax: 1 } }]]) {
      it(`${label}: the same bits for 1 and 2 threads (batch 300, 1023 features)`, () => {
        const saved = dn.backend().threads;
        const run = (threads) => {
          dn.setNumThreads(threads);
          try {
            dn.setSeed(5);
            const m = dn.sequential({ layers: [dn.layers.dense({ units: 1023, inputShape: [19], useBias: false }), dn.layers.batchNormalization(args), dn.layers.activation({ activation: 'relu' }), dn.layers.dense({ units: 3 })] });
            m.compile({ optimizer: 'adam', loss: 'meanSquaredError' });
            const x = dn.tensor(randomArray(300 * 19, rng(5), 1), [300, 19]);
            const y = dn.tensor(randomArray(300 * 3, rng(6), 1), [300, 3]);
            for (let s = 0; s < 3; s++) m.trainOnBatch(x, y);
            return { p: Array.from(m.predict(x).data), w: m.getWeights().map((t) => Array.from(t.data)) };
          } finally {
            dn.setNumThreads(saved);
          }
        };
        expect(run(2)).to.deep.equal(run(1));
      });
    }

    it('renorm weights, config and errors', async () => {
      const bn = dn.layers.batchNormalization({ renorm: true, renormClipping: { rmax: 3, rmin: 1 / 3, dmax: 5 }, renormMomentum: 0.9 });
      const m = dn.sequential({ layers: [dn.layers.dense({ units: 4, inputShape: [2] }), bn] });
      expect(bn.weights.map((w) => w.name)).to.deep.equal(['gamma', 'beta', 'moving_mean', 'moving_variance', 'renorm_mean', 'renorm_stddev']);
      expect(Array.from(bn.weights[5].value)).to.deep.equal([1, 1, 1, 1]);
      const cfg = bn.getConfig();
      expect(cfg).to.include({ renorm: true, renormMomentum: 0.9 });
      expect(cfg.renormClipping).to.deep.equal({ rmax: 3, rmin: 1 / 3, dmax: 5 });
      expect(dn.layers.layerFromConfig('BatchNormalization', cfg).getConfig()).to.deep.equal({ ...cfg, name: cfg.name });
      expect(m.layers.length).to.equal(2);
      expect(await caught(() => dn.layers.batchNormalization({ renormClipping: { rmax: 0.5 } }))).to.be.instanceOf(RangeError);
      expect(await caught(() => dn.layers.batchNormalization({ renormClipping: { rmx: 2 } }))).to.be.instanceOf(RangeError);
      expect(await caught(() => dn.layers.batchNormalization({ virtualBatchSize: 1 }))).to.be.instanceOf(RangeError);
      expect(await caught(() => dn.layers.batchNormalization({ virtualBatchSize: 4, renorm: true }))).to.be.instanceOf(RangeError);
      const g = dn.sequential({ layers: [dn.layers.dense({ units: 4, inputShape: [2] }), dn.layers.batchNormalization({ virtualBatchSize: 4 })] });
      g.compile({ optimizer: 'sgd', loss: 'meanSquaredError' });
      const e = await caught(() => g.trainOnBatch(dn.tensor([[1, 2], [3, 4], [5, 6]]), dn.tensor([[1, 2, 3, 4], [1, 2, 3, 4], [1, 2, 3, 4]])));
      expect(e.message).to.match(/divisible by virtualBatchSize 4 but received 3/);
    });
  });

  describe('one SGD step against PyTorch', function () {
    const probe = spawnSync('/usr/bin/python3', ['-c', 'import torch'], { encoding: 'utf8' });
    const haveTorch = probe.status === 0;
    before(function () {
      if (!haveTorch) {
        console.log('      (skipped: /usr/bin/python3 cannot import torch; apt-get install python3-torch runs these)');
        this.skip();
      }
    });
    const PY = String.raw`
import json, sys, torch
d = json.load(sys.stdin)
torch.manual_seed(0)
n, norm = d['n'], d['norm']
lin1 = torch.nn.Linear(d['inF'], n)
nl = torch.nn.LayerNorm(n, eps=1e-3) if norm == 'layer' else torch.nn.GroupNorm(d['groups'], n, eps=1e-3)
act = torch.nn.ReLU() if d['act'] == 'relu' else torch.nn.Tanh()
lin2 = torch.nn.Linear(n, d['out'])
net = torch.nn.Sequential(lin1, nl, act, lin2)
with torch.no_grad():
    lin1.weight.copy_(torch.tensor(d['W1']).reshape(d['inF'], n).T)
    lin1.bias.copy_(torch.tensor(d['b1']))
    nl.weight.copy_(torch.tensor(d['gamma'])); nl.bias.copy_(torch.tensor(d['beta']))
    lin2.weight.copy_(torch.tensor(d['W2']).reshape(n, d['out']).T)
    lin2.bias.copy_(torch.tensor(d['b2']))
opt = torch.optim.SGD(net.parameters(), lr=d['lr'])
x = torch.tensor(d['x']).reshape(-1, d['inF'])
y = torch.tensor(d['y']).reshape(-1, d['out'])
loss = torch.nn.functional.mse_loss(net(x), y)
opt.zero_grad(); loss.backward(); opt.step()
print(json.dumps({'loss': loss.item(), 'W1': lin1.weight.T.reshape(-1).tolist(), 'gamma': nl.weight.tolist(), 'beta': nl.bias.tolist(), 'W2': lin2.weight.T.reshape(-1).tolist(), 'pred': net(x).reshape(-1).tolist()}))
`;
    for (const c of [{ norm: 'layer', act: 'relu' }, { norm: 'group', groups: 4, act: 'tanh' }]) {
      it(`Dense → ${c.norm === 'layer' ? 'LayerNorm → ReLU' : 'GroupNorm(4) → tanh'} → Dense`, () => {
        const inF = 5, n = 12, out = 3, B = 7;
        const m = dn.sequential({ layers: [
          dn.layers.dense({ units: n, inputShape: [inF] }),
          c.norm === 'layer' ? dn.layers.layerNormalization() : dn.layers.groupNormalization({ groups: c.groups }),
          dn.layers.activation({ activation: c.act }),
          dn.layers.dense({ units: out }),
        ] });
        m.compile({ optimizer: dn.optimizers.sgd({ learningRate: 0.1 }), loss: 'meanSquaredError' });
        const r = rng(31);
        const w0 = m.getWeights().map((t) => Array.from(randomArray(t.data.length, r, 0.5, t.shape.length === 1 && t.data[0] === 1 ? 1 : 0)));
        m.setWeights(w0.map((v, i) => dn.tensor(v, m.getWeights()[i].shape)));
        const x = Array.from(randomArray(B * inF, r, 1));
        const y = Array.from(randomArray(B * out, r, 1));
        const payload = { ...c, inF, n, out, lr: 0.1, x, y, W1: w0[0], b1: w0[1], gamma: w0[2], beta: w0[3], W2: w0[4], b2: w0[5] };
        const res = spawnSync('/usr/bin/python3', ['-c', PY], { input: JSON.stringify(payload), encoding: 'utf8' });
        expect(res.status, res.stderr).to.equal(0);
        const t = JSON.parse(res.stdout);
        const xt = dn.tensor(x, [B, inF]);
        const loss = m.trainOnBatch(xt, dn.tensor(y, [B, out]));
        expect(loss).to.be.closeTo(t.loss, 1e-5 * Math.max(1, t.loss));
        const w = m.getWeights().map((tt) => Array.from(tt.data));
        expect(relErr(w[0], t.W1).err).to.be.below(1e-5);
        expect(relErr(w[2], t.gamma).err).to.be.below(1e-5);
        expect(relErr(w[3], t.beta).err).to.be.below(1e-5);
        expect(relErr(w[4], t.W2).err).to.be.below(1e-5);
        expect(relErr(m.predict(xt).data, t.pred).err).to.be.below(1e-5);
      });
    }
  });
});

// Server use: native work off the event loop, abortable fit, concurrent predictions, memory.
import { expect } from 'chai';
import { createRequire } from 'node:module';
import { monitorEventLoopDelay } from 'node:perf_hooks';

const require = createRequire(import.meta.url);
const dn = require('../dist/index.js');

function data(n, f, k, seed = 1) {
  let s = seed;
  const r = () => ((s = (s * 16807) % 2147483647) / 2147483647);
  const x = new Float32Array(n * f);
  const y = new Float32Array(n * k);
  for (let i = 0; i < n; i++) {
    const c = i % k;
    y[i * k + c] = 1;
    for (let j = 0; j < f; j++) x[i * f + j] = r() * 2 - 1 + (j % k === c ? 1 : 0);
  }
  return { x: dn.tensor(x, [n, f]), y: dn.tensor(y, [n, k]) };
}

function model(f, k, width = 256) {
  dn.setSeed(5);
  const m = dn.sequential();
  m.add(dn.layers.dense({ units: width, inputShape: [f], useBias: false }));
  m.add(dn.layers.batchNormalization());
  m.add(dn.layers.activation({ activation: 'relu' }));
  m.add(dn.layers.dense({ units: k, activation: 'softmax' }));
  m.compile({ optimizer: 'adam', loss: 'categoricalCrossentropy', metrics: ['accuracy'] });
  return m;
}

describe('server use', () => {
  it('fit keeps the event loop responsive (p99 delay < 20 ms while training for seconds)', async () => {
    const { x, y } = data(4096, 512, 10);
    const m = model(512, 10, 1024);
    const h = monitorEventLoopDelay({ resolution: 1 });
    // A timer that must keep firing while training runs.
    let ticks = 0;
    const timer = setInterval(() => ticks++, 5);
    h.enable();
    const t0 = performance.now();
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 2000); // train for ~2 s whatever the machine's speed
    await m.fit(x, y, { epochs: 1000, batchSize: 256, signal: ac.signal });
    const ms = performance.now() - t0;
    h.disable();
    clearInterval(timer);
    const p99 = h.percentile(99) / 1e6;
    console.log(`      fit ran ${ms.toFixed(0)} ms; event-loop delay p50 ${(h.percentile(50) / 1e6).toFixed(2)} ms, p99 ${p99.toFixed(2)} ms, max ${(h.max / 1e6).toFixed(2)} ms; ${ticks} timer ticks`);
    expect(ms).to.be.above(1900);
    expect(p99).to.be.below(20);
    expect(ticks).to.be.above(ms / 5 / 4);
  });

  it('fit accepts an AbortSignal and stops after the current batch', async () => {
    const { x, y } = data(2048, 32, 4);
    const m = model(32, 4);
    const ac = new AbortController();
    let batches = 0;
    const h = await m.fit(x, y, {
      epochs: 50,
      batchSize: 64,
      signal: ac.signal,
      callbacks: { onBatchEnd: (b) => { batches++; if (batches === 5) ac.abort(); } },
    });
    expect(batches).to.equal(5);
    expect(h.epoch.length).to.equal(1);
    expect(m.isTraining).to.equal(false);
  });

  it('concurrent predictAsync calls give the same answers as serial predict', async () => {
    const { x, y } = data(512, 32, 4);
    const m = model(32, 4);
    await m.fit(x, y, { epochs: 1, batchSize: 64 });
    const rows = Array.from({ length: 40 }, (_, i) => dn.tensor(x.data.subarray(i * 7 * 32, (i * 7 + 5) * 32), [5, 32]));
    const serial = rows.map((r) => m.predict(r).data);
    const parallel = await Promise.all(rows.map((r) => m.predictAsync(r)));
    parallel.forEach((p, i) => expect(Array.from(p.data)).to.deep.equal(Array.from(serial[i])));
    const ev = await m.evaluateAsync(x, y);
    const evs = m.evaluate(x, y);
    expect(ev.loss).to.equal(evs.loss);
    expect(ev.accuracy).to.equal(evs.accuracy);
  });

  it('predict reuses its workspaces across batch sizes: every row equals that row predicted alone', async () => {
    const { x, y } = data(300, 32, 4);
    const m = model(32, 4);
    await m.fit(x, y, { epochs: 1, batchSize: 64 });
    const alone = (i) => Array.from(m.predict(dn.tensor(x.data.slice(i * 32, (i + 1) * 32), [1, 32])).data);
    // a growing, shrinking and regrowing batch through the same pooled workspace, evaluate between
    for (const n of [1, 300, 3, 130, 2]) {
      const p = m.predict(dn.tensor(x.data.subarray(0, n * 32), [n, 32])).data;
      for (const i of [0, n - 1, n >> 1]) expect(Array.from(p.subarray(i * 4, i * 4 + 4)), `batch ${n}, row ${i}`).to.deep.equal(alone(i));
      const ev = m.evaluate(dn.tensor(x.data.subarray(0, n * 32), [n, 32]), dn.tensor(y.data.subarray(0, n * 4), [n, 4]));
      expect(Number.isFinite(ev.loss)).to.equal(true);
    }
  });

  it('predictAsync during fit fails with a clear error instead of reading weights mid-update', async () => {
    const { x, y } = data(2048, 32, 4);
    const m = model(32, 4);
    const before = m.predict(x).data;
    const fitting = m.fit(x, y, { epochs: 2, batchSize: 32 });
    let err;
    try {
      await m.predictAsync(x);
    } catch (e) {
      err = e;
    }
    await fitting;
    expect(err).to.be.an('error');
    expect(err.message).to.match(/fit\(\) is running/);
    expect(m.predict(x).data).to.not.deep.equal(before);
  });

  it('dispose frees the native graph at once; the model still works afterwards', () => {
    const { x } = data(64, 8, 2);
    const m = model(8, 2);
    const a = m.predict(x).data;
    m.dispose();
    const b = m.predict(x).data;
    expect(Array.from(b)).to.deep.equal(Array.from(a));
  });

  it('100,000 predict calls keep resident memory flat', function () {
    // AddressSanitizer keeps freed memory in quarantine on purpose: RSS cannot be flat there.
    if (process.env.DENSENORM_SANITIZE_RUN) this.skip();
    const m = model(16, 3, 32);
    const row = dn.tensor(new Float32Array(16).fill(0.5), [1, 16]);
    for (let i = 0; i < 5000; i++) m.predict(row);
    global.gc?.();
    const rss0 = process.memoryUsage().rss;
    for (let i = 0; i < 100000; i++) m.predict(row);
    global.gc?.();
    const growth = (process.memoryUsage().rss - rss0) / 2 ** 20;
    console.log(`      RSS growth after 100,000 predict calls: ${growth.toFixed(1)} MiB`);
    expect(growth).to.be.below(32);
  });
});

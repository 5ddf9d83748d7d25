// The training workloads the A/B benches time: W1 (784-100-100-100-10 sigmoid+BN, SGD, batch 60)
// and W2 (784-1024-1024-10 relu+BN, Adam, batch 256), built with whichever densenorm `dn` is given
// (so one script can time two checkouts).
export const WORKLOADS = {
  W1: { sizes: [784, 100, 100, 100, 10], act: 'sigmoid', opt: (dn) => dn.optimizers.sgd({ learningRate: 0.01 }), batch: 60 },
  W2: { sizes: [784, 1024, 1024, 10], act: 'relu', opt: (dn) => dn.optimizers.adam({ learningRate: 1e-3 }), batch: 256 },
};

/** Dense(no bias) → BN → act per hidden layer (then dropout(rate) when given), softmax output. */
export function buildModel(dn, { sizes, act, opt }, dropout = 0) {
  dn.setSeed(1);
  const m = dn.sequential();
  for (let i = 1; i < sizes.length - 1; i++) {
    m.add(dn.layers.dense({ units: sizes[i], useBias: false, ...(i === 1 ? { inputShape: [sizes[0]] } : {}) }));
    m.add(dn.layers.batchNormalization());
    m.add(dn.layers.activation({ activation: act }));
    if (dropout) m.add(dn.layers.dropout({ rate: dropout, seed: i }));
  }
  m.add(dn.layers.dense({ units: sizes.at(-1), activation: 'softmax' }));
  m.compile({ optimizer: opt(dn), loss: 'categoricalCrossentropy' });
  return m;
}

/** A fixed batch of `n` rows for workload w: x = sin(i · 0.37), one-hot y cycling the classes. */
export function batchData(dn, { sizes }, n) {
  const d = sizes[0];
  const k = sizes.at(-1);
  const x = new Float32Array(n * d).map((_, i) => Math.sin(i * 0.37));
  const y = new Float32Array(n * k);
  for (let i = 0; i < n; i++) y[i * k + (i % k)] = 1;
  return [dn.tensor(x, [n, d]), dn.tensor(y, [n, k])];
}

// Example training run on the bundled data: 8,000 real MNIST digits, tested on 2,000 others.
// 784 → Dense(256, no bias) → BatchNorm → ReLU → Dense(10, softmax), Adam, 5 epochs.
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const dn = require('../dist/index.js');

const epochs = Number(process.env.EPOCHS ?? 5);
dn.setSeed(1);
const { xTrain, yTrain, xTest, yTest } = dn.loadMnist();
console.log(`densenorm ${dn.version} · backend ${JSON.stringify(dn.backend())}`);
console.log(`MNIST (bundled): ${xTrain.shape[0]} train, ${xTest.shape[0]} test rows`);

const model = dn.sequential();
model.add(dn.layers.dense({ units: 256, inputShape: [784], useBias: false }));
model.add(dn.layers.batchNormalization());
model.add(dn.layers.activation({ activation: 'relu' }));
model.add(dn.layers.dense({ units: 10, activation: 'softmax' }));
model.compile({ optimizer: dn.optimizers.adam({ learningRate: 1e-3 }), loss: 'categoricalCrossentropy', metrics: ['accuracy'] });
model.summary();

const t0 = performance.now();
await model.fit(xTrain, yTrain, {
  epochs,
  batchSize: 64,
  shuffle: true,
  validationSplit: 0.1,
  seed: 1,
  callbacks: {
    onEpochEnd(epoch, logs) {
      console.log(
        `epoch ${epoch + 1}/${epochs}  loss ${logs.loss.toFixed(4)}  acc ${logs.acc.toFixed(4)}  ` +
          `val_loss ${logs.val_loss.toFixed(4)}  val_acc ${logs.val_acc.toFixed(4)}`,
      );
    },
  },
});
const seconds = (performance.now() - t0) / 1000;
const { loss, accuracy } = model.evaluate(xTest, yTest);
console.log(`trained in ${seconds.toFixed(2)} s (${((xTrain.shape[0] * 0.9 * epochs) / seconds).toFixed(0)} samples/s)`);
console.log(`test loss ${loss.toFixed(4)}  test accuracy ${(accuracy * 100).toFixed(2)}%`);

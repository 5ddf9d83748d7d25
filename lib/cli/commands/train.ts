/** densenorm train: trains a dense (+ batch norm) network on a CSV/JSONL file or the bundled MNIST. */
import { randomInt } from 'node:crypto';
import * as path from 'node:path';
import * as fs from 'node:fs';
import * as dn from '../../index';
import { hasTrainableBatchNorm, planBatches } from '../../models/training';
import { Rng, shuffledOrder } from '../../random';
import { choiceFlag, flag, intFlag, numFlag, OptionSpec, parseCommandArgs, str, Values } from '../args';
import { featureStats, gatherRows, loadTable, makeTargets, standardize, Task } from '../data';
import { usageError } from '../errors';
import { Architecture, buildModel, Preprocessing, PREPROCESSING_FORMAT, saveModelDir } from '../model_dir';
import { fmtInt, fmtMetric, fmtSeconds, outputMode, Reporter } from '../progress';
import { regressionMetrics } from '../metrics';
import { LOOP_HELP, LOOP_OPTIONS, loopSettings, metricParts } from '../train_options';
import { writeHistoryFiles } from '../history';
import { StreamedData, streamTable } from '../stream';

export const TRAIN_OPTIONS: OptionSpec = {
  data: { type: 'string', short: 'd' },
  label: { type: 'string', short: 'l' },
  task: { type: 'string' },
  layers: { type: 'string' },
  activation: { type: 'string' },
  'no-batch-norm': { type: 'boolean' },
  'bn-position': { type: 'string' },
  epochs: { type: 'string', short: 'e' },
  'batch-size': { type: 'string', short: 'b' },
  optimizer: { type: 'string' },
  lr: { type: 'string' },
  momentum: { type: 'string' },
  'validation-split': { type: 'string' },
  seed: { type: 'string' },
  out: { type: 'string', short: 'o' },
  'no-recalibrate': { type: 'boolean' },
  dropout: { type: 'string' },
  'max-memory': { type: 'string' },
  'shuffle-buffer': { type: 'string' },
  json: { type: 'boolean' },
  ...LOOP_OPTIONS,
};

export const TRAIN_HELP = `Usage: densenorm train [options]

Trains a network of dense layers with batch normalization. Without --data it trains on the
bundled MNIST digits (8,000 train / 2,000 test rows) and reports test accuracy.

Data
  --data FILE              CSV with a header, or JSON lines (.jsonl); default: bundled MNIST
  --label COLUMN           target column (default: the last column)
  --task classification|regression
                           override the detection (string labels or <= 20 distinct integers: classes)
  --validation-split X     fraction of rows held out for validation (default 0.1)
  --max-memory MB          files larger than this are streamed, never loaded whole (default 1024;
                           0 always streams). Streaming: validation is the last --validation-split
                           rows of the file, training rows pass through a shuffle buffer
  --shuffle-buffer N       rows in the streaming shuffle buffer (default 10000; 1: file order)
Model
  --layers 256,128         hidden layer sizes (default 256,128)
  --activation NAME        relu | sigmoid | tanh | linear (default relu)
  --no-batch-norm          plain dense layers
  --bn-position P          before | after the activation (default before)
  --dropout RATE           a dropout layer of this rate after each hidden block, in [0, 1) (default 0: none)
Training
  --epochs N               passes over the data (default 10)
  --batch-size N           rows per step (default 64)
  --optimizer NAME         adam | sgd | rmsprop (default adam)
  --lr X                   learning rate (default: adam 0.001, sgd 0.01, rmsprop 0.001)
  --momentum X             sgd / rmsprop momentum in [0, 1)
  --seed N                 seed for initialization, split and shuffling (default: random, printed)
  --no-recalibrate         keep the moving batch-norm statistics as trained (default: after training,
                           replace them by the exact statistics over the training split, "precise BN")
${LOOP_HELP}
Output
  --out DIR                where the model, history.json and history.svg are saved (default ./densenorm-model)
  --json                   one JSON object per epoch on stdout
  --verbose                model summary; stack traces on errors
Ctrl-C stops after the current batch and saves what was trained so far (exit code 130).`;

interface Prepared {
  description: string;
  task: Task;
  cols: number;
  outputs: number;
  xTrain: Float32Array;
  yTrain: Float32Array;
  xVal?: Float32Array;
  yVal?: Float32Array;
  xTest?: Float32Array;
  yTest?: Float32Array;
  pre: Preprocessing;
}

/** Seeded shuffle of 0..n-1, then the last `split` fraction is the validation part. */
function splitIndices(n: number, split: number, seed: number): { train: Int32Array; val: Int32Array } {
  const order = shuffledOrder(n, new Rng(seed));
  const nVal = split > 0 ? Math.max(1, Math.floor(n * split)) : 0;
  if (nVal >= n - 1 && split > 0) throw usageError(`--validation-split ${split} leaves no training rows out of ${n}`);
  return { train: order.slice(0, n - nVal), val: order.slice(n - nVal) };
}

async function prepareData(values: Values, split: number, seed: number): Promise<Prepared> {
  const file = str(values, 'data');
  const forced = str(values, 'task') === undefined ? undefined : choiceFlag(values, 'task', 'classification', ['classification', 'regression'] as const);
  if (file === undefined) {
    if (str(values, 'label') !== undefined) throw usageError('--label needs --data (the bundled MNIST has its own labels)');
    if (forced === 'regression') throw usageError('--task regression needs --data (MNIST is a classification task)');
    const m = dn.loadMnist();
    const n = m.xTrain.shape[0];
    const cols = m.xTrain.shape[1];
    const labels = Float32Array.from(m.labelsTrain);
    const { train, val } = splitIndices(n, split, seed);
    return {
      description: `MNIST (bundled): ${fmtInt(train.length)} train / ${fmtInt(val.length)} validation / ${fmtInt(m.xTest.shape[0])} test rows · ${cols} features · 10 classes`,
      task: 'classification',
      cols,
      outputs: 10,
      xTrain: gatherRows(m.xTrain.data, cols, train),
      yTrain: gatherRows(labels, 1, train),
      xVal: val.length ? gatherRows(m.xTrain.data, cols, val) : undefined,
      yVal: val.length ? gatherRows(labels, 1, val) : undefined,
      xTest: m.xTest.data,
      yTest: Float32Array.from(m.labelsTest),
      pre: {
        format: PREPROCESSING_FORMAT,
        formatVersion: 1,
        task: 'classification',
        source: 'mnist',
        features: Array.from({ length: cols }, (_, i) => `pixel${i}`),
        // Pixels are already in [0, 1]: no standardization.
        mean: new Array(cols).fill(0),
        std: new Array(cols).fill(1),
        label: 'label',
        classes: Array.from({ length: 10 }, (_, i) => String(i)),
        numericClasses: true,
      },
    };
  }
  const t = await loadTable(file, str(values, 'label'));
  const targets = makeTargets(t.labels, t.labelName, forced);
  const cols = t.featureNames.length;
  const { train, val } = splitIndices(t.rows, split, seed);
  if (train.length < 2) throw usageError(`${file}: ${t.rows} row(s); training needs at least 2`);
  const stats = featureStats(t.x, cols, train);
  standardize(t.x, cols, stats.mean, stats.std);
  let y = targets.y;
  let target: { mean: number; std: number } | undefined;
  if (targets.task === 'regression') {
    const s = featureStats(targets.y, 1, train);
    target = { mean: s.mean[0], std: s.std[0] };
    y = Float32Array.from(targets.y, (v) => (v - target!.mean) / target!.std);
  }
  const outputs = targets.task === 'classification' ? targets.classes!.length : 1;
  return {
    description:
      `${file}: ${fmtInt(train.length)} train / ${fmtInt(val.length)} validation rows · ${cols} features · label "${t.labelName}" · ` +
      (targets.task === 'classification' ? `classification, ${outputs} classes (${targets.classes!.slice(0, 8).join(', ')}${outputs > 8 ? ', ...' : ''})` : 'regression'),
    task: targets.task,
    cols,
    outputs,
    xTrain: gatherRows(t.x, cols, train),
    yTrain: gatherRows(y, 1, train),
    xVal: val.length ? gatherRows(t.x, cols, val) : undefined,
    yVal: val.length ? gatherRows(y, 1, val) : undefined,
    pre: {
      format: PREPROCESSING_FORMAT,
      formatVersion: 1,
      task: targets.task,
      source: file,
      features: t.featureNames,
      mean: stats.mean,
      std: stats.std,
      label: t.labelName,
      classes: targets.classes,
      numericClasses: targets.numericClasses,
      target,
    },
  };
}

async function fileSize(file: string): Promise<number> {
  try {
    return (await fs.promises.stat(file)).size;
  } catch {
    return 0; // openTable reports the file's problem
  }
}

function parseLayers(s: string | undefined): number[] {
  if (s === undefined) return [256, 128];
  if (s.trim() === '' || s.trim() === 'none') return [];
  return s.split(',').map((p) => {
    const v = Number(p.trim());
    if (!Number.isSafeInteger(v) || v < 1 || v > 1 << 16) throw usageError(`--layers expects sizes like 256,128, got "${s}"`);
    return v;
  });
}

export function makeOptimizer(name: string, lr: number | dn.LearningRateSchedule | undefined, momentum: number | undefined): dn.Optimizer {
  if (name === 'adam') {
    if (momentum !== undefined) throw usageError('--momentum applies to --optimizer sgd or rmsprop, not adam');
    return dn.optimizers.adam(lr === undefined ? {} : { learningRate: lr });
  }
  const args: { learningRate?: number | dn.LearningRateSchedule; momentum?: number } = {};
  if (lr !== undefined) args.learningRate = lr;
  if (momentum !== undefined) args.momentum = momentum;
  return name === 'sgd' ? dn.optimizers.sgd(args) : dn.optimizers.rmsprop(args);
}

export async function train(argv: string[]): Promise<number> {
  const values = parseCommandArgs('train', argv, TRAIN_OPTIONS);
  if (flag(values, 'help')) {
    console.log(TRAIN_HELP);
    return 0;
  }
  const hidden = parseLayers(str(values, 'layers'));
  const activation = choiceFlag(values, 'activation', 'relu', ['relu', 'sigmoid', 'tanh', 'linear'] as const);
  const batchNorm = !flag(values, 'no-batch-norm');
  const bnPosition = choiceFlag(values, 'bn-position', 'before', ['before', 'after'] as const);
  const epochs = intFlag(values, 'epochs', 10, 1, 1_000_000);
  const batchSize = intFlag(values, 'batch-size', 64, batchNorm ? 2 : 1, 1 << 20);
  const optimizerName = choiceFlag(values, 'optimizer', 'adam', ['adam', 'sgd', 'rmsprop'] as const);
  const lr = numFlag(values, 'lr', undefined, (v) => v > 0, 'a number > 0');
  const momentum = numFlag(values, 'momentum', undefined, (v) => v >= 0 && v < 1, 'a number in [0, 1)');
  const dropout = numFlag(values, 'dropout', 0, (v) => v >= 0 && v < 1, 'a rate in [0, 1)')!;
  const maxMemory = numFlag(values, 'max-memory', 1024, (v) => v >= 0, 'a size in MB >= 0')!;
  const shuffleBuffer = intFlag(values, 'shuffle-buffer', 10000, 1, 1 << 26);
  const split = numFlag(values, 'validation-split', 0.1, (v) => v >= 0 && v < 1, 'a fraction in [0, 1)')!;
  const seed = intFlag(values, 'seed', randomInt(0, 2 ** 31), 0, 2 ** 32 - 1);
  const outDir = str(values, 'out') ?? 'densenorm-model';
  const verbose = flag(values, 'verbose');
  let optimizer = makeOptimizer(optimizerName, lr, momentum);
  const rep = new Reporter(outputMode(flag(values, 'json')));

  const file = str(values, 'data');
  const streamed = file !== undefined && (await fileSize(file)) > maxMemory * 2 ** 20;
  const forced = str(values, 'task') === undefined ? undefined : choiceFlag(values, 'task', 'classification', ['classification', 'regression'] as const);
  const s: StreamedData | undefined = streamed ? await streamTable(file!, str(values, 'label'), forced, split) : undefined;
  const mem: Prepared | undefined = s ? undefined : await prepareData(values, split, seed);
  const data = (s ?? mem)!;
  dn.setSeed(seed);
  const classify = data.task === 'classification';
  const nTrain = s ? s.nTrain : mem!.yTrain.length;
  const stepsPerEpoch = planBatches(nTrain, batchSize, batchNorm && hidden.length > 0).batches;
  const loop = loopSettings(values, {
    baseRate: optimizer.learningRate, epochs, stepsPerEpoch, validation: s ? split > 0 : !!mem!.xVal,
    classify, streamed, yTrain: mem?.yTrain, classes: data.outputs,
  });
  if (loop.schedule !== 'constant' && loop.schedule !== 'plateau') optimizer = makeOptimizer(optimizerName, loop.learningRate, momentum);
  const arch: Architecture = { inputDim: data.cols, hidden, activation, batchNorm, bnPosition, outputs: data.outputs, task: data.task, dropout, l2: loop.l2 };
  const model = buildModel(arch);
  try {
    model.compile({ optimizer, loss: classify ? 'sparseCategoricalCrossentropy' : 'meanSquaredError', metrics: [...(classify ? ['accuracy'] : []), ...loop.metrics], precision: loop.precision });
  } catch (e) {
    if (e instanceof RangeError || e instanceof TypeError) throw usageError(`--metrics: ${e.message}`);
    throw e;
  }

  const b = dn.backend();
  const shape = [data.cols, ...hidden, data.outputs].join(' → ');
  const bnText = batchNorm ? `batch norm ${bnPosition} activation` : 'no batch norm';
  rep.human(`densenorm ${dn.version} · ${b.isa} · ${b.threads} threads · seed ${seed}`);
  rep.human(`data: ${data.description}`);
  rep.human(
    `model: ${shape} (${activation}, ${bnText}) · ${fmtInt(model.countParams())} params · ${optimizerName} lr ${optimizer.learningRate}` +
      `${dropout > 0 ? ` · dropout ${dropout}` : ''}${loop.precision === 'float32' ? '' : ` · ${loop.precision}`} · batch ${batchSize} · ${epochs} epoch${epochs === 1 ? '' : 's'}`,
  );
  if (verbose) model.summary((l) => rep.human(l));

  const yScale = data.pre.target ? data.pre.target.std ** 2 : 1;
  let valVar = s ? s.valVar : 1;
  if (!classify && mem?.yVal) {
    const m = mem.yVal.reduce((s, v) => s + v, 0) / mem.yVal.length;
    valVar = (mem.yVal.reduce((s, v) => s + (v - m) ** 2, 0) / mem.yVal.length) * yScale;
  }

  // Ctrl-C: stop after the current batch, then save; a second Ctrl-C quits at once.
  const abort = new AbortController();
  let interrupted = false;
  const onSigint = () => {
    if (interrupted) {
      rep.stop();
      process.stderr.write('\nInterrupted again: quitting without saving.\n');
      process.exit(130);
    }
    interrupted = true;
    abort.abort();
    rep.stop();
    process.stderr.write('\nInterrupted: stopping after the current batch and saving the model (Ctrl-C again to quit without saving)\n');
  };
  process.on('SIGINT', onSigint);

  let epochStart = 0;
  let seen = 0;
  let lossSum = 0;
  let correct = 0;
  let batches = 0;
  let epochsDone = 0;
  let lastEpoch = 0;
  let lastBatchInEpoch = 0;
  // fit's own plan: a trailing single row joins the last batch when batch norm trains
  const plan = planBatches(nTrain, batchSize, hasTrainableBatchNorm(model.layers));
  const totalBatches = plan.batches;
  const t0 = performance.now();
  try {
    const callbacks: dn.Callbacks = {
        // the bar only watches: fit keeps its one native hop per epoch and reports batches as they finish
        observesBatches: true,
        onEpochBegin: (epoch) => {
          epochStart = performance.now();
          seen = lossSum = correct = batches = 0;
          lastEpoch = epoch + 1;
          rep.startEpoch(epoch + 1, epochs, nTrain, classify);
        },
        onBatchEnd: (_batch, logs) => {
          const n = logs.size ?? 0;
          seen += n;
          batches++;
          lossSum += logs.loss * n;
          if (logs.acc !== undefined) correct += logs.acc * n;
          lastBatchInEpoch = batches;
          const dt = (performance.now() - epochStart) / 1000;
          rep.batch(seen, (lossSum / seen) * yScale, classify ? correct / seen : undefined, dt > 0 ? seen / dt : 0);
        },
        onEpochEnd: (epoch, logs) => {
          const dt = (performance.now() - epochStart) / 1000;
          const partial = seen < nTrain;
          if (!partial) epochsDone = epoch + 1;
          const loss = seen ? lossSum / seen : NaN;
          const sps = dt > 0 ? seen / dt : 0;
          const parts = [`epoch ${epoch + 1}/${epochs}${partial ? ` (stopped after ${batches}/${totalBatches} batches)` : ''}`];
          const j: Record<string, unknown> = { type: 'epoch', epoch: epoch + 1, epochs, partial };
          if (classify) {
            const acc = correct / seen;
            parts.push(`loss ${fmtMetric(loss)}`, `acc ${(acc * 100).toFixed(2)}%`);
            Object.assign(j, { loss, acc });
            if (logs.val_loss !== undefined) {
              parts.push(`val_loss ${fmtMetric(logs.val_loss)}`, `val_acc ${((logs.val_acc ?? NaN) * 100).toFixed(2)}%`);
              Object.assign(j, { val_loss: logs.val_loss, val_acc: logs.val_acc });
            }
          } else {
            parts.push(`mse ${fmtMetric(loss * yScale)}`);
            Object.assign(j, { loss, mse: loss * yScale });
            if (logs.val_loss !== undefined) {
              const vmse = logs.val_loss * yScale;
              const r2 = 1 - vmse / valVar;
              parts.push(`val_mse ${fmtMetric(vmse)}`, `val_r2 ${fmtMetric(r2)}`);
              Object.assign(j, { val_loss: logs.val_loss, val_mse: vmse, val_r2: r2 });
            }
          }
          parts.push(...metricParts(logs));
          if (loop.schedule !== 'constant' && logs.learning_rate !== undefined) parts.push(`lr ${logs.learning_rate.toPrecision(3)}`);
          parts.push(`${fmtInt(sps)} samples/s`, fmtSeconds(dt));
          Object.assign(j, { samples: seen, samples_per_sec: sps, seconds: dt });
          rep.endEpoch(parts.join('  '), j);
        },
    };
    const history = s
      ? await model.fitDataset(s.train(plan, shuffleBuffer, seed), { epochs, signal: abort.signal, validationData: s.validation(), callbacks: [callbacks, ...loop.callbacks] })
      : await model.fit(dn.tensor(mem!.xTrain, [nTrain, data.cols]), dn.tensor(mem!.yTrain, [nTrain, 1]), {
          epochs,
          batchSize,
          shuffle: true,
          seed,
          signal: abort.signal,
          validationData: mem!.xVal && mem!.yVal ? [dn.tensor(mem!.xVal, [mem!.yVal.length, data.cols]), dn.tensor(mem!.yVal, [mem!.yVal.length, 1])] : undefined,
          callbacks: [callbacks, ...loop.callbacks],
          classWeight: loop.classWeight,
        });
    rep.stop();
    const trainSeconds = (performance.now() - t0) / 1000;
    // Moving averages lag behind the weights (momentum 0.99), most on small data sets: set the
    // inference statistics to their exact values over the training split.
    const recalibrate = batchNorm && hidden.length > 0 && !flag(values, 'no-recalibrate');
    if (recalibrate) {
      // Streaming: on the first training rows that fit in 64 MiB (at most 100,000).
      const sample = s ? await s.sample(Math.max(2, Math.min(100_000, Math.floor(2 ** 26 / (4 * data.cols))))) : { x: mem!.xTrain, rows: nTrain };
      model.recalibrateBatchNorm(dn.tensor(sample.x, [sample.rows, data.cols]));
      const which = sample.rows < nTrain ? `first ${fmtInt(sample.rows)} of the ${fmtInt(nTrain)}` : `${fmtInt(nTrain)}`;
      rep.human(`Batch-norm statistics recalibrated on the ${which} training rows (--no-recalibrate keeps the moving averages)`);
    }

    const pre: Preprocessing = {
      ...data.pre,
      training: {
        architecture: { hidden, activation, batchNorm, bnPosition, dropout },
        optimizer: optimizerName,
        learningRate: optimizer.learningRate,
        ...(loop.precision === 'float32' ? {} : { precision: loop.precision }),
        momentum,
        epochs,
        epochsCompleted: epochsDone,
        batchNormRecalibrated: recalibrate,
        interrupted,
        batchSize,
        validationSplit: split,
        streamed,
        seed,
        seconds: trainSeconds,
        densenorm: dn.version,
      },
    };
    await saveModelDir(model, pre, outDir);
    const hist = await writeHistoryFiles(outDir, history, classify, yScale, `densenorm train: ${path.basename(data.pre.source)}`);
    const result: Record<string, unknown> = {
      type: 'result',
      interrupted,
      model_dir: outDir,
      history_json: hist.json,
      history_svg: hist.svg,
      epochs_completed: epochsDone,
      seconds: trainSeconds,
    };
    if (interrupted) {
      rep.info(
        `Training interrupted in epoch ${lastEpoch} after ${lastBatchInEpoch}/${totalBatches} batches ` +
          `(${epochsDone} full epoch${epochsDone === 1 ? '' : 's'}); the model trained so far is saved in ${outDir}`,
      );
    } else {
      rep.human(`Saved model to ${outDir} (trained ${epochsDone} epochs in ${fmtSeconds(trainSeconds)})`);
    }
    rep.info(`Wrote the training history to ${hist.json} and ${hist.svg}`);

    const evalOn = (x: Float32Array, y: Float32Array, what: string) => {
      const rows = y.length;
      if (classify) {
        const r = model.evaluate(dn.tensor(x, [rows, data.cols]), dn.tensor(y, [rows, 1]));
        rep.human(`${what} accuracy ${((r.accuracy ?? NaN) * 100).toFixed(2)}%  ${what} loss ${fmtMetric(r.loss)}  (${fmtInt(rows)} rows)`);
        result[what] = { rows, loss: r.loss, accuracy: r.accuracy };
      } else {
        const p = model.predict(dn.tensor(x, [rows, data.cols])).data;
        const t = data.pre.target!;
        const m = regressionMetrics(Float32Array.from(p, (v) => v * t.std + t.mean), Float32Array.from(y, (v) => v * t.std + t.mean));
        rep.human(`${what} mse ${fmtMetric(m.mse)}  mae ${fmtMetric(m.mae)}  r2 ${fmtMetric(m.r2)}  (${fmtInt(rows)} rows)`);
        result[what] = { rows, ...m };
      }
    };
    if (s) {
      if (s.nVal > 0) {
        const r = await s.evaluate(model);
        rep.human(
          classify
            ? `validation accuracy ${(r.accuracy * 100).toFixed(2)}%  validation loss ${fmtMetric(r.loss)}  (${fmtInt(r.rows)} rows)`
            : `validation mse ${fmtMetric(r.mse)}  mae ${fmtMetric(r.mae)}  r2 ${fmtMetric(r.r2)}  (${fmtInt(r.rows)} rows)`,
        );
        result.validation = r;
      }
    } else if (mem!.xTest && mem!.yTest) evalOn(mem!.xTest, mem!.yTest, 'test');
    else if (mem!.xVal && mem!.yVal) evalOn(mem!.xVal, mem!.yVal, 'validation');
    rep.json(result);
    return interrupted ? 130 : 0;
  } finally {
    rep.stop();
    process.removeListener('SIGINT', onSigint);
  }
}

/**
 * TensorFlow.js layers-model files as tfjs-node's file:// handler writes them: model.json
 * (snake_case configs, batch_input_shape on the first layer, Keras-2/tfjs dialect so that
 * tf.loadLayersModel of @tensorflow/tfjs 4.x reads it) and one weights.bin. Reading: tfjs_format.ts.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { endianness } from 'node:os';
import { DensenormError } from '../errors';
import { isPlainObject } from '../validate';
import type { LayerArtifact, ModelArtifacts } from './model_files';
import { fsyncDir, writeFileAtomic } from './atomic';
import { TFJS_MODEL_FILE } from './tfjs_format';

export const TFJS_WEIGHTS_FILE = 'weights.bin';
/** The tfjs-layers version whose files this writer imitates. */
const TFJS_VERSION = '4.22.0';
const LITTLE_ENDIAN_HOST = endianness() === 'LE';

const VS_CONFIGS: Record<string, { scale: number; mode: string; distribution: string }> = {
  glorotUniform: { scale: 1, mode: 'fan_avg', distribution: 'uniform' },
  glorotNormal: { scale: 1, mode: 'fan_avg', distribution: 'normal' },
  heUniform: { scale: 2, mode: 'fan_in', distribution: 'uniform' },
  heNormal: { scale: 2, mode: 'fan_in', distribution: 'normal' },
  lecunUniform: { scale: 1, mode: 'fan_in', distribution: 'uniform' },
  lecunNormal: { scale: 1, mode: 'fan_in', distribution: 'normal' },
};

/** A densenorm initializer config → the { class_name, config } tfjs writes (VarianceScaling for the Glorot/He/LeCun family). */
function initializerTo(v: unknown): unknown {
  const c = isPlainObject(v) ? v : { className: v };
  const seed = c.seed ?? null;
  const vs = VS_CONFIGS[String(c.className)];
  if (vs) return { class_name: 'VarianceScaling', config: { ...vs, seed } };
  switch (c.className) {
    case 'zeros':
      return { class_name: 'Zeros', config: {} };
    case 'ones':
      return { class_name: 'Ones', config: {} };
    case 'constant':
      return { class_name: 'Constant', config: { value: c.value ?? 0 } };
    case 'randomNormal':
      return { class_name: 'RandomNormal', config: { mean: c.mean ?? 0, stddev: c.stddev ?? 0.05, seed } };
    case 'randomUniform':
      return { class_name: 'RandomUniform', config: { minval: c.minval ?? -0.05, maxval: c.maxval ?? 0.05, seed } };
    default:
      return null;
  }
}

function regularizerTo(v: unknown): unknown {
  if (!isPlainObject(v) || !isPlainObject(v.config)) return null;
  return { class_name: 'L1L2', config: { l1: v.config.l1 ?? 0, l2: v.config.l2 ?? 0 } };
}

function unsupported(className: string, format: string, supported: string): DensenormError {
  return new DensenormError(`Layer class "${className}" is not supported in the ${format} format (supported: ${supported})`, 'ERR_DENSENORM');
}

/** One densenorm layer artifact → a tfjs-layers config in tfjs's snake_case. */
function layerTo(l: LayerArtifact, first: boolean, inputDim: number): Record<string, unknown> {
  const c = l.config;
  const base: Record<string, unknown> = { name: c.name, trainable: c.trainable ?? true };
  if (first) Object.assign(base, { batch_input_shape: [null, inputDim], dtype: 'float32' });
  switch (l.className) {
    case 'Dense':
      return {
        class_name: 'Dense',
        config: {
          units: c.units,
          activation: c.activation ?? 'linear',
          use_bias: c.useBias ?? true,
          kernel_initializer: initializerTo(c.kernelInitializer),
          bias_initializer: initializerTo(c.biasInitializer),
          kernel_regularizer: regularizerTo(c.kernelRegularizer),
          bias_regularizer: regularizerTo(c.biasRegularizer),
          activity_regularizer: null,
          kernel_constraint: null,
          bias_constraint: null,
          ...base,
        },
      };
    case 'BatchNormalization':
      if (c.renorm === true || (c.virtualBatchSize !== undefined && c.virtualBatchSize !== null)) {
        throw new DensenormError(`Layer "${String(c.name)}": ${c.renorm === true ? 'renorm' : 'virtualBatchSize'} is not supported in the tfjs format (tfjs-layers has neither renorm nor virtual batches)`, 'ERR_DENSENORM');
      }
      if (c.momentum === null) {
        throw new DensenormError(`Layer "${String(c.name)}": a cumulative moving average (momentum null) cannot be written in the tfjs format; give it a momentum`, 'ERR_DENSENORM');
      }
      return {
        class_name: 'BatchNormalization',
        config: {
          axis: -1,
          momentum: c.momentum,
          epsilon: c.epsilon,
          center: c.center,
          scale: c.scale,
          beta_initializer: initializerTo(c.betaInitializer),
          gamma_initializer: initializerTo(c.gammaInitializer),
          moving_mean_initializer: initializerTo(c.movingMeanInitializer),
          moving_variance_initializer: initializerTo(c.movingVarianceInitializer),
          beta_regularizer: regularizerTo(c.betaRegularizer),
          gamma_regularizer: regularizerTo(c.gammaRegularizer),
          beta_constraint: null,
          gamma_constraint: null,
          ...base,
        },
      };
    case 'LayerNormalization':
      if (c.rmsScaling === true) {
        throw new DensenormError(`Layer "${String(c.name)}": rmsScaling is not supported in the tfjs format (tfjs-layers' LayerNormalization has no RMS scaling)`, 'ERR_DENSENORM');
      }
      return {
        class_name: 'LayerNormalization',
        config: {
          axis: -1,
          epsilon: c.epsilon,
          center: c.center,
          scale: c.scale,
          beta_initializer: initializerTo(c.betaInitializer),
          gamma_initializer: initializerTo(c.gammaInitializer),
          beta_regularizer: regularizerTo(c.betaRegularizer),
          gamma_regularizer: regularizerTo(c.gammaRegularizer),
          ...base,
        },
      };
    case 'Activation':
      return { class_name: 'Activation', config: { activation: c.activation, ...base } };
    case 'Dropout':
      return { class_name: 'Dropout', config: { rate: c.rate, noise_shape: c.noiseShape ?? null, seed: c.seed ?? null, ...base } };
    default:
      throw unsupported(l.className, 'tfjs', 'Dense, BatchNormalization, Activation, Dropout, LayerNormalization');
  }
}

/** The model.json object and weights.bin bytes tfjs-node's file:// handler would write. */
export function encodeTfjsModel(artifacts: ModelArtifacts, generatedBy: string): { json: Record<string, unknown>; weights: Buffer } {
  const layers = artifacts.layers.map((l, i) => layerTo(l, i === 0, artifacts.inputDim));
  const specs = artifacts.tensors.map((t) => ({ name: t.name, shape: t.shape.slice(), dtype: 'float32' }));
  const bytes = artifacts.tensors.reduce((n, t) => n + t.data.byteLength, 0);
  const weights = Buffer.alloc(bytes);
  let pos = 0;
  for (const t of artifacts.tensors) {
    if (LITTLE_ENDIAN_HOST) weights.set(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength), pos);
    else for (let i = 0; i < t.data.length; i++) weights.writeFloatLE(t.data[i], pos + 4 * i);
    pos += t.data.byteLength;
  }
  const json = {
    modelTopology: {
      class_name: 'Sequential',
      config: { name: artifacts.name ?? 'sequential', layers },
      keras_version: `tfjs-layers ${TFJS_VERSION}`,
      backend: 'tensor_flow.js',
    },
    weightsManifest: [{ paths: [TFJS_WEIGHTS_FILE], weights: specs }],
    format: 'layers-model',
    generatedBy,
    convertedBy: null,
  };
  return { json, weights };
}

/** Writes model.json and weights.bin into dir (created if needed), each replaced atomically, weights first. */
export async function writeTfjsModel(dir: string, artifacts: ModelArtifacts, generatedBy: string): Promise<void> {
  const { json, weights } = encodeTfjsModel(artifacts, generatedBy);
  await fs.promises.mkdir(dir, { recursive: true });
  await writeFileAtomic(path.join(dir, TFJS_WEIGHTS_FILE), weights);
  await writeFileAtomic(path.join(dir, TFJS_MODEL_FILE), JSON.stringify(json));
  await fsyncDir(dir);
}

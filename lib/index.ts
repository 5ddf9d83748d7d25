/**
 * densenorm: fused Dense + BatchNorm networks for Node.js, on C++ SIMD kernels.
 * The API follows TensorFlow.js layers (and Keras) names and defaults.
 */
// First, so the built-in layer classes register in their documented order.
import './layers';
import { native } from './native';
import { checkPositiveInt } from './validate';
import { Sequential, SequentialArgs } from './models/sequential';
import { loadAnyModel as load } from './models/load';
import { QuantizedModel } from './models/quantized_model';
import { cpuFlag } from './util/cpu_flags';

export { Tensor, TensorLike, tensor } from './tensor';
export * as layers from './layers';
export * as optimizers from './optimizers';
export * as schedules from './optimizers/schedules';
export * as regularizers from './regularizers';
export * as callbacks from './callbacks';
export * as io from './io_api';
export { Callback, EarlyStopping, ReduceLROnPlateau, ModelCheckpoint, LearningRateScheduler, CSVLogger, TerminateOnNaN } from './callbacks';
export { initializers } from './initializers';
export { setSeed } from './random';
export { DensenormError, DensenormErrorCode } from './errors';
export { Layer, LayerWeight, Dense, BatchNormalization, Activation, Dropout, LayerNormalization, GroupNormalization } from './layers';
export { Optimizer, SGD, Adam, RMSprop } from './optimizers';
export { Precision, PRECISIONS, bf16Support } from './precision';
export type { LearningRateSchedule, ScheduleConfig } from './optimizers/schedules';
export { Regularizer, RegularizerSpec, RegularizerConfig } from './regularizers';
export type { SaveOptions, SaveFormat } from './models/save';
export { Sequential, SequentialArgs, CompileArgs, FitArgs, History, Logs, Callbacks, FitParams, EvaluateResult, Dataset, DatasetBatch, FitDatasetArgs } from './models/sequential';
export { LossName } from './losses';
export { QuantizedModel } from './models/quantized_model';
export type { QuantizeArgs } from './models/quantize';
export { ActivationName } from './activations';

/** A new, empty (or pre-filled) Sequential model. */
export function sequential(args?: SequentialArgs): Sequential {
  return new Sequential(args);
}

/**
 * Loads a model written by model.save(dir), or a TensorFlow.js layers model (its directory or its
 * model.json; weights in weights.bin or groupN-shardKofM.bin shards).
 */
/** A saved model: a Sequential, or a QuantizedModel for a directory model.quantize(...).save wrote. */
export function loadModel(path: string): Promise<Sequential | QuantizedModel> {
  return load(path);
}

/** Which low-precision paths this CPU runs natively, and the int8 kernel path in use. */
export function lowPrecisionInfo(): { int8Path: string; vnni: boolean; avx512bf16: boolean } {
  const i = native.int8Info();
  return { int8Path: i.path, vnni: i.vnni, avx512bf16: cpuFlag('avx512_bf16') };
}

/** The kernel path in use ('scalar' | 'avx2' | 'avx512' on x86-64, 'scalar' | 'neon' on arm64) and the native thread count. */
export function backend(): { isa: 'scalar' | 'avx2' | 'avx512' | 'neon'; threads: number } {
  const b = native.backend();
  return { isa: b.isa, threads: b.threads };
}

/** Sets the native thread-pool size (also DENSENORM_NUM_THREADS at startup). */
export function setNumThreads(n: number): void {
  native.setNumThreads(checkPositiveInt('n', n));
}

export const version: string = (require('../package.json') as { version: string }).version;
export { loadMnist, MnistSplit } from './data/mnist';

/**
 * The native graph (NativeNet) of a layer list: the layers' fused blocks turned into a native spec,
 * gradient buffers kept per weight, and the net cached until the layers or compile settings change.
 */
import { ACT_CODES, LOSS_CODES, NativeBlockSpec, NativeNet, NativeNetSpec, NativeParamSlot, native } from '../native';
import type { Layer } from '../layers/layer';
import type { LossName } from '../losses';
import type { Optimizer } from '../optimizers/optimizer';
import type { Regularizer } from '../regularizers';
import { Block, fuse } from './fusion';

/** The compile settings a native graph is built for. */
export interface GraphSettings {
  optimizer: Optimizer;
  loss: LossName;
}

export class NativeGraph {
  private net?: NativeNet;
  private key = '';
  private weightsVersion = 0;
  // Kept across rebuilds: the native core reads and writes these in place.
  private readonly grads = new WeakMap<Float32Array, Float32Array>();

  /**
   * The net for these built layers: the cached one while layer names, trainable flags and the loss
   * are unchanged, else a new one (settings undefined: an uncompiled model, inference only).
   */
  get(layers: readonly Layer[], inputDim: number, settings: GraphSettings | undefined): NativeNet {
    const key = layers.map((l) => `${l.name}:${l.trainable}`).join('|') + `#${settings ? settings.loss : '-'}`;
    if (this.net && key === this.key) {
      // weights written through the API since the last call: inference's packed kernels are stale
      const v = weightsVersionSum(layers);
      if (v !== this.weightsVersion) {
        this.net.weightsChanged();
        this.weightsVersion = v;
      }
      return this.net;
    }
    this.invalidate();
    this.weightsVersion = weightsVersionSum(layers);
    const spec = nativeNetSpec(fuse(layers), inputDim, settings, (value) => this.gradFor(value));
    this.net = new native.NativeNet(spec);
    this.key = key;
    return this.net;
  }

  /** The net get() returned last, unless invalidated since. */
  get current(): NativeNet | undefined {
    return this.net;
  }

  /** Frees the net now; the next get() builds a new one. */
  invalidate(): void {
    if (this.net) this.net.dispose();
    this.net = undefined;
    this.key = '';
  }

  private gradFor(value: Float32Array): Float32Array {
    let g = this.grads.get(value);
    if (!g) {
      g = new Float32Array(value.length);
      this.grads.set(value, g);
    }
    return g;
  }
}

function weightsVersionSum(layers: readonly Layer[]): number {
  let v = 0;
  for (const l of layers) v += l.weightsVersion;
  return v;
}

/**
 * The native spec of fused blocks: the one place that translates layers for the native core.
 * gradFor gives each trainable weight its gradient buffer; with settings, every such weight also
 * becomes an optimizer slot.
 */
export function nativeNetSpec(
  blocks: readonly Block[],
  inputDim: number,
  settings: GraphSettings | undefined,
  gradFor: (value: Float32Array) => Float32Array,
): NativeNetSpec {
  const params: NativeParamSlot[] = [];
  const specs: NativeBlockSpec[] = [];
  let dim = inputDim;
  const slot = (value: Float32Array, reg?: Regularizer): Float32Array => {
    const grad = gradFor(value);
    if (settings) {
      const [state1, state2] = settings.optimizer.stateFor(value);
      params.push({ value, grad, state1, state2, ...(reg ? { l1: reg.l1, l2: reg.l2 } : {}) });
    }
    return grad;
  };
  for (const b of blocks) {
    const out = b.dense ? b.dense.units : dim;
    const spec: NativeBlockSpec = {
      in: dim,
      out,
      denseTrainable: false,
      preAct: ACT_CODES[b.preAct],
      postAct: ACT_CODES[b.postAct],
    };
    if (b.dense) {
      const w = weightMap(b.dense);
      spec.kernel = w.kernel;
      spec.bias = w.bias;
      spec.denseTrainable = b.dense.trainable;
      if (b.dense.trainable) {
        spec.gradKernel = slot(w.kernel, b.dense.kernelRegularizer);
        if (w.bias) spec.gradBias = slot(w.bias, b.dense.biasRegularizer);
      }
    }
    if (b.bn) {
      const w = weightMap(b.bn);
      spec.bn = {
        gamma: w.gamma,
        beta: w.beta,
        movingMean: w.moving_mean,
        movingVariance: w.moving_variance,
        numBatches: b.bn.numBatchesTracked,
        epsilon: b.bn.epsilon,
        momentum: b.bn.momentum ?? 0,
        cumulative: b.bn.momentum === null,
        trainable: b.bn.trainable,
      };
      if (b.bn.trainable) {
        if (w.gamma) spec.bn.gradGamma = slot(w.gamma, b.bn.gammaRegularizer);
        if (w.beta) spec.bn.gradBeta = slot(w.beta, b.bn.betaRegularizer);
      }
    }
    specs.push(spec);
    dim = out;
  }
  return {
    blocks: specs,
    loss: LOSS_CODES[settings ? settings.loss : 'meanSquaredError'],
    optimizer: settings ? settings.optimizer.nativeSpec() : { type: 0, learningRate: 0 },
    params,
  };
}

function weightMap(l: Layer): Record<string, Float32Array> {
  const m: Record<string, Float32Array> = {};
  for (const w of l.weights) m[w.name] = w.value;
  return m;
}

/**
 * The native graph (NativeNet) of a layer list: the layers' ops handed to the native core (which fuses them),
 * gradient buffers kept per weight, and the net cached until the layers or compile settings change.
 */
import { LOSS_CODES, NativeNet, NativeNetSpec, NativeParamSlot, native } from '../native';
import type { Layer } from '../layers/layer';
import type { LossName } from '../losses';
import type { NativeMetric } from '../metrics';
import type { Optimizer } from '../optimizers/optimizer';
import type { Regularizer } from '../regularizers';
import type { Precision } from '../precision';

/** The compile settings a native graph is built for. */
export interface GraphSettings {
  optimizer: Optimizer;
  loss: LossName;
  metrics?: readonly NativeMetric[];
  precision?: Precision;
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
    const key = layers.map((l) => `${l.name}:${l.trainable}`).join('|') + `#${settings ? settings.loss : '-'}` +
      `#${settings?.metrics?.map((m) => m.native).join(',') ?? ''}#${settings?.precision ?? 'float32'}`;
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
    const spec = nativeNetSpec(layers, inputDim, settings, (value) => this.gradFor(value));
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
 * The native spec of a layer list: each layer's ops (Layer.toOps), the one place that hands
 * layers to the native core. gradFor gives each trainable weight its gradient buffer; with
 * settings, every such weight also becomes an optimizer slot.
 */
export function nativeNetSpec(
  layers: readonly Layer[],
  inputDim: number,
  settings: GraphSettings | undefined,
  gradFor: (value: Float32Array) => Float32Array,
): NativeNetSpec {
  const params: NativeParamSlot[] = [];
  const ctx = {
    grad(value: Float32Array, reg?: Regularizer): Float32Array {
      const grad = gradFor(value);
      if (settings) {
        const [state1, state2] = settings.optimizer.stateFor(value);
        params.push({ value, grad, state1, state2, ...(reg ? { l1: reg.l1, l2: reg.l2 } : {}) });
      }
      return grad;
    },
  };
  return {
    inputFeatures: inputDim,
    ops: layers.flatMap((l) => l.toOps(ctx)),
    loss: LOSS_CODES[settings ? settings.loss : 'meanSquaredError'],
    optimizer: settings ? settings.optimizer.nativeSpec() : { type: 0, learningRate: 0 },
    params,
    metrics: settings?.metrics?.map((m) => m.native) ?? [],
    ...(settings?.precision && settings.precision !== 'float32' ? { precision: settings.precision } : {}),
  };
}

/** The layers each native block runs, as the core fuses them (names per block). */
export function fusedLayerGroups(layers: readonly Layer[]): string[][] {
  const owner: Layer[] = [];
  const ops = layers.flatMap((l) => {
    const o = l.toOps();
    for (let i = 0; i < o.length; i++) owner.push(l);
    return o;
  });
  return native.fusionGroups(ops).map((g) => [...new Set(g.map((i) => owner[i].name))]);
}

/**
 * Layer normalization (Ba et al. 2016; Keras `LayerNormalization`): each row normalized over its
 * features, y = gamma * (x - mean_row) / sqrt(var_row + epsilon) + beta, the same in training and
 * inference. rmsScaling (Keras 3): RMSNorm, y = gamma * x / sqrt(mean(x^2) + epsilon), no beta.
 */
import type { NativeOp } from '../native';
import { checkBoolean } from '../validate';
import { checkRowNormalizationArgs, ROW_NORM_KEYS, RowNormalization, RowNormalizationArgs } from './row_normalization';
import { registerClass } from './serialization';

export interface LayerNormalizationLayerArgs extends RowNormalizationArgs {
  /** RMSNorm: no mean subtraction, gamma only (center is ignored). Default false. */
  rmsScaling?: boolean;
}

export class LayerNormalization extends RowNormalization {
  /** The name model.json stores for this class. */
  static readonly className = 'LayerNormalization';

  readonly rmsScaling: boolean;

  constructor(args: LayerNormalizationLayerArgs = {}) {
    const { a, parts } = checkRowNormalizationArgs('layerNormalization args', args, [...ROW_NORM_KEYS, 'rmsScaling']);
    const rmsScaling = a.rmsScaling === undefined ? false : checkBoolean('rmsScaling', a.rmsScaling);
    super(LayerNormalization.className, 'layer_normalization', a, 'layerNormalization args', parts);
    this.rmsScaling = rmsScaling;
  }

  protected hasGamma(): boolean {
    return this.scale || this.rmsScaling;  // Keras 3: RMS scaling always learns gamma
  }
  protected hasBeta(): boolean {
    return this.center && !this.rmsScaling;
  }

  protected opAttributes(): NativeOp {
    return { op: 'layerNormalization', rms: this.rmsScaling };
  }

  getConfig(): Record<string, unknown> {
    return { ...this.rowNormConfig(), rmsScaling: this.rmsScaling };
  }

  static fromConfig(config: Record<string, unknown>): LayerNormalization {
    return new LayerNormalization(config as LayerNormalizationLayerArgs);
  }
}

registerClass(LayerNormalization.className, LayerNormalization.fromConfig);

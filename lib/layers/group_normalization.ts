/**
 * Group normalization (Wu & He 2018; Keras `GroupNormalization`): the features of each row split
 * into `groups` contiguous groups, each normalized over its own values; gamma and beta per
 * feature. groups 1 is layer normalization; groups = features normalizes each value alone.
 */
import type { NativeOp } from '../native';
import { checkPositiveInt, rangeError } from '../validate';
import type { WeightSpec } from './layer';
import { checkRowNormalizationArgs, ROW_NORM_KEYS, RowNormalization, RowNormalizationArgs } from './row_normalization';
import { registerClass } from './serialization';

export interface GroupNormalizationLayerArgs extends RowNormalizationArgs {
  /** Number of groups; must divide the feature count. Default 32 (Keras). */
  groups?: number;
}

export class GroupNormalization extends RowNormalization {
  /** The name model.json stores for this class. */
  static readonly className = 'GroupNormalization';

  readonly groups: number;

  constructor(args: GroupNormalizationLayerArgs = {}) {
    const { a, parts } = checkRowNormalizationArgs('groupNormalization args', args, [...ROW_NORM_KEYS, 'groups']);
    const groups = a.groups === undefined ? 32 : checkPositiveInt('groups', a.groups);
    super(GroupNormalization.className, 'group_normalization', a, 'groupNormalization args', parts);
    this.groups = groups;
  }

  protected weightSpecs(inputDim: number): WeightSpec[] {
    if (inputDim % this.groups !== 0) {
      throw rangeError(
        `a feature count divisible by groups (${this.groups})`,
        `inputDim of layer "${this.name}"`,
        inputDim,
      );
    }
    return super.weightSpecs(inputDim);
  }

  protected opAttributes(): NativeOp {
    return { op: 'groupNormalization', groups: this.groups };
  }

  getConfig(): Record<string, unknown> {
    return { ...this.rowNormConfig(), groups: this.groups };
  }

  static fromConfig(config: Record<string, unknown>): GroupNormalization {
    return new GroupNormalization(config as GroupNormalizationLayerArgs);
  }
}

registerClass(GroupNormalization.className, GroupNormalization.fromConfig);

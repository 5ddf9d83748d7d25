/**
 * Groups a layer list into fused blocks: [Dense] → pre-activation → [BatchNorm] → post-activation.
 * Each block runs as one native pass forward and one backward.
 */
import { ActivationName } from '../activations';
import { Activation } from '../layers/activation';
import { BatchNormalization } from '../layers/batch_normalization';
import { Dense } from '../layers/dense';
import { Layer } from '../layers/layer';

export interface Block {
  layers: Layer[];
  dense?: Dense;
  preAct: ActivationName;
  bn?: BatchNormalization;
  postAct: ActivationName;
}

export function fuse(layers: readonly Layer[]): Block[] {
  const blocks: Block[] = [];
  let cur: Block | undefined;
  let postTaken = false;
  const open = (): Block => {
    cur = { layers: [], preAct: 'linear', postAct: 'linear' };
    postTaken = false;
    blocks.push(cur);
    return cur;
  };
  for (const layer of layers) {
    let b = cur;
    if (layer instanceof Dense) {
      b = open();
      b.dense = layer;
      b.preAct = layer.activation;
    } else if (layer instanceof BatchNormalization) {
      if (!b || b.bn || postTaken) b = open();
      b.bn = layer;
    } else if (layer instanceof Activation) {
      if (b && !b.bn && b.preAct === 'linear' && !postTaken && !(b.layers.length > 0 && b.layers[b.layers.length - 1] instanceof Activation)) {
        b.preAct = layer.activation;
      } else if (b && !postTaken) {
        b.postAct = layer.activation;
        postTaken = true;
      } else {
        b = open();
        b.preAct = layer.activation;
      }
    } else {
      throw new TypeError(`Unsupported layer class ${layer.className}`);
    }
    b.layers.push(layer);
  }
  return blocks;
}

/** Keras's dtype policies densenorm runs: float32, and mixed_bfloat16 (bf16 GEMMs, fp32 everything else). */
import { checkOneOf } from './validate';

export const PRECISIONS = ['float32', 'mixed_bfloat16'] as const;
export type Precision = (typeof PRECISIONS)[number];

/** compile's `precision` (undefined → 'float32'); a TypeError for a non-string, a RangeError naming the allowed values otherwise. */
export function checkPrecision(v: unknown, argName: string): Precision {
  if (v === undefined) return 'float32';
  return checkOneOf(argName, v, PRECISIONS);
}

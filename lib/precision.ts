/** Keras's dtype policies densenorm runs: float32, and mixed_bfloat16 (bf16 GEMMs, fp32 everything else). */
import { native } from './native';
import { checkOneOf } from './validate';

export const PRECISIONS = ['float32', 'mixed_bfloat16'] as const;
export type Precision = (typeof PRECISIONS)[number];

/** compile's `precision` (undefined → 'float32'); a TypeError for a non-string, a RangeError naming the allowed values otherwise. */
export function checkPrecision(v: unknown, argName: string): Precision {
  if (v === undefined) return 'float32';
  return checkOneOf(argName, v, PRECISIONS);
}

/**
 * Whether this CPU has AVX512_BF16 (CPUID) and whether mixed_bfloat16 runs it natively here
 * (VDPBF16PS); otherwise its GEMMs run the emulation (same results, slower than float32).
 * DENSENORM_BF16=emulate forces the emulation.
 */
export function bf16Support(): { avx512Bf16: boolean; native: boolean } {
  const i = native.bf16Info();
  return { avx512Bf16: i.cpu, native: i.native };
}

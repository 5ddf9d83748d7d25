/**
 * Size limits of the library, in one place: the native binding enforces the same ones, so checking
 * them in TypeScript first gives a precise message instead of a failure deep in C++.
 */

/** Largest feature count of any layer or input (the native binding's per-dimension limit). */
export const MAX_FEATURES = 2 ** 24;

/** Largest single weight, in elements: 2^30 float32 = 4 GiB, the native core's size limit. */
export const MAX_WEIGHT_ELEMENTS = 2 ** 30;

/** Most weight scalars a loaded architecture may ask for (4 GiB of float32), checked before allocating. */
export const MAX_MODEL_PARAMS = 2 ** 30;

/** Rows × widest layer per native workspace buffer (2^28 float32 = 1 GiB); larger batches are split or rejected. */
export const MAX_WORKSPACE_VALUES = 2 ** 28;

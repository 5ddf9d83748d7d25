/**
 * Codes a DensenormError carries, so callers can branch on `code` instead of parsing messages.
 * ERR_NATIVE, ERR_TRAINING, ERR_BUSY and ERR_DISPOSED also come from the addon, which raises this class.
 */
export type DensenormErrorCode =
  /** Default when no more specific code applies. */
  | 'ERR_DENSENORM'
  /** A malformed or unreadable model file: model.json, weights.safetensors, a tfjs weights.bin / shard, a PyTorch state dict. */
  | 'ERR_MODEL_FILE'
  /** A training step failed (e.g. a non-finite loss); the weights are those from before the batch. */
  | 'ERR_TRAINING'
  /** A layer was used before build() created its weights. */
  | 'ERR_NOT_BUILT'
  /** The native core reported a failure. */
  | 'ERR_NATIVE'
  /** The native graph is in use by another call (training or reading). */
  | 'ERR_BUSY'
  /** The native graph was disposed. */
  | 'ERR_DISPOSED';

/**
 * Error raised for failures that are neither a wrong argument type (TypeError)
 * nor a bad argument value (RangeError): corrupt model files, native failures.
 * `code` lets callers branch without parsing messages, like Node's own errors.
 */
export class DensenormError extends Error {
  readonly code: DensenormErrorCode;

  constructor(message: string, code: DensenormErrorCode = 'ERR_DENSENORM', options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'DensenormError';
    this.code = code;
  }
}

/** Code used for every malformed / unreadable model or weights file. */
export const ERR_MODEL_FILE = 'ERR_MODEL_FILE' satisfies DensenormErrorCode;

/**
 * Error raised for failures that are neither a wrong argument type (TypeError)
 * nor a bad argument value (RangeError): corrupt model files, native failures.
 * `code` lets callers branch without parsing messages, like Node's own errors.
 */
export class DensenormError extends Error {
  readonly code: string;

  constructor(message: string, code: string = 'ERR_DENSENORM', options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'DensenormError';
    this.code = code;
  }
}

/** Code used for every malformed / unreadable model or weights file. */
export const ERR_MODEL_FILE = 'ERR_MODEL_FILE';

/**
 * Optimizers describe the update rule; the update itself runs natively, fused over all
 * parameters in one pass per training step. State (velocity, moments) lives here, keyed by the
 * parameter array, so it survives a rebuild of the native graph (e.g. after freezing a layer).
 */
import { OPTIMIZER_CODES, NativeOptimizerSpec } from '../native';

export type OptimizerName = keyof typeof OPTIMIZER_CODES;

export abstract class Optimizer {
  /** 'sgd' | 'adam' | 'rmsprop' */
  abstract readonly name: OptimizerName;
  /** Current learning rate; may be changed between steps (e.g. by a callback). */
  learningRate: number;
  /** Steps taken so far (Adam's bias correction uses it). */
  iterations = 0;
  private readonly state = new WeakMap<Float32Array, Float32Array[]>();

  protected constructor(learningRate: number) {
    this.learningRate = learningRate;
  }

  /** How many state arrays each parameter needs. */
  protected abstract stateCount(): number;

  /** The state arrays for one parameter, created zeroed on first use. */
  stateFor(param: Float32Array): Float32Array[] {
    let s = this.state.get(param);
    if (!s) {
      s = Array.from({ length: this.stateCount() }, () => new Float32Array(param.length));
      this.state.set(param, s);
    }
    return s;
  }

  /** The native description of the rule. */
  abstract nativeSpec(): NativeOptimizerSpec;

  abstract getConfig(): Record<string, unknown>;
}

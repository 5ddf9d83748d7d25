/** Regression metrics in the target's own units, accumulated in float64 (streamable). */
export class RegressionAccumulator {
  n = 0;
  private se = 0;
  private ae = 0;
  private mean = 0;
  private m2 = 0;

  add(pred: number, truth: number): void {
    const d = pred - truth;
    this.n++;
    this.se += d * d;
    this.ae += Math.abs(d);
    const dm = truth - this.mean;
    this.mean += dm / this.n;
    this.m2 += dm * (truth - this.mean);
  }

  result(): { mse: number; mae: number; r2: number } {
    const n = this.n;
    const mse = this.se / n;
    const varY = this.m2 / n;
    return { mse, mae: this.ae / n, r2: varY > 0 ? 1 - mse / varY : NaN };
  }
}

export function regressionMetrics(pred: ArrayLike<number>, truth: ArrayLike<number>): { mse: number; mae: number; r2: number } {
  const acc = new RegressionAccumulator();
  for (let i = 0; i < pred.length; i++) acc.add(pred[i], truth[i]);
  return acc.result();
}

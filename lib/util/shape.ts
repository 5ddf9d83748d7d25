/** Number of elements of a tensor of this shape (1 for the empty shape). */
export function shapeSize(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

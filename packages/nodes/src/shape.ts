/** Shape ops: `reshape`, and the `broadcastTo` / `sumTo` pair (defined in core, where the engine uses them). */
import {
  ArgumentError,
  assertTensor,
  checkShape,
  defineOp,
  fmtShape,
  type Op,
  ShapeError,
  shapeSize,
  type Tensor,
} from "@gradgraph/core";

export { broadcastTo, sumTo } from "@gradgraph/core";

interface ReshapeAttrs {
  readonly shape: readonly number[];
}

/** `reshape`: same elements, new shape; the output shares the input's data (no copy). */
export const reshapeOp: Op<ReshapeAttrs> = defineOp<ReshapeAttrs>({
  name: "reshape",
  inputs: ["x"],
  forward([x], { shape }, ctx) {
    ctx.stash(x!.shape);
    return { data: x!.data, shape };
  },
  backward(gy, ctx) {
    return [reshape(gy, ctx.stashed as readonly number[])];
  },
  test: {
    attrs: ([s], pick) => {
      const size = s!.reduce((a, b) => a * b, 1);
      const options = [[size], [...s!].reverse(), [1, ...s!], s!.filter((d) => d !== 1)];
      return { shape: options[pick.int(0, options.length - 1)]! };
    },
  },
  check([x], attrs) {
    if (!Array.isArray(attrs?.shape)) {
      throw new ArgumentError("reshape", `reshape: attrs must be { shape: number[] }, got ${JSON.stringify(attrs)}`);
    }
    checkShape("reshape", attrs.shape);
    if (shapeSize(attrs.shape) !== x!.size) {
      throw new ShapeError(
        "reshape",
        `reshape: cannot reshape ${fmtShape(x!.shape)} (${x!.size} elements) to ${fmtShape(attrs.shape)}`,
      );
    }
  },
});

/**
 * The same elements in a new shape (row-major order). One dimension may be `-1`, inferred from
 * the others. The result shares `x`'s data.
 * @throws ShapeError when the sizes differ, or more than one dimension is -1.
 * @throws ArgumentError for non-integer dimensions.
 */
export function reshape(x: Tensor, shape: readonly number[]): Tensor {
  if (!Array.isArray(shape)) {
    throw new ArgumentError("reshape", `reshape: shape must be an array of integers, got ${typeof shape}`);
  }
  const s = [...shape];
  let infer = -1;
  let known = 1;
  for (let i = 0; i < s.length; i++) {
    const d = s[i];
    if (typeof d !== "number" || !Number.isInteger(d) || d < -1) {
      throw new ArgumentError("reshape", `reshape: shape[${i}] must be a non-negative integer or -1, got ${String(d)}`);
    }
    if (d === -1) {
      if (infer >= 0) throw new ShapeError("reshape", `reshape: only one dimension can be -1, got ${fmtShape(s)}`);
      infer = i;
    } else known *= d;
  }
  const size = assertTensor("reshape", "x", x).size;
  if (infer >= 0) {
    if (known === 0 || size % known !== 0) {
      throw new ShapeError("reshape", `reshape: cannot reshape a tensor of ${size} elements to ${fmtShape(s)}`);
    }
    s[infer] = size / known;
  }
  return reshapeOp([x], { shape: s });
}

/**
 * The seed's copy nodes: `branch` (one value to n outputs; backward sums the n gradients) and
 * `repeat` (np.repeat; backward sums the repeated slices).
 */
import {
  ArgumentError,
  checkShape,
  defineMultiOutputOp,
  defineOp,
  type Kept,
  type MultiOp,
  normalizeAxis,
  type Op,
  type TensorLike,
  toTensor,
} from "@gradgraph/core";
import { add } from "./arithmetic.js";
import { fmtValue } from "./format.js";
import { sum } from "./reduce.js";
import { MAX_PIECES, reshape } from "./shape.js";

/** Attributes of {@link branchOp}. */
export interface BranchAttrs {
  /** The number of copies, an integer in `1..MAX_PIECES` (2^20). */
  readonly n: number;
}

/** `branch`: n copies of the input; backward adds the gradients of every copy. */
export const branchOp: MultiOp<BranchAttrs> = defineMultiOutputOp<BranchAttrs>({
  name: "branch",
  inputs: ["x"],
  integers: "keep",
  check(_inputs, attrs) {
    const n = attrs?.n;
    if (typeof n !== "number" || !Number.isInteger(n) || n < 1) {
      throw new ArgumentError("branch", `branch: n must be an integer >= 1, got ${fmtValue(n)}`);
    }
    if (n > MAX_PIECES) throw new ArgumentError("branch", `branch: n must be at most ${MAX_PIECES}, got ${n}`);
  },
  forward([x], { n }) {
    return Array.from({ length: n }, () => ({ data: x!.data.slice(), shape: x!.shape }));
  },
  backward(gys) {
    let g = gys[0]!;
    for (let k = 1; k < gys.length; k++) g = add(g, gys[k]!);
    return [g];
  },
  test: { attrs: (_s, pick) => ({ n: pick.int(1, 3) }) },
});

/**
 * The copy node: `n` copies of `x` (each a new tensor), whose gradients add up in backward — the
 * same gradient as using `x` n times.
 * @throws ArgumentError when `n` is not an integer ≥ 1.
 */
export function branch<X extends TensorLike>(x: X, n = 2): Kept<X>[] {
  return branchOp([toTensor(x, "branch", "x")], { n }) as Kept<X>[];
}

/** Attributes of {@link repeatOp}. */
export interface RepeatAttrs {
  /** How many times each slice is repeated, a non-negative integer (0 gives an empty result). */
  readonly n: number;
  /**
   * The axis, in `-rank..rank-1` (negative counts from the end; the op normalises it, as
   * {@link repeat} does), or null to repeat the flattened input.
   */
  readonly axis: number | null;
}

function repeatGeometry(shape: readonly number[], axis: number | null): [number, number, number] {
  if (axis === null) return [1, shape.reduce((a, b) => a * b, 1), 1];
  let outer = 1;
  let inner = 1;
  for (let i = 0; i < axis; i++) outer *= shape[i]!;
  for (let i = axis + 1; i < shape.length; i++) inner *= shape[i]!;
  return [outer, shape[axis]!, inner];
}

/** `repeat` (np.repeat): every slice along the axis is repeated n times in place. */
export const repeatOp: Op<RepeatAttrs, "operands"> = defineOp<RepeatAttrs>({
  name: "repeat",
  inputs: ["x"],
  integers: "keep",
  check([x], attrs) {
    const n = attrs?.n;
    if (typeof n !== "number" || !Number.isInteger(n) || n < 0) {
      throw new ArgumentError("repeat", `repeat: n must be a non-negative integer, got ${fmtValue(n)}`);
    }
    const axis = attrs.axis === null ? null : normalizeAxis("repeat", attrs.axis, x!.rank);
    // refuses a result too large to allocate (a ShapeError naming repeat) before forward runs
    const [outer, len, inner] = repeatGeometry(x!.shape, axis);
    checkShape("repeat", [outer, len, n, inner], "result (outer, len, n, inner)");
  },
  normalize: ([x], attrs) => ({
    n: attrs.n,
    axis: attrs.axis === null ? null : normalizeAxis("repeat", attrs.axis, x!.rank),
  }),
  forward([x], { n, axis }, ctx) {
    const [outer, len, inner] = repeatGeometry(x!.shape, axis);
    const shape = axis === null ? [len * n] : x!.shape.map((d, i) => (i === axis ? d * n : d));
    const out = ctx.alloc(shape);
    const src = x!.data;
    const dst = out.data;
    let o = 0;
    // a zero-size result has nothing to copy; without this, a huge n loops for nothing
    if (dst.length > 0)
      for (let a = 0; a < outer; a++) {
        for (let i = 0; i < len; i++) {
          const s = (a * len + i) * inner;
          for (let r = 0; r < n; r++, o += inner) dst.set(src.subarray(s, s + inner), o);
        }
      }
    ctx.stash(x!.shape);
    return out;
  },
  backward(gy, ctx) {
    const xShape = ctx.stashed as readonly number[];
    const { n, axis } = ctx.attrs;
    const [outer, len, inner] = repeatGeometry(xShape, axis);
    const summed = sum(reshape(gy, [outer, len, n, inner]), { axis: 2 });
    return [reshape(summed, xShape)];
  },
  test: {
    attrs: ([s], pick) => ({
      n: pick.int(0, 3),
      axis: s!.length === 0 || pick.int(0, 3) === 0 ? null : pick.int(0, s!.length - 1),
    }),
  },
});

/**
 * numpy's `np.repeat(x, n, axis)`: each slice along `axis` is repeated `n` times consecutively
 * (`[a, b]` → `[a, a, b, b]`). Without `axis`, the flattened input is repeated (a 1-D result).
 * The seed's Repeat node is `repeat(x, N, 0)` for `x` of shape 1×D; its backward is
 * `sum(dy, { axis: 0, keepdims: true })`.
 * @throws ArgumentError when `n` is not a non-negative integer or `axis` is out of range.
 */
export function repeat<X extends TensorLike>(x: X, n: number, axis?: number): Kept<X> {
  const t = toTensor(x, "repeat", "x");
  const ax = axis === undefined || axis === null ? null : normalizeAxis("repeat", axis, t.rank);
  return repeatOp([t], { n, axis: ax }) as Kept<X>;
}

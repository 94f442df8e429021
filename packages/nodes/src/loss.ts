/**
 * Losses: softmax cross-entropy (the seed's SoftmaxWithLoss, backward `(y − t)/N`, with PyTorch's
 * `cross_entropy` options: class weights, reduction, label smoothing, an ignored class index) and
 * mean squared error.
 */
import {
  ArgumentError,
  allocArray,
  type BackwardContext,
  defineOp,
  describeValue,
  type FloatArray,
  type ForwardContext,
  fmtShape,
  isTensor,
  type NestedNumbers,
  type Op,
  type RawArray,
  ShapeError,
  shapesEqual,
  Tensor,
  type TensorLike,
  toTensor,
  toTensors,
} from "@gradgraph/core";
import { softmaxProbsInto } from "@gradgraph/core/kernels";
import { add, mul, sub } from "./arithmetic.js";
import { floatOperand, fmtAttrs, fmtValue, isArray, isInt32Array, readKnownOptions } from "./format.js";
import { mean, sum } from "./reduce.js";
import { reshape } from "./shape.js";
import { logSoftmax, softmax } from "./softmax.js";

/** Class labels: one-hot (or probability) targets of the scores' shape, or class indices. */
export type Labels = Tensor | Tensor<"int32"> | NestedNumbers | Int32Array;

/**
 * How `softmaxCrossEntropy` reduces its per-row losses, PyTorch's `reduction`: `"mean"` (their
 * weighted mean, see {@link SoftmaxCrossEntropyOptions}), `"sum"`, or `"none"` (one loss per row,
 * of the scores' shape without the class axis).
 */
export type CrossEntropyReduction = "mean" | "sum" | "none";

/**
 * The options of {@link softmaxCrossEntropy}: PyTorch's `cross_entropy(input, target, weight,
 * ignore_index, reduction, label_smoothing)` with the classes along the last axis.
 */
export interface SoftmaxCrossEntropyOptions {
  /**
   * Per-class weights `w` (PyTorch's `weight`): a Tensor of shape `[C]` or an array of C finite
   * numbers, read when the loss is computed and used as constants (they get no gradient). Row n's
   * loss is scaled by `w[label]` (class indices) or each class's term by `w[c]` (probabilities);
   * for class indices the `"mean"` divides by the sum of the weights of the rows' labels instead of
   * the number of rows.
   */
  readonly weights?: Tensor | readonly number[] | null;
  /** `"mean"` (default), `"sum"` or `"none"`. */
  readonly reduction?: CrossEntropyReduction;
  /**
   * ε in [0, 1] (default 0): the targets become `(1 − ε)·t + ε/C` (PyTorch's `label_smoothing`).
   * For class indices that is `(1 − ε)·nll + ε/C·Σ_c w_c·(−log p_c)` per row, reduced like the loss.
   */
  readonly labelSmoothing?: number;
  /**
   * A class index whose rows contribute nothing and are left out of the mean's denominator
   * (PyTorch's `ignore_index`; any integer, also outside `[0, C)`; default: none). Class indices
   * only: with probability targets a value ≥ 0 is an error and a negative one has no effect, as in
   * PyTorch.
   */
  readonly ignoreIndex?: number | null;
}

/**
 * The attributes of {@link softmaxCrossEntropyOp}: `undefined` for the seed's loss (the mean over
 * rows, no weights, no smoothing), or PyTorch's options for probability targets. Omitted fields
 * take their defaults (`"mean"`, no weights, 0).
 */
export interface SoftmaxCrossEntropyAttrs {
  /** `"mean"` (over the rows), `"sum"` or `"none"`. */
  readonly reduction?: CrossEntropyReduction;
  /** C finite per-class weights, or null for none. */
  readonly weights?: readonly number[] | null;
  /** ε in [0, 1]: the targets become `(1 − ε)·t + ε/C`. */
  readonly labelSmoothing?: number;
}

/** The attributes of {@link softmaxCrossEntropyIndicesOp}: class indices and PyTorch's options. */
export interface SoftmaxCrossEntropyIndicesAttrs extends SoftmaxCrossEntropyAttrs {
  /** One class index per row of the scores (rows in row-major order): an integer in `[0, C)` or `ignoreIndex`. */
  readonly labels: readonly number[];
  /** The class index of rows to leave out, or null for none. */
  readonly ignoreIndex?: number | null;
}

/** Options with every default filled in, as the ops compute with them. */
interface Resolved {
  readonly reduction: CrossEntropyReduction;
  readonly weights: readonly number[] | null;
  readonly labelSmoothing: number;
}

const FN = "softmaxCrossEntropy";
const OPTION_KEYS = ["weights", "reduction", "labelSmoothing", "ignoreIndex"] as const;
const ATTR_KEYS = ["reduction", "weights", "labelSmoothing"] as const;
const INDICES_ATTR_KEYS = ["labels", "reduction", "weights", "labelSmoothing", "ignoreIndex"] as const;

/** The reduction option. @throws ArgumentError naming `fn` for anything but the three names. */
function reductionIn(fn: string, v: unknown): CrossEntropyReduction {
  if (v === undefined) return "mean";
  if (v === "mean" || v === "sum" || v === "none") return v;
  throw new ArgumentError(fn, `${fn}: reduction must be "mean", "sum" or "none", got ${fmtAttrs(v)}`);
}

/** The labelSmoothing option. @throws ArgumentError naming `fn` for a value outside [0, 1] or NaN. */
function smoothingIn(fn: string, v: unknown): number {
  if (v === undefined) return 0;
  if (typeof v === "number" && v >= 0 && v <= 1) return v;
  throw new ArgumentError(fn, `${fn}: labelSmoothing must be a number in [0, 1], got ${fmtValue(v)}`);
}

/** The ignoreIndex option. @throws ArgumentError naming `fn` for anything but a safe integer. */
function ignoreIndexIn(fn: string, v: unknown): number | null {
  if (v === undefined || v === null) return null;
  if (Number.isSafeInteger(v)) return v as number;
  throw new ArgumentError(fn, `${fn}: ignoreIndex must be an integer, got ${fmtValue(v)}`);
}

/**
 * The weights option as C finite numbers (a copy), or null.
 * @throws ShapeError naming `fn` for a tensor not of shape `[C]` or an array not of C entries;
 *   ArgumentError for anything else or an entry that is not a finite number.
 */
function weightsIn(fn: string, v: unknown, scores: Tensor): number[] | null {
  if (v === undefined || v === null) return null;
  const C = scores.shape[scores.rank - 1]!;
  let values: ArrayLike<unknown>;
  if (isTensor(v)) {
    if (v.rank !== 1 || v.shape[0] !== C) {
      throw new ShapeError(
        fn,
        `${fn}: weights of shape ${fmtShape(v.shape)} must have shape [${C}], one per class of scores of shape ${fmtShape(scores.shape)}`,
      );
    }
    values = v.data;
  } else if (isArray(v)) {
    if (v.length !== C) {
      throw new ShapeError(
        fn,
        `${fn}: ${v.length} weights for the ${C} classes of scores of shape ${fmtShape(scores.shape)}; weights must have one entry per class`,
      );
    }
    values = v;
  } else {
    throw new ArgumentError(
      fn,
      `${fn}: weights must be a Tensor of shape [${C}] or an array of ${C} numbers, got ${describeValue(v)}`,
    );
  }
  const out = new Array<number>(C);
  for (let c = 0; c < C; c++) {
    const w = values[c];
    if (typeof w !== "number" || !Number.isFinite(w)) {
      throw new ArgumentError(fn, `${fn}: weights[${c}] is ${fmtValue(w)}; weights must be finite numbers`);
    }
    out[c] = w;
  }
  return out;
}

/** The dense op's attributes, checked, with their defaults; `fn` names the op in messages. */
function resolveAttrs(
  fn: string,
  attrs: unknown,
  scores: Tensor,
  keys: readonly string[],
): Resolved & { o: Record<string, unknown> } {
  const o = readKnownOptions(fn, attrs, keys, "attrs");
  return {
    reduction: reductionIn(fn, o.reduction),
    weights: weightsIn(fn, o.weights, scores),
    labelSmoothing: smoothingIn(fn, o.labelSmoothing),
    o,
  };
}

/** True for options that compute the seed's loss (the mean over rows, no weights, no smoothing). */
function isSeedLoss(r: Resolved): boolean {
  return r.reduction === "mean" && r.weights === null && r.labelSmoothing === 0;
}

/** Checks that scores have a class axis. @throws ShapeError naming `fn`. */
function checkClassAxis(fn: string, s: Tensor): void {
  if (s.rank < 1) {
    throw new ShapeError(fn, `${fn}: scores must have a class axis, got shape ${fmtShape(s.shape)}`);
  }
}

/**
 * `softmaxCrossEntropy` over the last axis of `scores` with target distributions `t` (same
 * shape). Without attributes, the seed's loss averaged over the N rows: `−Σ t·log softmax(scores)
 * / N`, with a fused backward `(softmax(s) − t)/N`. With {@link SoftmaxCrossEntropyAttrs}, PyTorch's
 * `cross_entropy` for probability targets: per row `l = −Σ_c w_c·((1 − ε)·t_c + ε/C)·log p_c`,
 * reduced by mean over rows, sum or none.
 */
export const softmaxCrossEntropyOp: Op<SoftmaxCrossEntropyAttrs | undefined> = defineOp<
  SoftmaxCrossEntropyAttrs | undefined,
  readonly ["scores", "targets"]
>({
  name: "softmaxCrossEntropy",
  inputs: ["scores", "targets"],
  check([s, t], attrs) {
    checkClassAxis("softmaxCrossEntropy", s);
    if (!shapesEqual(s.shape, t.shape)) {
      throw new ShapeError(
        "softmaxCrossEntropy",
        `softmaxCrossEntropy: targets of shape ${fmtShape(t.shape)} do not match scores of shape ${fmtShape(s.shape)}`,
      );
    }
    if (attrs !== undefined) resolveAttrs("softmaxCrossEntropy", attrs, s, ATTR_KEYS);
  },
  // attributes that ask for the seed's loss take its path (and its fused backward)
  normalize([s], attrs) {
    if (attrs === undefined) return undefined;
    const r = resolveAttrs("softmaxCrossEntropy", attrs, s, ATTR_KEYS);
    return isSeedLoss(r) ? undefined : { reduction: r.reduction, weights: r.weights, labelSmoothing: r.labelSmoothing };
  },
  forward([s, t], attrs, ctx) {
    if (attrs !== undefined) return denseForward(s, t, attrs as Resolved, ctx);
    // −Σ t·(s − logSumExp(s)) row by row, stably; the probabilities are kept for backward, as
    // the seed's layer keeps `self.y`
    const C = s.shape[s.rank - 1]!;
    const sd = s.data;
    const td = t.data;
    const probs = allocArray("float64", s.size) as Float64Array;
    let total = 0;
    // the probabilities and each row's log-sum-exp from the softmax kernel (WASM SIMD when large)
    const rowLse = C > 0 ? softmaxProbsInto(sd, C, probs) : new Float64Array(0);
    // one pass over the targets: the loss, and whether every row of them sums to 1 within
    // float32 rounding
    let normalized = true;
    for (let r = 0, i = 0; r < sd.length; r += C, i++) {
      const l = rowLse[i]!;
      // a row holding +Infinity: log softmax is NaN throughout, and so is the loss (PyTorch)
      if (l === Number.POSITIVE_INFINITY) total = Number.NaN;
      let mass = 0;
      for (let j = 0; j < C; j++) {
        const tv = td[r + j]!;
        mass += tv;
        if (tv !== 0) total -= tv * (sd[r + j]! - l);
      }
      if (Math.abs(mass - 1) > 1e-6) normalized = false;
    }
    const out = ctx.alloc([]);
    out.data[0] = total / rows(s.shape);
    ctx.saveInputs(0, 1);
    ctx.stash({ normalized, probs } satisfies SceStash);
    return out;
  },
  backward(gy, ctx) {
    if (ctx.attrs !== undefined) return denseBackward(gy, ctx, ctx.attrs as Resolved);
    const s = ctx.input(0);
    const t = ctx.input(1);
    const [ds, dt] = ctx.needsInputGrad;
    const stash = ctx.stashed as SceStash;
    const g = mul(gy, 1 / rows(s.shape));
    // d/ds = (softmax(s)·Σt − t)/N; for targets whose rows sum to 1 (one-hot, probabilities) and
    // that are constants, that is the seed's (y − t)/N, one product cheaper
    const ys = dt || !stash.normalized ? mul(softmax(s), sum(t, { axis: -1, keepdims: true })) : softmax(s);
    return [ds ? mul(sub(ys, t), g) : null, dt ? mul(logSoftmax(s), mul(g, -1)) : null];
  },
  // a second route, for a pass that records nothing: the seed's (y − t)/N in one loop over the
  // probabilities forward kept (checkOp compares it with backward); with options, backward itself
  fusedBackward(grads, ctx) {
    const gy = grads as Tensor;
    if (ctx.needsInputGrad[1] || ctx.attrs !== undefined) {
      return softmaxCrossEntropyOp.spec.backward(gy, ctx as BackwardContext<SoftmaxCrossEntropyAttrs | undefined>);
    }
    const s = ctx.input(0);
    return [fusedGrad(s, ctx.input(1), gy.data[0]! / rows(s.shape), ctx.stashed as SceStash), null];
  },
  test: {
    cases: (pick) => {
      // the seed's loss on [N, C] in half the cases; else options, on scores of rank 1 to 3
      if (pick.bool()) {
        const s = [pick.int(1, 4), pick.int(1, 4)];
        return { shapes: [s, s], attrs: undefined };
      }
      const s = Array.from({ length: pick.int(1, 3) }, () => pick.int(1, 4));
      return { shapes: [s, s], attrs: drawOptions(pick, s[s.length - 1]!) };
    },
    domain: [0.05, 1],
  },
});

/** Options as checkOp draws them: each given or not, weights in [0.25, 2], ε in {0.25, 0.5, 1}. */
function drawOptions(
  pick: { int(min: number, max: number): number; bool(): boolean },
  C: number,
): Required<SoftmaxCrossEntropyAttrs> {
  const reductions = ["mean", "sum", "none"] as const;
  return {
    reduction: reductions[pick.int(0, 2)]!,
    weights: pick.bool() ? Array.from({ length: C }, () => pick.int(1, 8) / 4) : null,
    labelSmoothing: pick.bool() ? [0.25, 0.5, 1][pick.int(0, 2)]! : 0,
  };
}

/** The scores' shape without the class axis: one loss per row. */
function batchShape(s: Tensor): number[] {
  return s.shape.slice(0, -1);
}

/** The per-row losses reduced: all of them (`none`), their sum, or their sum over `denominator`. */
function reduced(
  perRow: Float64Array,
  batch: number[],
  reduction: CrossEntropyReduction,
  denominator: number,
  ctx: ForwardContext,
): RawArray {
  if (reduction === "none") {
    const out = ctx.alloc(batch);
    out.data.set(perRow);
    return out;
  }
  let total = 0;
  for (let r = 0; r < perRow.length; r++) total += perRow[r]!;
  const out = ctx.alloc([]);
  out.data[0] = reduction === "sum" ? total : total / denominator;
  return out;
}

/**
 * The upstream gradient shaped to multiply rows `[..., C]`: `gy/denominator` for the mean,
 * `gy` for the sum (both 0-d), `gy` with a trailing axis of 1 for `none`; 0 for a mean over a
 * denominator of 0.
 */
function rowGrad(gy: Tensor, batch: number[], reduction: CrossEntropyReduction, denominator: number): Tensor {
  if (reduction === "none") return reshape(gy, [...batch, 1]);
  if (reduction === "sum") return gy;
  // a mean over no weight (every row ignored) is NaN; its gradient is 0, as PyTorch's
  return mul(gy, denominator === 0 ? 0 : 1 / denominator);
}

/** Each row's log-sum-exp (float64), through the softmax kernel the seed's loss uses. */
function rowLogSumExp(s: Tensor, C: number): Float64Array {
  if (C === 0 || s.size === 0) return new Float64Array(rows(s.shape));
  const probs = allocArray("float64", s.size) as Float64Array;
  // a copy: the kernel returns a scratch array
  return Float64Array.from(softmaxProbsInto(s.data, C, probs));
}

/** PyTorch's loss for probability targets: `l_n = −Σ_c w_c·((1 − ε)·t_nc + ε/C)·log p_nc`. */
function denseForward(s: Tensor, t: Tensor, a: Resolved, ctx: ForwardContext): RawArray {
  const C = s.shape[s.rank - 1]!;
  const R = rows(s.shape);
  const sd = s.data;
  const td = t.data;
  const lse = rowLogSumExp(s, C);
  const keep = 1 - a.labelSmoothing;
  const spread = C > 0 ? a.labelSmoothing / C : 0;
  const w = a.weights;
  const perRow = new Float64Array(R);
  for (let r = 0; r < R; r++) {
    const l = lse[r]!;
    // a row holding +Infinity: log softmax is NaN throughout, and so is its loss (PyTorch)
    if (l === Number.POSITIVE_INFINITY) {
      perRow[r] = Number.NaN;
      continue;
    }
    const o = r * C;
    let acc = 0;
    for (let j = 0; j < C; j++) {
      let coef = keep * td[o + j]! + spread;
      if (w !== null) coef *= w[j]!;
      if (coef !== 0) acc -= coef * (sd[o + j]! - l);
    }
    perRow[r] = acc;
  }
  ctx.saveInputs(0, 1);
  return reduced(perRow, batchShape(s), a.reduction, R, ctx);
}

/**
 * The derivative with options, one rule: with `A = w·((1 − ε)·t + ε/C)` and g the upstream
 * gradient per row, `∂/∂s = (softmax(s)·ΣA − A)·g` and `∂/∂t = −(1 − ε)·w·log softmax(s)·g`.
 */
function denseBackward(
  gy: Tensor,
  ctx: BackwardContext<SoftmaxCrossEntropyAttrs | undefined>,
  a: Resolved,
): (Tensor | null)[] {
  const s = ctx.input(0);
  const t = ctx.input(1);
  const [ds, dt] = ctx.needsInputGrad;
  const C = s.shape[s.rank - 1]!;
  const g = rowGrad(gy, batchShape(s), a.reduction, rows(s.shape));
  const eps = a.labelSmoothing;
  const w = a.weights === null ? null : new Tensor(toArray(s, a.weights, 1), [C]);
  let A = eps === 0 ? t : add(mul(t, 1 - eps), eps / C);
  if (w !== null) A = mul(A, w);
  const dScores = ds ? mul(sub(mul(softmax(s), sum(A, { axis: -1, keepdims: true })), A), g) : null;
  let dTargets: Tensor | null = null;
  if (dt) {
    const coef = a.weights === null ? eps - 1 : new Tensor(toArray(s, a.weights, eps - 1), [C]);
    dTargets = mul(mul(logSoftmax(s), coef), g);
  }
  return [dScores, dTargets];
}

/** `values·k` as an array of `like`'s dtype. */
function toArray(like: Tensor, values: readonly number[], k: number): FloatArray {
  const out = allocArray(like.dtype, values.length);
  for (let i = 0; i < values.length; i++) out[i] = values[i]! * k;
  return out;
}

/** `(softmax(s)·Σt − t)·g` (or `(softmax(s) − t)·g` when the rows of t sum to 1), as a plain tensor. */
function fusedGrad(s: Tensor, t: Tensor, g: number, { normalized, probs }: SceStash): Tensor {
  const C = s.shape[s.rank - 1]!;
  const out = allocArray(s.dtype, s.size);
  const td = t.data;
  if (normalized) {
    // rows of t summing to 1 (one-hot targets): the mass is taken as 1, one flat loop
    for (let i = 0; i < out.length; i++) out[i] = (probs[i]! - td[i]!) * g;
    return new Tensor(out, s.shape);
  }
  for (let r = 0; r < out.length; r += C) {
    let mass = 0;
    for (let j = 0; j < C; j++) mass += td[r + j]!;
    for (let j = 0; j < C; j++) out[r + j] = (probs[r + j]! * mass - td[r + j]!) * g;
  }
  return new Tensor(out, s.shape);
}

/** What the forward keeps for backward: whether the target rows sum to 1, and the probabilities. */
interface SceStash {
  readonly normalized: boolean;
  readonly probs: FloatArray;
}

function rows(shape: readonly number[]): number {
  let n = 1;
  for (let i = 0; i < shape.length - 1; i++) n *= shape[i]!;
  return n;
}

// ---------------------------------------------------------------------------------------------
// Class indices with options

/** Indices attributes with every default filled in. */
interface ResolvedIndices extends Resolved {
  readonly labels: readonly number[];
  readonly ignoreIndex: number | null;
}

/** The indices op's attributes, checked (labels against the scores' rows and classes), with defaults. */
function resolveIndices(fn: string, attrs: unknown, s: Tensor): ResolvedIndices {
  if (attrs === undefined) {
    throw new ArgumentError(
      fn,
      `${fn}: attrs must be an object like { ${INDICES_ATTR_KEYS.join(", ")} }, got undefined`,
    );
  }
  const r = resolveAttrs(fn, attrs, s, INDICES_ATTR_KEYS);
  const ignoreIndex = ignoreIndexIn(fn, r.o.ignoreIndex);
  const labels = r.o.labels;
  if (!isArray(labels)) {
    throw new ArgumentError(fn, `${fn}: attrs.labels must be an array of class indices, got ${describeValue(labels)}`);
  }
  const n = rows(s.shape);
  if (labels.length !== n) {
    throw new ShapeError(
      fn,
      `${fn}: ${labels.length} class indices for ${n} rows of scores of shape ${fmtShape(s.shape)}`,
    );
  }
  return {
    reduction: r.reduction,
    weights: r.weights,
    labelSmoothing: r.labelSmoothing,
    ignoreIndex,
    labels: classIndices(fn, labels, s.shape[s.rank - 1]!, ignoreIndex),
  };
}

/**
 * The class indices as a new array: each an integer in `[0, C)` or equal to `ignoreIndex`.
 * @throws ArgumentError naming `fn`, the row and the value.
 */
function classIndices(fn: string, idx: ArrayLike<unknown>, C: number, ignoreIndex: number | null): number[] {
  const out = new Array<number>(idx.length);
  for (let r = 0; r < idx.length; r++) {
    const k = idx[r];
    if (ignoreIndex !== null && k === ignoreIndex) {
      out[r] = ignoreIndex;
      continue;
    }
    if (typeof k !== "number" || !Number.isInteger(k) || k < 0 || k >= C) {
      const or = ignoreIndex === null ? "" : ` or ignoreIndex (${ignoreIndex})`;
      throw new ArgumentError(
        fn,
        `${fn}: label ${r} is ${fmtValue(k)}; class indices must be integers in [0, ${C})${or}`,
      );
    }
    out[r] = k;
  }
  return out;
}

/**
 * The mean's denominator for class indices: `Σ_n w[y_n]` over the rows not ignored (their number
 * without weights), as PyTorch's `nll_loss`.
 */
function indicesDenominator(a: ResolvedIndices): number {
  let d = 0;
  for (const y of a.labels) if (y !== a.ignoreIndex) d += a.weights === null ? 1 : a.weights[y]!;
  return d;
}

/**
 * `softmaxCrossEntropy` against class indices with PyTorch's options (the function takes this op
 * when options are given; without them, class indices become one-hot targets of
 * {@link softmaxCrossEntropyOp}). Per row n with label y, `l_n = (1 − ε)·w_y·(−log p_ny) +
 * ε/C·Σ_c w_c·(−log p_nc)`, 0 where `y = ignoreIndex`; the mean divides their sum by
 * `Σ_n w_{y_n}` over the rows not ignored (NaN when that is 0, as PyTorch).
 */
export const softmaxCrossEntropyIndicesOp: Op<SoftmaxCrossEntropyIndicesAttrs> = defineOp<
  SoftmaxCrossEntropyIndicesAttrs,
  readonly ["scores"]
>({
  name: "softmaxCrossEntropyIndices",
  inputs: ["scores"],
  check([s], attrs) {
    checkClassAxis("softmaxCrossEntropyIndices", s);
    resolveIndices("softmaxCrossEntropyIndices", attrs, s);
  },
  normalize([s], attrs) {
    const r = resolveIndices("softmaxCrossEntropyIndices", attrs, s);
    return {
      labels: r.labels,
      reduction: r.reduction,
      weights: r.weights,
      labelSmoothing: r.labelSmoothing,
      ignoreIndex: r.ignoreIndex,
    };
  },
  forward([s], attrs, ctx) {
    const a = attrs as ResolvedIndices;
    const C = s.shape[s.rank - 1]!;
    const R = rows(s.shape);
    const sd = s.data;
    const lse = rowLogSumExp(s, C);
    const keep = 1 - a.labelSmoothing;
    const spread = C > 0 ? a.labelSmoothing / C : 0;
    const w = a.weights;
    const perRow = new Float64Array(R);
    for (let r = 0; r < R; r++) {
      const y = a.labels[r]!;
      if (y === a.ignoreIndex) continue;
      const l = lse[r]!;
      // a row holding +Infinity: log softmax is NaN throughout, and so is its loss (PyTorch)
      if (l === Number.POSITIVE_INFINITY) {
        perRow[r] = Number.NaN;
        continue;
      }
      const o = r * C;
      let loss = -(w === null ? 1 : w[y]!) * (sd[o + y]! - l);
      if (spread !== 0) {
        let smooth = 0;
        for (let j = 0; j < C; j++) smooth -= (w === null ? 1 : w[j]!) * (sd[o + j]! - l);
        loss = keep * loss + spread * smooth;
      }
      perRow[r] = loss;
    }
    ctx.saveInputs(0);
    return reduced(perRow, batchShape(s), a.reduction, indicesDenominator(a), ctx);
  },
  // with the constant targets A (row n: (1 − ε)·w_y at y plus ε/C·w_c at every c; zeros where
  // ignored), ∂/∂s = (softmax(s)·ΣA − A)·g, one rule for every option
  backward(gy, ctx) {
    const s = ctx.input(0);
    const a = ctx.attrs as ResolvedIndices;
    const C = s.shape[s.rank - 1]!;
    const R = rows(s.shape);
    const batch = batchShape(s);
    const A = allocArray(s.dtype, s.size);
    const mass = allocArray(s.dtype, R);
    const keep = 1 - a.labelSmoothing;
    const spread = C > 0 ? a.labelSmoothing / C : 0;
    const w = a.weights;
    let wSum = C;
    if (w !== null) {
      wSum = 0;
      for (const v of w) wSum += v;
    }
    for (let r = 0; r < R; r++) {
      const y = a.labels[r]!;
      if (y === a.ignoreIndex) continue;
      const o = r * C;
      if (spread !== 0) for (let j = 0; j < C; j++) A[o + j] = spread * (w === null ? 1 : w[j]!);
      const wy = w === null ? 1 : w[y]!;
      A[o + y] = A[o + y]! + keep * wy;
      mass[r] = keep * wy + spread * wSum;
    }
    const g = rowGrad(gy, batch, a.reduction, indicesDenominator(a));
    const targets = new Tensor(A, s.shape);
    const rowMass = new Tensor(mass, [...batch, 1]);
    return [mul(sub(mul(softmax(s), rowMass), targets), g)];
  },
  test: {
    cases: (pick) => {
      const C = pick.int(1, 4);
      const shape = [...Array.from({ length: pick.int(0, 2) }, () => pick.int(1, 4)), C];
      const R = rows(shape);
      const options = drawOptions(pick, C);
      const ignoreIndex = pick.bool() ? null : pick.bool() ? -100 : pick.int(0, C - 1);
      const labels = Array.from({ length: R }, () =>
        ignoreIndex !== null && pick.int(0, 3) === 0 ? ignoreIndex : pick.int(0, C - 1),
      );
      const attrs: SoftmaxCrossEntropyIndicesAttrs = { labels, ...options, ignoreIndex };
      // a mean over no row is NaN (as PyTorch's): such cases take the sum
      if (attrs.reduction === "mean" && labels.every((y) => y === ignoreIndex)) {
        return { shapes: [shape], attrs: { ...attrs, reduction: "sum" } };
      }
      return { shapes: [shape], attrs };
    },
  },
});

/**
 * Softmax followed by cross-entropy: without options, the loss of the seed's SoftmaxWithLoss
 * layer, the mean over rows, whose gradient is `(softmax(scores) − t) / N`. Computed from
 * log-softmax, so large scores do not overflow.
 *
 * The options are PyTorch's `cross_entropy` (`weight`, `reduction`, `label_smoothing`,
 * `ignore_index`), with the classes along the last axis; with `w` the weights (1 without), ε the
 * smoothing, `log p = logSoftmax(scores)` and C classes:
 * - class indices y: per row `l_n = (1 − ε)·w_{y_n}·(−log p_{n,y_n}) + ε/C·Σ_c w_c·(−log p_nc)`,
 *   0 for a row whose label is `ignoreIndex`; `"mean"` is `Σ l_n / Σ w_{y_n}` over the rows not
 *   ignored (NaN when there are none, as in PyTorch);
 * - probability targets t: `l_n = −Σ_c w_c·((1 − ε)·t_nc + ε/C)·log p_nc`; `"mean"` is
 *   `Σ l_n / N`. `ignoreIndex` applies to class indices only (PyTorch refuses one ≥ 0 here; a
 *   negative one has no effect).
 *
 * Gradients flow to `scores` (and to probability targets that require grad), to any order; the
 * weights are constants.
 * @param scores - shape `[..., C]`: unnormalised class scores, one row per example.
 * @param labels - one-hot (or probability) targets of the same shape, or class indices: an
 *   array, `Int32Array` or tensor of shape `[...]` (the scores' shape without the class axis).
 * @param options - `{ weights, reduction, labelSmoothing, ignoreIndex }`, see
 *   {@link SoftmaxCrossEntropyOptions}.
 * @returns a 0-d tensor, or for `reduction: "none"` one loss per row (shape `[...]`).
 * @throws ShapeError for labels whose shape fits neither form, or weights not of C entries;
 *   ArgumentError for class indices that are neither integers in `[0, C)` nor `ignoreIndex`, and
 *   for a bad option (an unknown key, a reduction other than the three, a labelSmoothing outside
 *   `[0, 1]`, an ignoreIndex that is not an integer or that is ≥ 0 with probability targets,
 *   weights that are not finite numbers). Every message names `softmaxCrossEntropy`.
 */
export function softmaxCrossEntropy(scores: TensorLike, labels: Labels, options?: SoftmaxCrossEntropyOptions): Tensor {
  const s = floatOperand(scores, FN, "scores");
  // nested arrays of labels are a tensor of them: targets of the scores' shape, or class indices
  if (isArray(labels) && labels.length > 0 && isArray(labels[0]))
    labels = toTensor(labels, FN, "labels", s.dtype) as Tensor;
  checkClassAxis(FN, s);
  if (options === undefined) {
    // the seed's loss: today's path, nothing more
    if (isTensor(labels) && shapesEqual(labels.shape, s.shape)) return softmaxCrossEntropyOp([s, labels]);
    return softmaxCrossEntropyOp([s, oneHot(FN, labels, s)]);
  }
  const o = readKnownOptions(FN, options, OPTION_KEYS);
  const r: Resolved = {
    reduction: reductionIn(FN, o.reduction),
    weights: weightsIn(FN, o.weights, s),
    labelSmoothing: smoothingIn(FN, o.labelSmoothing),
  };
  const ignoreIndex = ignoreIndexIn(FN, o.ignoreIndex);
  if (isTensor(labels) && shapesEqual(labels.shape, s.shape)) {
    if (ignoreIndex !== null && ignoreIndex >= 0) {
      throw new ArgumentError(
        FN,
        `${FN}: ignoreIndex ${ignoreIndex} applies to class indices only, not to probability targets of shape ${fmtShape(labels.shape)} (as PyTorch, which refuses an ignore_index ≥ 0 there)`,
      );
    }
    return softmaxCrossEntropyOp([s, labels], isSeedLoss(r) ? undefined : r);
  }
  if (isSeedLoss(r) && ignoreIndex === null) return softmaxCrossEntropyOp([s, oneHot(FN, labels, s)]);
  const idx = classIndices(FN, indicesOf(FN, labels, s), s.shape[s.rank - 1]!, ignoreIndex);
  return softmaxCrossEntropyIndicesOp([s], { labels: idx, ...r, ignoreIndex });
}

/**
 * The class indices of `labels` (unchecked values), one per row of `scores`.
 * @throws ShapeError naming `fn` for a tensor or array of another size; ArgumentError for anything else.
 */
function indicesOf(fn: string, labels: Labels, scores: Tensor): ArrayLike<unknown> {
  if (isTensor(labels)) {
    const batch = scores.shape.slice(0, -1);
    if (!shapesEqual(labels.shape, batch)) {
      throw new ShapeError(
        fn,
        `${fn}: labels of shape ${fmtShape(labels.shape)} fit neither scores ${fmtShape(scores.shape)} (one-hot) nor ${fmtShape(batch)} (class indices)`,
      );
    }
    return labels.data;
  }
  if (isArray(labels) || isInt32Array(labels)) {
    // (the rows without slicing the shape: this runs once per step of a classifier)
    const n = rows(scores.shape);
    if (labels.length !== n) {
      throw new ShapeError(
        fn,
        `${fn}: ${labels.length} class indices for ${n} rows of scores of shape ${fmtShape(scores.shape)}`,
      );
    }
    return labels as ArrayLike<unknown>;
  }
  throw new ArgumentError(
    fn,
    `${fn}: labels must be a Tensor, an array or an Int32Array of class indices, got ${describeValue(labels)}`,
  );
}

/** One-hot targets of `scores`' shape and dtype from class indices (shape: scores without the class axis). */
function oneHot(fn: string, labels: Labels, scores: Tensor): Tensor {
  const C = scores.shape[scores.rank - 1]!;
  const idx = indicesOf(fn, labels, scores);
  const t = allocArray(scores.dtype, scores.size);
  for (let r = 0; r < idx.length; r++) {
    const k = idx[r];
    if (typeof k !== "number" || !Number.isInteger(k) || k < 0 || k >= C) {
      throw new ArgumentError(fn, `${fn}: label ${r} is ${fmtValue(k)}; class indices must be integers in [0, ${C})`);
    }
    t[r * C + k] = 1;
  }
  return new Tensor(t, scores.shape);
}

/**
 * Mean squared error `mean((prediction − target)²)` over all elements, like PyTorch's
 * `MSELoss()`. The shapes must be equal (no silent broadcasting).
 * @throws ShapeError naming both shapes when they differ.
 */
export function meanSquaredError(prediction: TensorLike, target: TensorLike): Tensor {
  const [p, t] = toTensors([prediction, target], "meanSquaredError", ["prediction", "target"]) as [Tensor, Tensor];
  if (!shapesEqual(p.shape, t.shape)) {
    throw new ShapeError(
      "meanSquaredError",
      `meanSquaredError: prediction of shape ${fmtShape(p.shape)} and target of shape ${fmtShape(t.shape)} differ`,
    );
  }
  const d = sub(p, t);
  return mean(mul(d, d));
}

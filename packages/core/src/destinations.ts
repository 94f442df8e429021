/**
 * Where a first-order `backward()` writes gradients in place, for the engine (engine.ts): the
 * zeroed `.grad` tensors it offers an op's fusedBackward (`Offer`, the `GradDestinations` of a
 * pass), and a gradient summed straight into a zeroed `.grad` (`sumIntoZeroGrad`). A `.grad` is
 * zeroed when `fill_(0)` left it so and nothing changed it since (its `_zeroAt` is its version),
 * as `Sequential.backward` leaves every parameter's.
 */
import type { FloatArray } from "./dtype.js";
import { sumToInto } from "./kernels/broadcast.js";
import { type GradDestinations, Node } from "./node.js";
import { isBroadcastableTo, shapesEqual } from "./shape.js";
import { isTensor, isWritable, Tensor } from "./tensor.js";

/**
 * The destinations a first-order backward offers each node's fusedBackward in turn (see
 * `GradDestinations`; one per pass, `begin` per node), handed out on demand: input j's is the
 * `.grad` of a leaf input when it is zeroed (`fill_(0)`, unchanged since), of the leaf's shape
 * and dtype and not frozen, unless the backward reads its array (see `readBy`) or another input
 * took it. After the op returns, `settle` makes what it did with them safe and
 * `placed` delivers the ones returned in place; `close` ends a node's offer.
 */
export class Offer implements GradDestinations {
  /** The node whose backward runs (null between nodes). */
  #node: Node | null = null;
  /** The gradients the node received (null once its backward has returned: `take` gives null). */
  #gin: Tensor | readonly Tensor[] | null = null;
  /** The `.grad`s handed out to the current node, by input; `#count` of them are set. */
  readonly #taken: (Tensor | null)[] = [];
  #count = 0;

  /** Opens the offer to `n`'s fusedBackward (receiving `gin`); returns this. */
  begin(n: Node, gin: Tensor | readonly Tensor[]): this {
    if (this.#count > 0) this.#taken.length = 0;
    this.#count = 0;
    this.#node = n;
    this.#gin = gin;
    return this;
  }

  take(input: number): Tensor | null {
    const n = this.#node;
    const gin = this.#gin;
    if (n === null || gin === null || typeof input !== "number") return null;
    const leaf = n.next[input];
    if (leaf === null || leaf === undefined || leaf instanceof Node) return null;
    const cur = leaf.grad;
    if (cur === null || cur.creator !== null || cur._zeroAt !== cur._version) return null;
    if (cur.dtype !== leaf.dtype || !shapesEqual(cur.shape, leaf.shape) || !isWritable(cur)) return null;
    const taken = this.#taken;
    if (this.#count > 0) {
      if (taken[input] === cur) return cur;
      for (const t of taken) if (t !== null && t.data === cur.data) return null;
    }
    if (readBy(cur.data as FloatArray, n, gin)) return null;
    while (taken.length < input) taken.push(null);
    taken[input] = cur;
    this.#count++;
    return cur;
  }

  /**
   * The gradients `gx` the op returned, made safe to deliver; `take` gives null from now on. A
   * destination not returned as its own input's gradient (or whose version the op changed) is
   * zeroed again, after any gradient the op placed in it has been copied out (so `gx` may come
   * back as a copy).
   */
  settle(gx: readonly (Tensor | null | undefined)[]): readonly (Tensor | null | undefined)[] {
    this.#gin = null;
    if (this.#count === 0) return gx;
    const taken = this.#taken;
    let result = gx;
    for (let j = 0; j < taken.length; j++) {
      const t = taken[j];
      // returned as its own input's gradient, and still marked zeroed (placed below)
      if (t === null || t === undefined || (gx[j] === t && t._zeroAt === t._version)) continue;
      const d = t.data;
      for (let k = 0; k < gx.length; k++) {
        const g = result[k];
        if (g === null || g === undefined || !isTensor(g) || g.data !== d) continue;
        if (result === gx) result = gx.slice();
        (result as (Tensor | null | undefined)[])[k] = new Tensor(d.slice(), g.shape);
      }
      d.fill(0);
    }
    return result;
  }

  /**
   * Whether `g`, returned for input `j` (the leaf `leaf`), is the `.grad` tensor taken for it,
   * which then already holds the gradient: it is marked changed (its version bumped) and nothing
   * else is done. False leaves `g` to the usual delivery.
   */
  placed(j: number, leaf: Tensor, g: Tensor): boolean {
    if (this.#count === 0 || this.#taken[j] !== g || leaf.grad !== g || g._zeroAt !== g._version) return false;
    try {
      g._version++;
    } catch {
      return false;
    }
    return true;
  }

  /**
   * Ends the current node's offer; on failure (`failed`: its backward, or the delivery of its
   * gradients, threw), zeroes again each destination whose leaf has not received its gradient
   * (its `.grad` still marked zeroed): whatever the op wrote there must not survive in a `.grad`
   * that reads as zeroed.
   */
  close(failed = false): void {
    const n = this.#node;
    this.#node = null;
    this.#gin = null;
    if (!failed || n === null || this.#count === 0) return;
    for (const t of this.#taken) if (t !== null && t._zeroAt === t._version) t.data.fill(0);
  }
}

/**
 * Whether `d` is an array `n`'s backward may read: a leaf input's, a saved input's or output's,
 * or an upstream gradient's. By identity: a typed array's `buffer` costs ~80 ns to read, more
 * than the copy a destination saves, and gradgraph's own arrays never overlap unless they are
 * the same array (a tensor the caller builds over a view of another's memory is not detected,
 * as the engine's other writes into a zeroed `.grad` do not detect it).
 */
function readBy(d: FloatArray, n: Node, gin: Tensor | readonly Tensor[]): boolean {
  for (const x of n.next) if (x !== null && x !== undefined && !(x instanceof Node) && x.data === d) return true;
  const ins = n._savedInputs;
  if (ins !== null) for (const t of ins) if (t !== undefined && t.data === d) return true;
  const outs = n._savedOutputs;
  if (outs !== null) for (const t of outs) if (t.data === d) return true;
  if (!Array.isArray(gin)) return (gin as Tensor).data === d;
  for (const g of gin as readonly Tensor[]) if (g.data === d) return true;
  return false;
}

/**
 * For a gradient that must be summed down to a leaf's shape (a bias, say): when the leaf's
 * `.grad` is zeroed (`fill_(0)`, unchanged since) and of the leaf's shape and dtype, sums `g`
 * straight into it and returns true; else false (nothing done).
 */
export function sumIntoZeroGrad(leaf: Tensor, g: Tensor): boolean {
  const cur = leaf.grad;
  if (cur === null || cur.creator !== null || cur._zeroAt !== cur._version || !isTensor(g)) return false;
  if (g.dtype !== leaf.dtype || cur.dtype !== leaf.dtype || shapesEqual(g.shape, leaf.shape)) return false;
  if (!shapesEqual(cur.shape, leaf.shape) || !isBroadcastableTo(leaf.shape, g.shape)) return false;
  if (g.data === cur.data) return false;
  // the version first: it throws for a frozen .grad before its data changes (accumulateGrad then
  // reports it); a try/catch costs nothing here, where Object.isFrozen on every delivery did
  try {
    cur._version++;
  } catch {
    return false;
  }
  sumToInto(g.data, g.shape, cur.data, leaf.shape);
  return true;
}

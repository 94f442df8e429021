/**
 * The reverse-mode engine behind `Tensor.backward` and `grad`. One pass:
 * 1. ordering: the nodes the roots depend on, newest first (`reachableNodes`);
 * 2. sweep: each node's accumulated output gradients go through its op's backward, once;
 * 3. conform: each gradient an op returns is brought to its input's shape and dtype;
 * 4. accumulate: gradients meeting at a node add up in its accumulator, gradients reaching a
 *    leaf go into its `.grad` (or into `grad`'s results).
 * A pass that creates no graph records nothing (the ops a backward calls run eagerly, on raw
 * kernels), writes into a `.grad` zeroed by `fill_(0)` in place (see destinations.ts), and hands
 * the large temporaries it proves dead back for reuse (see memory.ts). Everything a pass needs
 * lives in its `Pass`.
 */
import { applyOp, firstNonFinite } from "./apply-op.js";
import { Offer, sumIntoZeroGrad } from "./destinations.js";
import { allocArray } from "./dtype.js";
import {
  AnomalyError,
  ArgumentError,
  DTypeError,
  describeValue,
  fmtShape,
  GraphError,
  optionsObject,
} from "./errors.js";
import { modes } from "./grad-mode.js";
import { addInPlace, binaryInto } from "./kernels/elementwise.js";
import { GradientReuse } from "./memory.js";
import {
  inputLabel,
  NO_DESTINATIONS,
  Node,
  reachableNodes,
  recordedDtype,
  recordedShape,
  releasedError,
  userFrame,
} from "./node.js";
import { isBroadcastableTo, shapeSize, shapesEqual } from "./shape.js";
import { accumulateOp, cast, castRaw, sumTo, sumToRaw } from "./structural.js";
import {
  type BackwardOptions,
  copyInStorageOf,
  describeNonTensor,
  isTensor,
  registerEngine,
  seedGradient,
  Tensor,
  tensorLabel,
} from "./tensor.js";
import { isArray } from "./validate.js";

/** The keys of {@link GradOptions}. */
const GRAD_OPTIONS = ["gradOutput", "retainGraph", "createGraph", "allowUnused"] as const;

/** Options of `grad`. */
export interface GradOptions {
  /** Upstream gradient(s), one per output; may be omitted for one-element outputs. */
  gradOutput?: Tensor | number | readonly (Tensor | number)[];
  /** Keep what the graph saved so backward can run through it again (default `false`). */
  retainGraph?: boolean;
  /** Record the backward computation so the gradients are differentiable again. */
  createGraph?: boolean;
  /** Return zeros for inputs the outputs do not depend on, instead of throwing. */
  allowUnused?: boolean;
}

/**
 * Functional reverse mode: the gradients of `sum(gradOutput · output)` with respect to `inputs`,
 * returned in order, without touching any `.grad`. Inputs may be leaves or intermediate tensors.
 * @param output - one tensor or several (their contributions add up).
 * @param inputs - the tensors to differentiate with respect to.
 * @throws GraphError for a non-scalar output without `gradOutput`, an input the outputs do not
 *   depend on (unless `allowUnused`), or a released graph.
 * @throws ShapeError when a `gradOutput` shape differs from its output's.
 * @throws ArgumentError for inputs that are not tensors, or options that are not an object or have
 *   a key other than `gradOutput`, `retainGraph`, `createGraph` and `allowUnused`.
 */
export function grad(
  output: Tensor | readonly Tensor[],
  inputs: readonly Tensor[],
  options: GradOptions = {},
): Tensor[] {
  options = optionsObject("grad", options, GRAD_OPTIONS);
  const outputs: readonly Tensor[] = isArray(output) ? (output as readonly Tensor[]) : [output as Tensor];
  if (!isArray(inputs)) {
    throw new ArgumentError("grad", `grad: inputs must be an array of tensors, got ${describeValue(inputs)}`);
  }
  // index loops, not forEach: a hole of a sparse array must fail here, and a huge sparse array
  // must not take minutes to skip
  for (let k = 0; k < outputs.length; k++) {
    const o: unknown = outputs[k];
    if (!isTensor(o))
      throw new ArgumentError("grad", `grad: output ${k} must be a Tensor, got ${describeNonTensor(o)}`);
    if (o.dtype === "int32" || o.dtype === "bool") {
      throw new DTypeError(
        "grad",
        `grad: output ${k} ${tensorLabel(o)} is ${o.dtype}; only float outputs have gradients`,
      );
    }
  }
  for (let k = 0; k < inputs.length; k++) {
    const t: unknown = inputs[k];
    if (!isTensor(t)) throw new ArgumentError("grad", `grad: input ${k} must be a Tensor, got ${describeNonTensor(t)}`);
    if (!t._requiresGrad) {
      throw new GraphError(
        "grad",
        `grad: input ${k} ${tensorLabel(t)} does not require grad, so no gradient can flow to it`,
      );
    }
  }
  const go = options.gradOutput;
  const gos: readonly (Tensor | number | undefined)[] =
    go === undefined ? outputs.map(() => undefined) : Array.isArray(go) ? go : [go as Tensor | number];
  if (gos.length !== outputs.length) {
    throw new ArgumentError("grad", `grad: ${gos.length} gradOutputs for ${outputs.length} outputs`);
  }
  const seeds = outputs.map((o, k) => seedGradient("grad", o, gos[k]));
  const create = options.createGraph === true;
  const pass = new Pass(outputs, options.retainGraph ?? create, create, inputs);
  pass.run(seeds);
  return pass.results(inputs, options.allowUnused === true);
}

/** `Tensor.backward` on a tensor an op produced: its gradient goes into the leaves' `.grad`. */
function backward(root: Tensor, seed: Tensor, options: BackwardOptions): void {
  const create = options.createGraph === true;
  new Pass([root], options.retainGraph ?? create, create, null).run([seed]);
}

registerEngine(backward);

/** One backward pass: its order, its targets, and its memory bookkeeping. */
class Pass {
  readonly roots: readonly Tensor[];
  readonly retain: boolean;
  readonly create: boolean;
  /** The nodes the roots depend on, in creation order (the sweep runs it backwards). */
  readonly order: Node[];
  /** `grad`'s results, one per target (null: none reached it yet); null for `backward`. */
  readonly found: (Tensor | null)[] | null = null;
  /** Targets that are leaves, by identity, with their positions among the targets. */
  readonly leafTargets: Map<Tensor, number[]> | null = null;
  /** Targets that are intermediate tensors: per node, its output slot and the target position. */
  readonly nodeTargets: Map<Node, [number, number][]> | null = null;
  /** For `grad`: the nodes with an edge leading to a target (the others are skipped). */
  readonly needed: Set<Node> | null = null;
  /** Memory reuse and writes into zeroed `.grad`s: a first-order `backward` outside anomaly mode. */
  readonly reuse: GradientReuse | null = null;
  /** The zeroed `.grad`s offered to fusedBackward, node by node (with `reuse` only). */
  readonly offer: Offer | null = null;

  constructor(roots: readonly Tensor[], retain: boolean, create: boolean, targets: readonly Tensor[] | null) {
    this.roots = roots;
    this.retain = retain;
    this.create = create;
    this.order = reachableNodes(roots);
    if (targets === null) {
      if (!create && !modes.anomaly) {
        this.reuse = new GradientReuse();
        this.offer = new Offer();
      }
      return;
    }
    this.found = new Array<Tensor | null>(targets.length).fill(null);
    const leafTargets = new Map<Tensor, number[]>();
    const nodeTargets = new Map<Node, [number, number][]>();
    for (let k = 0; k < targets.length; k++) {
      const t = targets[k]!;
      if (t.creator === null) pushTo(leafTargets, t, k);
      else pushTo(nodeTargets, t.creator, [t.outputIndex, k]);
    }
    // a node is needed when one of its edges leads to a target (the order has inputs first)
    const needed = new Set<Node>();
    for (const n of this.order) {
      for (let j = 0; j < n.next.length; j++) {
        const nx = n.next[j];
        if (nx === null || nx === undefined) continue;
        if (nx instanceof Node ? needed.has(nx) || hasSlot(nodeTargets.get(nx), n.nextSlot[j]!) : leafTargets.has(nx)) {
          needed.add(n);
          break;
        }
      }
    }
    this.leafTargets = leafTargets;
    this.nodeTargets = nodeTargets;
    this.needed = needed;
  }

  /** Seeds the roots with `seeds` and sweeps the graph once. */
  run(seeds: readonly Tensor[]): void {
    const order = this.order;
    try {
      for (let r = 0; r < this.roots.length; r++) {
        const root = this.roots[r]!;
        const c = root.creator;
        if (c !== null) this.deposit(c, root.outputIndex, seeds[r]!, null);
        else if (root._requiresGrad) this.deliverLeaf(root, seeds[r]!);
      }
      for (let oi = order.length - 1; oi >= 0; oi--) this.visit(order[oi]!);
    } catch (e) {
      // a node's backward or the delivery of its gradients failed: the destinations it took and
      // did not deliver are zeroed again
      this.offer?.close(true);
      throw e;
    } finally {
      this.reuse?.end();
      for (let i = 0; i < order.length; i++) order[i]!._acc = null;
    }
  }

  /** Runs `n`'s backward on what reached its outputs and hands each input its gradient. */
  visit(n: Node): void {
    const acc = n._acc;
    n._acc = null;
    const slots = this.nodeTargets?.get(n);
    if (slots !== undefined) for (const [s, k] of slots) this.found![k] = acc?.[s] ?? null;
    if (acc === null || (this.needed !== null && !this.needed.has(n))) return;
    if (n.released && n._hasSaved) throw releasedError(n);
    const op = n.op;
    let gin: Tensor | Tensor[];
    if (op.multi) {
      // outputs that received nothing get zeros
      gin = new Array<Tensor>(n.outShapes.length);
      for (let k = 0; k < gin.length; k++) {
        const shape = n.outShapes[k]!;
        gin[k] = acc[k] ?? new Tensor(allocArray(n.dtype, shapeSize(shape)), shape);
      }
    } else {
      const gy = acc[0];
      if (gy === null || gy === undefined) return;
      gin = gy;
    }
    const prevGrad = modes.grad;
    const prevInBackward = modes.inBackward;
    // a backward records only under createGraph; in anomaly mode the ops it runs are not checked
    // one by one: the gradients it returns are, so that the error names this node
    modes.grad = this.create;
    modes.inBackward = true;
    let gx: readonly (Tensor | null | undefined)[];
    // a first-order backward() offers fusedBackward the zeroed .grad tensors of leaf inputs (out.take)
    const offer = !this.create && op.fusedBackward !== undefined ? (this.offer?.begin(n, gin) ?? null) : null;
    try {
      if (!this.create && op.fusedBackward !== undefined) gx = op.fusedBackward(gin, n, offer ?? NO_DESTINATIONS);
      else gx = op.backward(gin, n);
    } finally {
      modes.grad = prevGrad;
      modes.inBackward = prevInBackward;
    }
    const next = n.next;
    if (!Array.isArray(gx) || gx.length !== next.length) {
      throw new GraphError(
        op.name,
        `${op.name}: backward must return an array of ${next.length} gradients (one per input, null where none), got ${Array.isArray(gx) ? `${gx.length} entries` : describeValue(gx)}`,
      );
    }
    // a destination not returned as its input's gradient holds whatever the op wrote: zeroed
    // again, so that the delivery below finds the .grad as fill_(0) left it
    if (offer !== null) gx = offer.settle(gx);
    for (let j = 0; j < next.length; j++) {
      const nx = next[j];
      const g = gx[j];
      if (nx === null || nx === undefined || g === null || g === undefined) continue;
      if (nx instanceof Node) this.deposit(nx, n.nextSlot[j]!, this.conform(n, j, g), op);
      else if (offer?.placed(j, nx, g)) continue;
      else if (this.reuse === null || !sumIntoZeroGrad(nx, g)) this.deliverLeaf(nx, this.conform(n, j, g));
    }
    offer?.close();
    this.reuse?.ran(op, gin, gx);
    if (!this.retain) n._release();
  }

  /** Brings a gradient returned by `n`'s backward for input `j` to that input's shape and dtype. */
  conform(n: Node, j: number, g: Tensor): Tensor {
    if (!isTensor(g)) {
      throw new GraphError(
        n.op.name,
        `${n.op.name}: backward returned ${describeNonTensor(g)} as the gradient of input ${j} (${inputLabel(n.op, j)}); expected a Tensor or null`,
      );
    }
    const shape = recordedShape(n, j)!;
    const dtype = recordedDtype(n, j)!;
    if (!shapesEqual(g.shape, shape)) {
      if (!isBroadcastableTo(shape, g.shape)) {
        throw new GraphError(
          n.op.name,
          `${n.op.name}: backward returned a gradient of shape ${fmtShape(g.shape)} for input ${j} (${inputLabel(n.op, j)}) of shape ${fmtShape(shape)}; it must equal the input's shape or broadcast from it`,
        );
      }
      g = this.create ? sumTo(g, shape) : sumToRaw(g, shape);
    }
    if (g.dtype !== dtype) g = this.create ? cast(g, dtype) : castRaw(g, dtype);
    if (modes.anomaly) checkBackward(n, j, g);
    return g;
  }

  /** Adds `g` into output `slot` of `n`; `producer` is the op whose backward returned it (null: a seed). */
  deposit(n: Node, slot: number, g: Tensor, producer: Node["op"] | null): void {
    let acc = n._acc;
    if (acc === null) {
      const outs = n.outShapes.length;
      // (a single-output node, the usual case, without an array fill)
      acc = outs === 1 ? [null] : new Array<Tensor | null>(outs).fill(null);
      n._acc = acc;
    }
    const prev = acc[slot] ?? null;
    acc[slot] = prev === null ? g : accumulate(prev, g, this.create);
    if (producer !== null) this.reuse?.deposited(producer, prev, g, acc[slot]!);
  }

  /** Hands a leaf its gradient: into `.grad` (backward), or into the results of `grad()`. */
  deliverLeaf(leaf: Tensor, g: Tensor): void {
    if (this.leafTargets === null) {
      accumulateGrad(leaf, g, this.create);
      return;
    }
    const ks = this.leafTargets.get(leaf);
    if (ks === undefined) return;
    const found = this.found!;
    for (const k of ks) {
      const prev = found[k];
      found[k] = prev === null || prev === undefined ? g : accumulate(prev, g, this.create);
    }
  }

  /** `grad`'s results; zeros for targets nothing reached when `allowUnused`. */
  results(targets: readonly Tensor[], allowUnused: boolean): Tensor[] {
    const found = this.found!;
    for (let k = 0; k < found.length; k++) {
      if (found[k] !== null) continue;
      const t = targets[k]!;
      if (!allowUnused) {
        throw new GraphError(
          "grad",
          `grad: input ${k} ${tensorLabel(t)} is not reachable from the outputs (no gradient flows to it); pass { allowUnused: true } to get zeros`,
        );
      }
      found[k] = new Tensor(allocArray(t.dtype, t.size), t.shape);
    }
    return found as Tensor[];
  }
}

function pushTo<K, V>(m: Map<K, V[]>, k: K, v: V): void {
  const l = m.get(k);
  if (l === undefined) m.set(k, [v]);
  else l.push(v);
}

function hasSlot(slots: [number, number][] | undefined, s: number): boolean {
  if (slots === undefined) return false;
  for (const [slot] of slots) if (slot === s) return true;
  return false;
}

/** `a + b` of one shape: a recorded op under `createGraph`, else into a new array. */
function accumulate(a: Tensor, b: Tensor, create: boolean): Tensor {
  if (create) return applyOp(accumulateOp, [a, b], null, a.dtype) as Tensor;
  const out = allocArray(a.dtype, a.size);
  binaryInto("add", a.data, a.shape, b.data, b.shape, out, a.shape);
  return new Tensor(out, a.shape);
}

/**
 * Adds `g` into a leaf's `.grad`: in place when it exists (bumping its version; a copy when the
 * grad was zeroed by `fill_(0)` and not changed since), else a copy.
 * @throws GraphError naming `backward` when the leaf (which needs a new `.grad`) or its `.grad`
 *   (which would be changed in place) is frozen; nothing is changed then.
 */
function accumulateGrad(leaf: Tensor, g: Tensor, create: boolean): void {
  const cur = leaf.grad;
  // writing to a frozen object throws a TypeError: each write below comes before any other change
  // it would imply, and the TypeError becomes a GraphError
  try {
    if (cur === null) {
      // the first gradient of a leaf is a copy, in the leaf's storage (see Tensor.storage)
      leaf.grad = create ? g : new Tensor(copyInStorageOf(leaf.data, g.data), g.shape);
    } else if (create || cur.creator !== null) {
      leaf.grad = accumulate(cur, g, create);
    } else {
      // a .grad zeroed by fill_(0) and unchanged since (same version) takes a copy: 0 + g = g
      const zeroed = cur._zeroAt === cur._version;
      cur._version++;
      if (zeroed) {
        if (g.data !== cur.data) cur.data.set(g.data);
      } else addInPlace(cur.data, g.data);
    }
  } catch (e) {
    const frozen = Object.isFrozen(leaf) ? "the leaf" : cur !== null && Object.isFrozen(cur) ? "its .grad" : null;
    if (!(e instanceof TypeError) || frozen === null) throw e;
    throw new GraphError(
      "backward",
      `backward: cannot store the gradient of the leaf ${tensorLabel(leaf)}: ${frozen} is frozen (Object.freeze); use grad() for frozen leaves`,
    );
  }
}

function checkBackward(n: Node, j: number, g: Tensor): void {
  const i = firstNonFinite(g.data);
  if (i < 0) return;
  throw new AnomalyError(
    n.op.name,
    `anomaly: the backward of op '${n.op.name}' (node #${n.id}) returned ${g.data[i]} in the gradient of input ${j} (${inputLabel(n.op, j)}) at element ${i}; the op was created at ${userFrame(n.site) ?? "(unknown)"}`,
    { phase: "backward", nodeId: n.id, site: n.site, index: i, value: g.data[i]! },
  );
}

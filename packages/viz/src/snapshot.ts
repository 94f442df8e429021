/**
 * Graph snapshots: the recorded graph behind some output tensors as plain, deep-frozen data, with
 * stable ids from graph order, optional parameter names and layer groups, and a graphlib view for
 * queries (predecessors, topological order, the path from a parameter to the loss).
 *
 * Id rules (the same program gives the same snapshot, byte for byte once serialised):
 * - op nodes are `op0, op1, ...` in creation order of the recorded nodes reachable from the
 *   outputs (never the global `Node.id`, which differs between runs);
 * - leaf nodes are `leaf0, leaf1, ...` in first-use order: walking the ops in creation order and
 *   each op's inputs by position, then the outputs that are leaves themselves;
 * - output nodes are `out0, out1, ...` in the order the outputs were given;
 * - edges are `e0, e1, ...` in the order of their consumers (and, within one, input position);
 * - groups are `group0, group1, ...` in the order given.
 *
 * `snapshot.nodes` is a topological order: every node comes after the nodes that feed it.
 */
import { alg, Graph } from "@dagrejs/graphlib";
import {
  ArgumentError,
  type DType,
  describeValue,
  isNode,
  isTensor,
  type Node,
  reachableNodes,
  type SavedEntry,
  type Tensor,
  userFrame,
} from "@gradgraph/core";
import { freeze } from "immer";
import { isArray, isInstance, isObject as isReadable } from "./checks.js";

// ---------------------------------------------------------------------------------------------
// Data types

/** A JSON-safe value: what op attributes are summarised to (non-finite numbers become strings). */
export type JsonValue = null | boolean | number | string | readonly JsonValue[] | { readonly [key: string]: JsonValue };

/** One input slot of an op node. */
export type SnapshotOpInput = {
  /** Position among the op's inputs. */
  readonly index: number;
  /** The input's name (`a`, `xs[2]`). */
  readonly name: string;
  /** True when a gradient flows to it, i.e. it is an edge of the graph; untracked inputs have no node. */
  readonly tracked: boolean;
  /** Its shape, known for tracked inputs, else `null`. */
  readonly shape: readonly number[] | null;
  /** Its dtype, known for tracked inputs, else `null`. */
  readonly dtype: DType | null;
};

/** One tensor an op saved for backward (a copy of `Node.saved`'s entry). */
export type SnapshotSaved = {
  /** Whether the op saved one of its inputs or one of its outputs. */
  readonly role: "input" | "output";
  /** Its position among the op's inputs or outputs. */
  readonly index: number;
  /** The input's name (`b`, `xs[2]`) or `output k`. */
  readonly name: string;
  /** The saved tensor's shape. */
  readonly shape: readonly number[];
  /** The saved tensor's dtype. */
  readonly dtype: DType;
};

/** A recorded op application. */
export type SnapshotOpNode = {
  /** Discriminates the node kinds of {@link SnapshotNode}. */
  readonly kind: "op";
  /** `op<k>`: the k-th recorded node in creation order. */
  readonly id: string;
  /** k: position among the op nodes. */
  readonly order: number;
  /** The op's name (`matmul`). */
  readonly op: string;
  /** A JSON-safe summary of the op's attributes (`null` when it has none). */
  readonly attrs: JsonValue;
  /** Every input slot, tracked or not. */
  readonly inputs: readonly SnapshotOpInput[];
  /** The shape of each output (one entry for single-output ops). */
  readonly outShapes: readonly (readonly number[])[];
  /** The outputs' dtype. */
  readonly dtype: DType;
  /** What forward saved for backward (empty once released). */
  readonly saved: readonly SnapshotSaved[];
  /** True after a backward without `retainGraph` freed what forward saved. */
  readonly released: boolean;
  /** The user's stack frame that created the op, when recorded under `withCreationSites`. */
  readonly site: string | null;
  /** The id of the group (layer cluster) the op belongs to, or `null`. */
  readonly group: string | null;
};

/** The gradient of a leaf, summarised. */
export type SnapshotGrad = {
  /** The gradient's shape (the leaf's). */
  readonly shape: readonly number[];
  /** The gradient's dtype. */
  readonly dtype: DType;
  /** The L2 norm, computed in float64 (NaN when the gradient holds NaN). */
  readonly norm: number;
};

/** A leaf tensor feeding the graph: a parameter or an input that requires grad. */
export type SnapshotLeafNode = {
  /** Discriminates the node kinds of {@link SnapshotNode}. */
  readonly kind: "leaf";
  /** `leaf<k>`: the k-th leaf in first-use order. */
  readonly id: string;
  /** k: position among the leaf nodes. */
  readonly order: number;
  /**
   * Its parameter name: the first name `options.params` gives it, else `<group>.params[i]` from
   * the first group listing it, else `null`.
   */
  readonly name: string | null;
  /** The leaf tensor's shape. */
  readonly shape: readonly number[];
  /** The leaf tensor's dtype. */
  readonly dtype: DType;
  /**
   * The tensor's `requiresGrad` when the snapshot was taken: true for the leaves an op consumed
   * (only leaves that require grad are recorded), and false for an output that is a constant.
   */
  readonly requiresGrad: boolean;
  /** Its `.grad`, or `null` when none is set. */
  readonly grad: SnapshotGrad | null;
  /** The id of the group whose `params` list it, or `null`. */
  readonly group: string | null;
};

/** One of the tensors the snapshot was taken of. */
export type SnapshotOutputNode = {
  /** Discriminates the node kinds of {@link SnapshotNode}. */
  readonly kind: "output";
  /** `out<k>`: the k-th output given. */
  readonly id: string;
  /** k: position among the outputs given. */
  readonly order: number;
  /** The output tensor's shape. */
  readonly shape: readonly number[];
  /** The output tensor's dtype. */
  readonly dtype: DType;
  /** The output tensor's `requiresGrad` (false when no recorded op or tracked leaf produced it). */
  readonly requiresGrad: boolean;
  /** The id of the op or leaf node that produced it. */
  readonly source: string;
  /** Which output of `source` it is (0 for leaves and single-output ops). */
  readonly slot: number;
  /** Always `null`: outputs are drawn outside every cluster. */
  readonly group: null;
};

/** Any node of a snapshot. */
export type SnapshotNode = SnapshotOpNode | SnapshotLeafNode | SnapshotOutputNode;

/** A tensor flowing from a producer (op or leaf) to a consumer (op or output node). */
export type SnapshotEdge = {
  /** `e<k>`. */
  readonly id: string;
  /** Producer node id. */
  readonly from: string;
  /** Which output of the producer (0 for a leaf). */
  readonly fromSlot: number;
  /** Consumer node id. */
  readonly to: string;
  /** Input position at the consumer (0 for an output node). */
  readonly input: number;
  /** Input name at the consumer (`output` for an output node). */
  readonly inputName: string;
  /** The tensor's shape. */
  readonly shape: readonly number[];
  /** The tensor's dtype. */
  readonly dtype: DType;
};

/** A group of nodes (a layer), drawn as a cluster. */
export type SnapshotGroup = {
  /** Marks a group (groups are not nodes, but carry a `kind` like them). */
  readonly kind: "group";
  /** `group<k>`. */
  readonly id: string;
  /** k: position in `options.groups`. */
  readonly order: number;
  /** The name given (`Affine[0]`). */
  readonly name: string;
  /** Ids of its member nodes, in snapshot order. */
  readonly members: readonly string[];
};

/** The marker every snapshot carries in `format`. */
export const SNAPSHOT_FORMAT = "gradgraph.graph-snapshot";

/**
 * A recorded graph as plain, deep-frozen data (see the module notes for the id rules). Read it, or
 * derive an edited copy with immer's `produce`; the live graph is never reachable from it.
 */
export type GraphSnapshot = {
  /** Always {@link SNAPSHOT_FORMAT}: marks the object as a snapshot (see {@link isGraphSnapshot}). */
  readonly format: typeof SNAPSHOT_FORMAT;
  /** The version of this layout, 1. */
  readonly version: 1;
  /** Every node, in a topological order (producers before consumers). */
  readonly nodes: readonly SnapshotNode[];
  /** Every edge, in the order of their consumers and, within one, of input position. */
  readonly edges: readonly SnapshotEdge[];
  /** The groups (layer clusters), in the order `options.groups` gave them. */
  readonly groups: readonly SnapshotGroup[];
  /** The output node ids, in the order the outputs were given. */
  readonly outputs: readonly string[];
  /** Names from `options.params` whose tensor is not in the graph (no gradient reaches them). */
  readonly unreachedParams: readonly string[];
};

/** A group of tensors to draw as one cluster (a layer): its parameters and/or its output tensors. */
export interface SnapshotGroupSpec {
  /** The cluster's label. */
  readonly name: string;
  /** The group's parameter tensors. */
  readonly params?: readonly Tensor[];
  /** Tensors the group produced (a layer's output). */
  readonly outputs?: readonly Tensor[];
}

/** Options of `snapshot`. */
export interface SnapshotOptions {
  /** Parameter names: `{ W1, b1 }` or a `Map` from name to tensor. The first name of a tensor wins. */
  params?: Readonly<Record<string, Tensor>> | ReadonlyMap<string, Tensor>;
  /**
   * Layer groups, drawn as clusters. Membership rule, first match wins:
   * 1. a leaf belongs to the first group whose `params` list it;
   * 2. an op node belongs to the first group whose `outputs` include a tensor it produced;
   * 3. otherwise, to the group of the first parameter (by input position) it consumes directly.
   * Other nodes, and output nodes, belong to no group.
   */
  groups?: readonly SnapshotGroupSpec[];
}

/**
 * Anything that names a node of a snapshot:
 * - a string: a snapshot node id (`op3`, `leaf0`, `out0`), else a leaf's parameter name;
 * - a `Node`, a number (a live `Node.id`) or a `Tensor` (its creator, or the leaf itself) from the
 *   graph the snapshot was taken of;
 * - an object with a `nodeId`, such as gradcheck's `fault` or an `AnomalyError`: the node with that
 *   live id when it is in the snapshot; otherwise (gradcheck re-records the function, so its node
 *   ids belong to another run; an anomaly in an unrecorded forward has no id) the first op node in
 *   creation order with the same `op` name, preferring those whose `site` equals the object's
 *   `site`.
 */
export type NodeRef =
  | string
  | number
  | Node
  | Tensor
  | {
      /** A live `Node.id`, or `null` when none was recorded. */
      readonly nodeId: number | null;
      /** The op's name, matched when `nodeId` is not in the snapshot. */
      readonly op?: string;
      /** The op's creation site, preferred among op nodes of the same name. */
      readonly site?: string | null;
    };

// ---------------------------------------------------------------------------------------------
// Side table: live ids per snapshot, for `resolveNode` (numbers and weak keys only, so a snapshot
// does not keep the live graph alive)

interface Internals {
  readonly byLiveId: ReadonlyMap<number, string>;
  readonly leaves: WeakMap<Tensor, string>;
}

const internals = new WeakMap<object, Internals>();

// ---------------------------------------------------------------------------------------------
// snapshot

/**
 * Takes a snapshot of the recorded graph behind `outputs`: op nodes, leaf tensors, output nodes
 * and the edges between them, as deep-frozen plain data with ids from graph order (see the
 * module notes). Runs in time linear in the graph size (plus sorting the op nodes).
 * @param outputs - one tensor or several; each becomes an output node. An output that is a leaf
 *   (no recorded op) becomes a leaf node feeding its output node.
 * @param options - parameter names and layer groups.
 * @returns a frozen `GraphSnapshot`.
 * @throws ArgumentError naming `snapshot` and the argument for a non-tensor output, a `params`
 *   entry that is not a tensor (or a `Map` key that is not a string), or a malformed group.
 */
export function snapshot(outputs: Tensor | readonly Tensor[], options: SnapshotOptions = {}): GraphSnapshot {
  return takeSnapshot("snapshot", outputs, options);
}

/** @internal `snapshot`, with errors naming `fn`. */
export function takeSnapshot(fn: string, outputs: Tensor | readonly Tensor[], options: SnapshotOptions): GraphSnapshot {
  const outs = checkOutputs(fn, outputs);
  if (options === null || typeof options !== "object") {
    throw new ArgumentError(fn, `${fn}: options must be an object, got ${describeValue(options)}`);
  }
  const named = checkParams(fn, options.params);
  const groupSpecs = checkGroups(fn, options.groups);

  // 1. op nodes reachable from the outputs, in creation order
  const ops = reachableNodes(outs);
  const opId = new Map<Node, string>();
  for (let k = 0; k < ops.length; k++) opId.set(ops[k]!, `op${k}`);

  // 2. groups: who owns which tensor
  const paramGroup = new Map<Tensor, number>();
  const paramGroupName = new Map<Tensor, string>();
  const outputGroup = new Map<Node, number>();
  const leafOutputGroup = new Map<Tensor, number>();
  groupSpecs.forEach((g, gi) => {
    g.params.forEach((p, k) => {
      if (!paramGroup.has(p)) {
        paramGroup.set(p, gi);
        paramGroupName.set(p, `${g.name}.params[${k}]`);
      }
    });
    for (const t of g.outputs) {
      if (t.creator !== null) {
        if (!outputGroup.has(t.creator)) outputGroup.set(t.creator, gi);
      } else if (!leafOutputGroup.has(t)) leafOutputGroup.set(t, gi);
    }
  });
  const groupId = (gi: number | undefined): string | null => (gi === undefined ? null : `group${gi}`);

  // 3. nodes (leaves before their first consumer) and edges
  const nodes: SnapshotNode[] = [];
  const edges: SnapshotEdge[] = [];
  const leafId = new Map<Tensor, string>();
  const byLiveId = new Map<number, string>();
  let leafCount = 0;
  const leafOf = (t: Tensor): string => {
    let id = leafId.get(t);
    if (id === undefined) {
      id = `leaf${leafCount}`;
      leafId.set(t, id);
      const gi = paramGroup.get(t) ?? leafOutputGroup.get(t);
      nodes.push({
        kind: "leaf",
        id,
        order: leafCount,
        name: named.get(t) ?? paramGroupName.get(t) ?? null,
        shape: [...t.shape],
        dtype: t.dtype,
        requiresGrad: t.requiresGrad,
        grad: isTensor(t.grad) ? gradSummary(t.grad) : null,
        group: groupId(gi),
      });
      leafCount++;
    }
    return id;
  };
  ops.forEach((n, k) => {
    const id = `op${k}`;
    byLiveId.set(n.id, id);
    const inputs: SnapshotOpInput[] = [];
    let consumedGroup: number | undefined;
    const nIn = n.next.length;
    for (let i = 0; i < nIn; i++) {
      const nx = n.next[i];
      const name = inputName(n, i);
      if (nx === null || nx === undefined) {
        inputs.push({ index: i, name, tracked: false, shape: null, dtype: null });
        continue;
      }
      const shape = [...(n.inputShape(i) ?? [])];
      const dtype = n.inputDtype(i) ?? n.dtype;
      inputs.push({ index: i, name, tracked: true, shape, dtype });
      let from: string;
      let fromSlot = 0;
      if (isNode(nx)) {
        from = opId.get(nx)!;
        fromSlot = n.nextSlot[i] ?? 0;
      } else {
        from = leafOf(nx);
        if (consumedGroup === undefined) consumedGroup = paramGroup.get(nx);
      }
      edges.push({ id: `e${edges.length}`, from, fromSlot, to: id, input: i, inputName: name, shape, dtype });
    }
    nodes.push({
      kind: "op",
      id,
      order: k,
      op: n.op.name,
      attrs: summarize(n.attrs, 0),
      inputs,
      outShapes: n.outShapes.map((s) => [...s]),
      dtype: n.dtype,
      saved: n.saved.map(copySaved),
      released: n.released,
      site: userFrame(n.site),
      group: groupId(outputGroup.get(n) ?? consumedGroup),
    });
  });
  const outputIds: string[] = [];
  const outLeafIds = new WeakMap<Tensor, string>();
  const outputNodes: SnapshotOutputNode[] = outs.map((o, k) => {
    const id = `out${k}`;
    outputIds.push(id);
    const source = o.creator !== null ? opId.get(o.creator)! : leafOf(o);
    const slot = o.creator !== null ? o.outputIndex : 0;
    edges.push({
      id: `e${edges.length}`,
      from: source,
      fromSlot: slot,
      to: id,
      input: 0,
      inputName: "output",
      shape: [...o.shape],
      dtype: o.dtype,
    });
    if (o.creator === null) outLeafIds.set(o, source);
    return {
      kind: "output",
      id,
      order: k,
      shape: [...o.shape],
      dtype: o.dtype,
      requiresGrad: o.requiresGrad,
      source,
      slot,
      group: null,
    };
  });
  nodes.push(...outputNodes);

  const groups: SnapshotGroup[] = groupSpecs.map((g, gi) => ({
    kind: "group",
    id: `group${gi}`,
    order: gi,
    name: g.name,
    members: [],
  }));
  for (const nd of nodes) {
    if (nd.group !== null) {
      const gi = Number(nd.group.slice("group".length));
      (groups[gi]!.members as string[]).push(nd.id);
    }
  }
  const unreachedParams: string[] = [];
  // `named` iterates in the order the params were given
  for (const [t, name] of named) if (!leafId.has(t)) unreachedParams.push(name);

  const snap: GraphSnapshot = {
    format: SNAPSHOT_FORMAT,
    version: 1,
    nodes,
    edges,
    groups,
    outputs: outputIds,
    unreachedParams,
  };
  const weakLeaves = new WeakMap<Tensor, string>();
  for (const [t, id] of leafId) weakLeaves.set(t, id);
  const frozen = freeze(snap, true);
  internals.set(frozen, { byLiveId, leaves: weakLeaves });
  return frozen;
}

function checkOutputs(fn: string, outputs: unknown): readonly Tensor[] {
  // (an int32 or bool tensor has no graph behind it: it shows as a lone value)
  if (isTensor(outputs)) return [outputs as Tensor];
  if (!isArray(outputs)) {
    throw new ArgumentError(
      fn,
      `${fn}: outputs must be a Tensor or an array of tensors, got ${describeValue(outputs)}`,
    );
  }
  if (outputs.length === 0) throw new ArgumentError(fn, `${fn}: outputs must hold at least one tensor, got none`);
  // index loops here and below, not forEach/map: a hole of a sparse array must fail at once (forEach
  // would skip it, and skip the 2^32 − 1 holes of Array(2 ** 32 - 1) for over a minute)
  for (let k = 0; k < outputs.length; k++) {
    const o: unknown = outputs[k];
    if (!isTensor(o)) {
      throw new ArgumentError(fn, `${fn}: outputs[${k}] must be a Tensor, got ${describeValue(o)}`);
    }
  }
  return outputs as readonly Tensor[];
}

function paramEntries(params: Readonly<Record<string, Tensor>> | ReadonlyMap<string, Tensor>): [unknown, unknown][] {
  return isInstance(params, Map) ? [...params.entries()] : Object.entries(params);
}

function checkParams(fn: string, params: unknown): Map<Tensor, string> {
  const named = new Map<Tensor, string>();
  if (params === undefined) return named;
  if (params === null || typeof params !== "object" || isArray(params)) {
    throw new ArgumentError(
      fn,
      `${fn}: options.params must be an object or a Map from names to tensors, got ${describeValue(params)}`,
    );
  }
  for (const [name, t] of paramEntries(params as Record<string, Tensor>)) {
    if (typeof name !== "string") {
      throw new ArgumentError(fn, `${fn}: options.params keys must be strings, got ${describeValue(name)}`);
    }
    if (!isTensor(t)) {
      throw new ArgumentError(
        fn,
        `${fn}: options.params[${JSON.stringify(name)}] must be a Tensor, got ${describeValue(t)}`,
      );
    }
    if (!named.has(t as Tensor)) named.set(t as Tensor, name);
  }
  return named;
}

interface CheckedGroup {
  readonly name: string;
  readonly params: readonly Tensor[];
  readonly outputs: readonly Tensor[];
}

function checkGroups(fn: string, groups: unknown): CheckedGroup[] {
  if (groups === undefined) return [];
  if (!isArray(groups)) {
    throw new ArgumentError(fn, `${fn}: options.groups must be an array, got ${describeValue(groups)}`);
  }
  const checked: CheckedGroup[] = [];
  for (let i = 0; i < groups.length; i++) checked.push(checkGroup(fn, groups[i], i));
  return checked;
}

function checkGroup(fn: string, g: unknown, i: number): CheckedGroup {
  if (g === null || typeof g !== "object") {
    throw new ArgumentError(
      fn,
      `${fn}: options.groups[${i}] must be an object { name, params?, outputs? }, got ${describeValue(g)}`,
    );
  }
  const spec = g as { name?: unknown; params?: unknown; outputs?: unknown };
  if (typeof spec.name !== "string") {
    throw new ArgumentError(fn, `${fn}: options.groups[${i}].name must be a string, got ${describeValue(spec.name)}`);
  }
  const tensors = (key: "params" | "outputs"): Tensor[] => {
    const v = spec[key];
    if (v === undefined) return [];
    if (!isArray(v)) {
      throw new ArgumentError(
        fn,
        `${fn}: options.groups[${i}].${key} must be an array of tensors, got ${describeValue(v)}`,
      );
    }
    for (let k = 0; k < v.length; k++) {
      const t: unknown = v[k];
      if (!isTensor(t)) {
        throw new ArgumentError(
          fn,
          `${fn}: options.groups[${i}].${key}[${k}] must be a Tensor, got ${describeValue(t)}`,
        );
      }
    }
    return v as Tensor[];
  };
  return { name: spec.name, params: tensors("params"), outputs: tensors("outputs") };
}

/** The name of input `i` of `node`'s op: `b`, or `xs[2]` for a variadic op (as core's messages name it). */
function inputName(node: Node, i: number): string {
  const names = node.op.inputNames;
  if (node.op.variadic === true) return `${names[0] ?? "inputs"}[${i}]`;
  return names[i] ?? `#${i}`;
}

function gradSummary(g: Tensor): SnapshotGrad {
  let s = 0;
  const d = g.data;
  for (let i = 0; i < d.length; i++) s += d[i]! * d[i]!;
  return { shape: [...g.shape], dtype: g.dtype, norm: Math.sqrt(s) };
}

function copySaved(e: SavedEntry): SnapshotSaved {
  return { role: e.role, index: e.index, name: e.name, shape: [...e.shape], dtype: e.dtype };
}

const MAX_DEPTH = 4;
const MAX_ITEMS = 16;
const MAX_STRING = 200;

/** A JSON-safe summary of an attribute value: bounded depth, array length and string length. */
function summarize(v: unknown, depth: number): JsonValue {
  if (v === null || v === undefined) return null;
  switch (typeof v) {
    case "boolean":
      return v;
    case "number":
      return Number.isFinite(v) ? v : String(v);
    case "string":
      return v.length > MAX_STRING ? `${v.slice(0, MAX_STRING)}…` : v;
    case "bigint":
      return v.toString();
    case "function":
      return "[function]";
    case "symbol":
      return v.toString();
    default:
      break;
  }
  if (isTensor(v)) return { tensor: [...v.shape], dtype: v.dtype };
  if (depth >= MAX_DEPTH) return "[…]";
  if (isArray(v) || ArrayBuffer.isView(v)) {
    const arr = v as ArrayLike<unknown>;
    const n = arr.length ?? 0;
    const out: JsonValue[] = [];
    for (let i = 0; i < Math.min(n, MAX_ITEMS); i++) out.push(summarize(arr[i], depth + 1));
    if (n > MAX_ITEMS) out.push(`… ${n - MAX_ITEMS} more`);
    return out;
  }
  if (isInstance(v, Map) || isInstance(v, Set)) return `${describeValue(v)}(${v.size})`;
  const out: Record<string, JsonValue> = {};
  for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
    if (x !== undefined) out[k] = summarize(x, depth + 1);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Reading snapshots

/** True when `value` looks like a `GraphSnapshot` (a snapshot or a copy derived with `produce`). */
export function isGraphSnapshot(value: unknown): value is GraphSnapshot {
  if (!isReadable(value)) return false;
  const s = value as Partial<GraphSnapshot>;
  return s.format === SNAPSHOT_FORMAT && isArray(s.nodes) && isArray(s.edges) && isArray(s.groups);
}

/**
 * @internal Checks the argument is a well-formed snapshot (as `snapshot` makes it, or a copy
 * derived with immer's `produce` or through JSON): every node, edge and group has the fields of
 * its kind with values of the right types, ids are unique, and every reference resolves. Returns
 * its nodes by id. Linear in the snapshot's size.
 * @throws ArgumentError naming `fn`, and the first malformed entry, otherwise.
 */
export function checkSnapshot(fn: string, value: unknown): Map<string, SnapshotNode> {
  if (!isGraphSnapshot(value)) {
    throw new ArgumentError(
      fn,
      `${fn}: expected a GraphSnapshot (from snapshot()) or tensors, got ${describeValue(value)}`,
    );
  }
  const bad = (what: string): ArgumentError => new ArgumentError(fn, `${fn}: malformed snapshot: ${what}`);
  const groupIds = new Set<string>();
  const groups: readonly unknown[] = value.groups;
  for (let i = 0; i < groups.length; i++) {
    const g = groups[i] as Partial<SnapshotGroup> | null | undefined;
    if (!isObject(g) || typeof g.id !== "string" || typeof g.name !== "string" || groupIds.has(g.id)) {
      throw bad(`groups[${i}] must be { id, name } with a unique string id and a string name, got ${describeValue(g)}`);
    }
    groupIds.add(g.id);
  }
  const byId = new Map<string, SnapshotNode>();
  const nodes: readonly unknown[] = value.nodes;
  for (let i = 0; i < nodes.length; i++) {
    const n = nodes[i] as Record<string, unknown> | null | undefined;
    if (!isObject(n) || typeof n.id !== "string" || byId.has(n.id)) {
      throw new ArgumentError(
        fn,
        `${fn}: snapshot node ids must be unique strings, got ${describeValue(isObject(n) ? n.id : n)} at nodes[${i}]`,
      );
    }
    const problem = nodeProblem(n);
    if (problem !== null) throw bad(`node ${JSON.stringify(n.id)} (nodes[${i}]) ${problem}`);
    if (n.group !== null && !groupIds.has(n.group as string)) {
      throw new ArgumentError(fn, `${fn}: node ${JSON.stringify(n.id)} names unknown group ${JSON.stringify(n.group)}`);
    }
    byId.set(n.id, n as unknown as SnapshotNode);
  }
  const edges: readonly unknown[] = value.edges;
  for (let i = 0; i < edges.length; i++) {
    const e = edges[i] as Record<string, unknown> | null | undefined;
    if (
      !isObject(e) ||
      typeof e.id !== "string" ||
      !isIndex(e.fromSlot) ||
      typeof e.inputName !== "string" ||
      !isShape(e.shape) ||
      !isDType(e.dtype)
    ) {
      throw bad(
        `edges[${i}] must be { id, from, fromSlot, to, input, inputName, shape, dtype }, got ${describeValue(e)}`,
      );
    }
    for (const end of [e.from, e.to]) {
      if (typeof end !== "string" || !byId.has(end)) {
        throw new ArgumentError(
          fn,
          `${fn}: edge ${JSON.stringify(e.id)} refers to unknown node ${typeof end === "string" ? JSON.stringify(end) : describeValue(end)}`,
        );
      }
    }
  }
  const outputs: unknown = value.outputs;
  if (!isArray(outputs)) throw bad(`outputs must be an array of output node ids, got ${describeValue(outputs)}`);
  const outs = outputs as readonly unknown[];
  for (let i = 0; i < outs.length; i++) {
    const o = outs[i];
    if (typeof o !== "string" || byId.get(o)?.kind !== "output") {
      throw bad(
        `outputs[${i}] must be the id of an output node, got ${typeof o === "string" ? JSON.stringify(o) : describeValue(o)}`,
      );
    }
  }
  return byId;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return isReadable(v);
}

function isIndex(v: unknown): boolean {
  return typeof v === "number" && Number.isInteger(v) && v >= 0;
}

function isShape(v: unknown): boolean {
  if (!isArray(v)) return false;
  for (let i = 0; i < v.length; i++) if (!isIndex(v[i])) return false;
  return true;
}

function isDType(v: unknown): boolean {
  return v === "float32" || v === "float64" || v === "int32" || v === "bool";
}

function isStringOrNull(v: unknown): boolean {
  return v === null || typeof v === "string";
}

/** What is wrong with a snapshot node's fields for its kind, or null. */
function nodeProblem(n: Record<string, unknown>): string | null {
  if (!isStringOrNull(n.group)) return `has a group that is neither a string nor null: ${describeValue(n.group)}`;
  if (!isIndex(n.order)) return `has an order that is not a non-negative integer: ${describeValue(n.order)}`;
  if (!isDType(n.dtype)) {
    return `has a dtype that is not 'float32', 'float64', 'int32' or 'bool': ${describeValue(n.dtype)}`;
  }
  switch (n.kind) {
    case "op": {
      if (typeof n.op !== "string") return "has no op name";
      if (!isArray(n.inputs)) return "has no inputs array";
      if (!isArray(n.outShapes)) return "has no outShapes array";
      // index loops, not every/for-of: a hole must fail at once, however long the sparse array
      for (let i = 0; i < n.outShapes.length; i++)
        if (!isShape(n.outShapes[i])) return "has outShapes that are not shapes";
      if (!isArray(n.saved)) return "has no saved array";
      for (let i = 0; i < n.saved.length; i++) {
        const e: unknown = n.saved[i];
        const sv = e as Record<string, unknown> | null;
        if (!isObject(sv) || typeof sv.name !== "string" || !isShape(sv.shape) || !isDType(sv.dtype)) {
          return `has a saved entry that is not { name, shape, dtype }: ${describeValue(e)}`;
        }
      }
      if (typeof n.released !== "boolean") return "has a released flag that is not a boolean";
      if (!isStringOrNull(n.site)) return "has a site that is neither a string nor null";
      if (!isJson(n.attrs, 0)) return "has attrs that are not JSON data of depth at most 8";
      return null;
    }
    case "leaf": {
      if (!isStringOrNull(n.name)) return `has a name that is neither a string nor null: ${describeValue(n.name)}`;
      if (!isShape(n.shape)) return "has a shape that is not an array of non-negative integers";
      if (typeof n.requiresGrad !== "boolean") return "has a requiresGrad flag that is not a boolean";
      const g = n.grad as Record<string, unknown> | null;
      if (g !== null && (!isObject(g) || !isShape(g.shape) || typeof g.norm !== "number")) {
        return `has a grad that is neither null nor { shape, dtype, norm }: ${describeValue(g)}`;
      }
      return null;
    }
    case "output":
      if (!isShape(n.shape)) return "has a shape that is not an array of non-negative integers";
      if (typeof n.requiresGrad !== "boolean") return "has a requiresGrad flag that is not a boolean";
      return null;
    default:
      return `has an unknown kind ${describeValue(n.kind)} (expected "op", "leaf" or "output")`;
  }
}

/** JSON data (what `summarize` makes) no deeper than 8 levels: no cycles, functions or symbols. */
function isJson(v: unknown, depth: number): boolean {
  if (v === null || typeof v === "boolean" || typeof v === "number" || typeof v === "string") return true;
  if (depth >= 8 || typeof v !== "object") return false;
  const values: readonly unknown[] = isArray(v) ? v : Object.values(v);
  for (let i = 0; i < values.length; i++) if (!isJson(values[i], depth + 1)) return false;
  return true;
}

/**
 * The snapshot node id that `ref` names (see `NodeRef` for the rules).
 * @throws ArgumentError naming `resolveNode` when nothing in the snapshot matches.
 */
export function resolveNode(snap: GraphSnapshot, ref: NodeRef): string {
  return resolveIn("resolveNode", snap, checkSnapshot("resolveNode", snap), ref);
}

/** @internal `resolveNode` with a prepared id index, errors naming `fn`. */
export function resolveIn(
  fn: string,
  snap: GraphSnapshot,
  byId: ReadonlyMap<string, SnapshotNode>,
  ref: NodeRef,
): string {
  const side = internals.get(snap);
  const fail = (what: string): never => {
    throw new ArgumentError(fn, `${fn}: ${what} is not a node of this snapshot`);
  };
  if (typeof ref === "string") {
    if (byId.has(ref)) return ref;
    for (const n of snap.nodes) if (n.kind === "leaf" && n.name === ref) return n.id;
    return fail(`${JSON.stringify(ref)} (neither a node id nor a parameter name)`);
  }
  if (typeof ref === "number") {
    return side?.byLiveId.get(ref) ?? fail(`live node id ${ref}`);
  }
  if (isNode(ref)) {
    return side?.byLiveId.get(ref.id) ?? fail(`node '${ref.op.name}' (id ${ref.id})`);
  }
  if (isTensor(ref)) {
    const id = ref.creator !== null ? side?.byLiveId.get(ref.creator.id) : side?.leaves.get(ref);
    return id ?? fail(ref.toString());
  }
  if (ref !== null && typeof ref === "object" && (typeof ref.nodeId === "number" || ref.nodeId === null)) {
    const exact = ref.nodeId === null ? undefined : side?.byLiveId.get(ref.nodeId);
    if (exact !== undefined) return exact;
    if (typeof ref.op === "string") {
      let first: string | null = null;
      for (const n of snap.nodes) {
        if (n.kind !== "op" || n.op !== ref.op) continue;
        if (typeof ref.site === "string" && n.site === ref.site) return n.id;
        first ??= n.id;
      }
      if (first !== null) return first;
    }
    return fail(`{ nodeId: ${ref.nodeId}${typeof ref.op === "string" ? `, op: ${JSON.stringify(ref.op)}` : ""} }`);
  }
  throw new ArgumentError(
    fn,
    `${fn}: a node reference must be a node id or parameter name, a Node, a Tensor, a live node id or an object with a nodeId, got ${describeValue(ref)}`,
  );
}

// ---------------------------------------------------------------------------------------------
// graphlib

/** What a `toGraphlib` graph carries as its own label. */
export type SnapshotGraphLabel = {
  /** The output node ids. */
  readonly outputs: readonly string[];
};

/** The graphlib graph of a snapshot: nodes and groups labelled with their snapshot data, edges with theirs. */
export type SnapshotGraph = Graph<SnapshotGraphLabel, SnapshotNode | SnapshotGroup, SnapshotEdge>;

/**
 * A graphlib `Graph` of the snapshot: directed, a multigraph (an op may use one tensor twice;
 * each edge is named by its snapshot edge id) and compound: every group is a node of its own
 * (label `kind: "group"`) and the parent of its members, so `children(groupId)` lists a layer's
 * nodes. Group nodes have no edges; filter them out by `kind` where they are in the way (they
 * appear in `nodes()` and `alg.topsort`). Node labels are the frozen snapshot objects.
 * @throws ArgumentError naming `toGraphlib` when `snap` is not a well-formed snapshot.
 */
export function toGraphlib(snap: GraphSnapshot): SnapshotGraph {
  checkSnapshot("toGraphlib", snap);
  const g: SnapshotGraph = new Graph({ directed: true, multigraph: true, compound: true });
  g.setGraph({ outputs: snap.outputs });
  for (const grp of snap.groups) g.setNode(grp.id, grp);
  for (const n of snap.nodes) {
    g.setNode(n.id, n);
    if (n.group !== null) g.setParent(n.id, n.group);
  }
  for (const e of snap.edges) g.setEdge(e.from, e.to, e, e.id);
  return g;
}

/**
 * The shortest path (fewest edges) from the leaf of parameter `param` to an output node: node ids
 * from the leaf to the output, both included; `null` when the output does not depend on it.
 * @param param - a parameter name or a leaf's node id.
 * @param output - which output: its position among the outputs or its node id (default 0).
 * @throws ArgumentError naming `pathToOutput` for an unknown parameter or output.
 */
export function pathToOutput(snap: GraphSnapshot, param: string, output: number | string = 0): string[] | null {
  const fn = "pathToOutput";
  const byId = checkSnapshot(fn, snap);
  if (typeof param !== "string") {
    throw new ArgumentError(fn, `${fn}: param must be a parameter name or leaf id, got ${describeValue(param)}`);
  }
  const source = resolveIn(fn, snap, byId, param);
  const target = typeof output === "number" ? snap.outputs[output] : output;
  if (target === undefined || typeof target !== "string" || byId.get(target)?.kind !== "output") {
    throw new ArgumentError(
      fn,
      `${fn}: output must be an output position in [0, ${snap.outputs.length}) or an output node id, got ${describeValue(output)}`,
    );
  }
  const g = toGraphlib(snap);
  const dist = alg.dijkstra(g, source);
  const hit = dist[target];
  if (hit === undefined || !Number.isFinite(hit.distance)) return null;
  const path = [target];
  let v = target;
  while (v !== source) {
    v = dist[v]!.predecessor;
    path.push(v);
  }
  return path.reverse();
}

/**
 * Groups for `snapshot`/`toDot` from nn layers: one group per layer, named `<layer.name>[<i>]`
 * (`Affine[0]`, `Sigmoid[1]`), with the layer's `params` and, when given, `outputs[i]` as the
 * layer's output tensor. For a `Sequential` model pass `[...model.layers, model.lossLayer]` and
 * the outputs recorded while calling each layer's `forward` in turn; layers without parameters
 * (activations, the loss) are only grouped through their output.
 * @throws ArgumentError naming `groupsFromLayers` for a layer without a string `name` or an
 *   array `params` of tensors (a hole of a sparse array included), or an `outputs` entry that is
 *   not a tensor.
 */
export function groupsFromLayers(
  layers: readonly { readonly name: string; readonly params: readonly Tensor[] }[],
  outputs?: readonly (Tensor | null | undefined)[],
): SnapshotGroupSpec[] {
  const fn = "groupsFromLayers";
  if (!isArray(layers)) {
    throw new ArgumentError(fn, `${fn}: layers must be an array, got ${describeValue(layers)}`);
  }
  if (outputs !== undefined && !isArray(outputs)) {
    throw new ArgumentError(fn, `${fn}: outputs must be an array of tensors, got ${describeValue(outputs)}`);
  }
  // an index loop, not map: a hole must fail at once, not be skipped (for minutes, in a huge sparse array)
  const groups: SnapshotGroupSpec[] = [];
  for (let i = 0; i < layers.length; i++) {
    const layer: unknown = layers[i];
    const l = layer as { name?: unknown; params?: unknown };
    if (layer === null || typeof layer !== "object" || typeof l.name !== "string" || !isArray(l.params)) {
      throw new ArgumentError(
        fn,
        `${fn}: layers[${i}] must have a string name and a params array, got ${describeValue(layer)}`,
      );
    }
    const params = l.params as unknown[];
    for (let k = 0; k < params.length; k++) {
      if (!isTensor(params[k])) {
        throw new ArgumentError(
          fn,
          `${fn}: layers[${i}].params[${k}] must be a Tensor, got ${describeValue(params[k])}`,
        );
      }
    }
    const out = outputs?.[i];
    if (out !== undefined && out !== null && !isTensor(out)) {
      throw new ArgumentError(fn, `${fn}: outputs[${i}] must be a Tensor, got ${describeValue(out)}`);
    }
    groups.push({
      name: `${l.name}[${i}]`,
      params: [...(params as Tensor[])],
      outputs: isTensor(out) ? [out] : [],
    });
  }
  return groups;
}

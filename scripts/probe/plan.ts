/**
 * The probe's plan: every function, constructor, method and accessor exported by the public
 * entry points, each with a baseline argument list found by search (the first combination of
 * ordinary values with which the call returns), and the calls that replace one argument (or the
 * receiver) of that baseline with each bad value of kinds.ts.
 */
import { sumTo, tensor } from "@gradgraph/core";
import { type BadKind, KINDS } from "./kinds.js";

/** One probed export: how to call it with an argument list (and, for members, a receiver). */
export interface Entry {
  /** `module:name`, `module:Class.method`, `module:Class.prop (get)`… */
  readonly name: string;
  /** Calls the export; `self` is the receiver for members (ignored otherwise). */
  readonly call: (self: unknown, args: unknown[]) => unknown;
  /** Makes a valid receiver for members, or null for functions and constructors. */
  readonly receiver: (() => unknown) | null;
  /** The declared parameter count (Function.length). */
  readonly length: number;
}

/** A call of the plan: an entry, its baseline, and which argument gets which bad value. */
export interface PlannedCall {
  readonly entry: Entry;
  /** Indices into POOL of the baseline arguments. */
  readonly baseline: readonly number[];
  /** The argument replaced (-1: the receiver). */
  readonly position: number;
  readonly kind: BadKind;
}

/** Ordinary values the baseline search combines (fresh each time: calls mutate tensors). */
export const POOL: readonly (() => unknown)[] = [
  () =>
    tensor(
      [
        [0.1, 0.2, 0.3],
        [0.4, 0.5, 0.6],
      ],
      { requiresGrad: true },
    ),
  () =>
    tensor(
      [
        [0.1, 0.2],
        [0.3, 0.4],
        [0.5, 0.6],
      ],
      { requiresGrad: true },
    ),
  () => tensor([0.1, 0.2, 0.3], { requiresGrad: true }),
  () => tensor(0.5, { requiresGrad: true }),
  () => 2,
  () => 0.5,
  () => [2, 3],
  () => [
    tensor(
      [
        [0.1, 0.2, 0.3],
        [0.4, 0.5, 0.6],
      ],
      { requiresGrad: true },
    ),
  ],
  () => ({}),
  () => (x: unknown) => x,
  () => [0, 1],
  () => "x",
  () => true,
  () => undefined,
  () => "float64",
  () => [1, 2, 3],
  // attributes of nodes' op objects
  () => ({ axes: [1], keepdims: false }),
  () => ({ axis: 1 }),
  () => ({ transA: false, transB: true }),
  () => ({ p: 2 }),
  () => ({ n: 2, axis: 0 }),
  () => ({ shape: [3, 2] }),
  () => ({ axes: [1, 0] }),
  () => ({ indices: [0, 1], drop: false }),
  () => ({ indices: [0, 1], drop: false, rows: 3 }),
  () => ({ axis: 1, start: 0, end: 2 }),
  () => ({ axis: 1, start: 0, end: 3, dim: 4 }),
  () => ({ axis: 1, sizes: [1, 2] }),
  () => [
    tensor(
      [
        [0.1, 0.2, 0.3],
        [0.4, 0.5, 0.6],
      ],
      { requiresGrad: true },
    ),
    tensor([
      [1, 0, 0],
      [0, 1, 0],
    ]),
  ],
  () => [
    tensor(
      [
        [0.1, 0.2, 0.3],
        [0.4, 0.5, 0.6],
      ],
      { requiresGrad: true },
    ),
    tensor([
      [0.1, 0.2],
      [0.3, 0.4],
      [0.5, 0.6],
    ]),
  ],
  // Trainer.fit: labels of three rows, one small epoch
  () => [0, 1, 2],
  () => ({ maxEpoch: 1, batchSize: 3 }),
];

/** The index of `undefined` in POOL. */
const UNDEFINED = 13;

const isClass = (f: unknown): boolean =>
  typeof f === "function" && /^class\b/.test(Function.prototype.toString.call(f));

/** Settles a call: awaits a promise, so that async exports are judged by their result. */
async function settle(v: unknown): Promise<unknown> {
  return v instanceof Promise ? await v : v;
}

/** True when the call returns (or resolves) within the search; false when it throws. */
async function works(entry: Entry, args: unknown[]): Promise<boolean> {
  try {
    const self = entry.receiver === null ? undefined : entry.receiver();
    await settle(entry.call(self, args));
    return true;
  } catch {
    return false;
  }
}

/** The first combination of POOL values for which the call works, or null. */
async function findBaseline(entry: Entry, budgetMs: number): Promise<number[] | null> {
  const t0 = performance.now();
  const min = entry.length;
  const max = Math.min(Math.max(entry.length + 1, 1), 4);
  for (let n = min; n <= max; n++) {
    const idx = new Array<number>(n).fill(0);
    for (;;) {
      if (
        await works(
          entry,
          idx.map((i) => POOL[i]!()),
        )
      )
        return [...idx];
      if (performance.now() - t0 > budgetMs) return null;
      let d = n - 1;
      while (d >= 0 && idx[d] === POOL.length - 1) idx[d--] = 0;
      if (d < 0) break;
      idx[d]!++;
    }
  }
  return null;
}

/** The entries of one module namespace. */
export function entriesOf(moduleName: string, ns: Record<string, unknown>): Entry[] {
  const out: Entry[] = [];
  for (const [key, value] of Object.entries(ns)) {
    if (typeof value === "function") {
      if (isClass(value)) {
        const C = value as new (...a: unknown[]) => unknown;
        out.push({ name: `${moduleName}:new ${key}`, call: (_s, a) => new C(...a), receiver: null, length: C.length });
        for (const s of Object.getOwnPropertyNames(C)) {
          if (["length", "name", "prototype"].includes(s)) continue;
          const d = Object.getOwnPropertyDescriptor(C, s)!;
          if (typeof d.value === "function") {
            const f = d.value as (...a: unknown[]) => unknown;
            out.push({
              name: `${moduleName}:${key}.${s}`,
              call: (_s, a) => f.apply(C, a),
              receiver: null,
              length: f.length,
            });
          }
        }
      } else {
        const f = value as (...a: unknown[]) => unknown;
        out.push({ name: `${moduleName}:${key}`, call: (_s, a) => f(...a), receiver: null, length: f.length });
      }
    } else if (value !== null && typeof value === "object") {
      // an object of functions, such as nodes' `ops`
      for (const [k, v] of Object.entries(value)) {
        if (typeof v !== "function") continue;
        const f = v as (...a: unknown[]) => unknown;
        out.push({ name: `${moduleName}:${key}.${k}`, call: (_s, a) => f(...a), receiver: null, length: f.length });
      }
    }
  }
  return out;
}

/** Member entries (methods, getters, setters) of a class, given a way to make an instance. */
export function memberEntries(
  moduleName: string,
  className: string,
  C: new () => unknown,
  make: () => unknown,
): Entry[] {
  const out: Entry[] = [];
  const seen = new Set<string>();
  const builtin = new Set<unknown>([Object.prototype, Error.prototype, Function.prototype, Array.prototype, null]);
  for (let p = C.prototype as object | null; !builtin.has(p); p = Object.getPrototypeOf(p) as object | null) {
    if (p === null) break;
    for (const key of Object.getOwnPropertyNames(p)) {
      if (key === "constructor" || seen.has(key)) continue;
      seen.add(key);
      const d = Object.getOwnPropertyDescriptor(p, key)!;
      const base = `${moduleName}:${className}.${key}`;
      if (typeof d.value === "function") {
        const f = d.value as (...a: unknown[]) => unknown;
        out.push({ name: base, call: (s, a) => f.apply(s, a), receiver: make, length: f.length });
      }
      if (d.get !== undefined) {
        const g = d.get;
        out.push({ name: `${base} (get)`, call: (s) => g.call(s), receiver: make, length: 0 });
      }
      if (d.set !== undefined) {
        const st = d.set;
        out.push({ name: `${base} (set)`, call: (s, a) => st.call(s, a[0]), receiver: make, length: 1 });
      }
    }
  }
  return out;
}

/** Instances of classes that their constructor cannot make from POOL values, by class name. */
const RECEIVERS: Readonly<Record<string, (ns: Record<string, unknown>) => unknown>> = {
  Node: () => sumTo(tensor([[1, 2]], { requiresGrad: true }), [2]).creator,
  Trainer: (ns) => {
    const C = ns as Record<string, new (...a: unknown[]) => unknown>;
    return new C.Trainer!(new C.TwoLayerNet!(2, 3, 3), new C.SGD!());
  },
};

/** Builds the plan for the given modules: entries, their baselines, and the calls. */
export async function buildPlan(
  modules: readonly (readonly [string, Record<string, unknown>])[],
  filter: RegExp | null,
  cached: Readonly<Record<string, number[] | null>> | null = null,
  budgetMs = 1500,
): Promise<{ calls: PlannedCall[]; baselines: Map<string, number[] | null> }> {
  const search = async (e: Entry): Promise<number[] | null> =>
    cached !== null && e.name in cached ? cached[e.name]! : findBaseline(e, budgetMs);
  const entries: Entry[] = [];
  for (const [name, ns] of modules) {
    const top = entriesOf(name, ns);
    entries.push(...top);
    // classes: members on an instance made with the constructor's baseline
    for (const [key, value] of Object.entries(ns)) {
      if (!isClass(value)) continue;
      const ctorEntry = top.find((e) => e.name === `${name}:new ${key}`)!;
      const known = RECEIVERS[key];
      let make = known === undefined ? undefined : () => known(ns);
      if (make === undefined) {
        const b = await search(ctorEntry);
        if (b === null) continue;
        make = () =>
          ctorEntry.call(
            undefined,
            b.map((i) => POOL[i]!()),
          );
      }
      entries.push(...memberEntries(name, key, value as new () => unknown, make));
    }
  }
  const calls: PlannedCall[] = [];
  const baselines = new Map<string, number[] | null>();
  for (const entry of entries) {
    if (filter !== null && !filter.test(entry.name)) continue;
    const b = await search(entry);
    baselines.set(entry.name, b);
    const baseline = b ?? new Array<number>(Math.max(entry.length, 1)).fill(UNDEFINED);
    const positions = Math.max(baseline.length, 1);
    const from = entry.receiver === null ? 0 : -1;
    for (let p = from; p < positions; p++) {
      for (const kind of KINDS) calls.push({ entry, baseline, position: p, kind });
    }
  }
  return { calls, baselines };
}

/** The arguments and receiver of a planned call, freshly made. */
export function materialize(c: PlannedCall): { self: unknown; args: unknown[] } {
  const args = c.baseline.map((i) => POOL[i]!());
  if (args.length === 0) args.push(undefined);
  let self = c.entry.receiver === null ? undefined : c.entry.receiver();
  if (c.position === -1) self = c.kind.name === "frozen instance" ? Object.freeze(self) : c.kind.make();
  else args[c.position] = c.kind.make();
  return { self, args };
}

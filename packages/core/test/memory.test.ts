/**
 * Memory: after a backward without `retainGraph`, the graph's nodes release what they saved and,
 * once the output is dropped, are collected by a real GC, while the leaves and their gradients
 * stay alive; nothing of the graph is reachable from the leaves.
 */
import v8 from "node:v8";
import vm from "node:vm";
import { describe, expect, it } from "vitest";
import { type Node, sumTo, type Tensor, tensor } from "../src/index.js";
import { add, mul } from "./helpers.js";

v8.setFlagsFromString("--expose-gc");
const gc = vm.runInNewContext("gc") as () => void;

/** Full collections with turns of the event loop in between, so finalizers get to run. */
async function collect(until: () => boolean, rounds = 20): Promise<void> {
  for (let i = 0; i < rounds && !until(); i++) {
    gc();
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

const NODES = 200;

/**
 * Builds `sum((((a·b) + a)·b + a)…)` over NODES/2 steps, runs backward without retainGraph and
 * checks by inspection that every node released what it saved. Holds the nodes only weakly after
 * it returns (registered with `registry`, and as WeakRefs).
 */
function buildAndBackward(a: Tensor, b: Tensor, registry: FinalizationRegistry<number>, refs: WeakRef<Node>[]): number {
  const nodes: Node[] = [];
  let y: Tensor = a;
  for (let i = 0; i < NODES / 2; i++) {
    y = mul(y, b);
    nodes.push(y.creator!);
    y = add(y, a);
    nodes.push(y.creator!);
  }
  const out = sumTo(y, []);
  nodes.push(out.creator!);
  for (const n of nodes) {
    registry.register(n, n.id);
    refs.push(new WeakRef(n));
  }
  // before backward, the mul nodes hold their saved inputs
  expect(nodes.filter((n) => n.saved.length > 0).length).toBe(NODES / 2);
  out.backward();
  for (const n of nodes) {
    expect(n.released).toBe(true);
    expect(n.saved).toEqual([]);
    expect(n._savedInputs).toBeNull();
    expect(n._savedOutputs).toBeNull();
    expect(n.stashed).toBeUndefined();
    expect(n._acc).toBeNull();
  }
  return nodes.length;
}

describe("graph memory", () => {
  it("GC collects the nodes of a released graph while the leaves and their .grad stay alive", async () => {
    const collected = new Set<number>();
    const registry = new FinalizationRegistry<number>((id) => collected.add(id));
    const refs: WeakRef<Node>[] = [];
    const a = tensor([1, 2, 3], { dtype: "float64", requiresGrad: true });
    const b = tensor([0.5, 0.25, 0.125], { dtype: "float64", requiresGrad: true });
    const leafCollected = { value: false };
    const leafRegistry = new FinalizationRegistry<string>(() => {
      leafCollected.value = true;
    });
    leafRegistry.register(a, "a");
    leafRegistry.register(b, "b");

    const registered = buildAndBackward(a, b, registry, refs);
    await collect(() => collected.size === registered);

    console.log(`memory: ${collected.size} of ${registered} registered nodes collected`);
    expect(collected.size).toBe(registered);
    expect(refs.every((r) => r.deref() === undefined)).toBe(true);
    // the leaves are alive (we still hold them) and so are their gradients
    expect(leafCollected.value).toBe(false);
    expect(a.grad).not.toBeNull();
    expect(b.grad).not.toBeNull();
    expect(a.grad!.shape).toEqual([3]);
    expect(Array.from(b.grad!.data).every(Number.isFinite)).toBe(true);
  });

  it("control: while the output is held, its nodes are not collected", async () => {
    const collected = new Set<number>();
    const registry = new FinalizationRegistry<number>((id) => collected.add(id));
    const a = tensor([1, 2], { dtype: "float64", requiresGrad: true });
    const out = sumTo(mul(add(a, 1), a), []);
    const nodes: Node[] = [];
    for (let n: Node | null = out.creator; n !== null; ) {
      nodes.push(n);
      registry.register(n, n.id);
      const nx = n.next[0];
      n = nx !== null && nx !== undefined && "op" in nx ? nx : null;
    }
    nodes.length = 0;
    out.backward();
    await collect(() => false, 5);
    expect(collected.size).toBe(0);
    expect(out.creator!.released).toBe(true); // keeps `out` (and so its graph) alive until here
  });

  it("nothing of the graph is reachable from the leaves", () => {
    const a = tensor([1, 2, 3], { dtype: "float64", requiresGrad: true });
    const b = tensor(2, { dtype: "float64", requiresGrad: true });
    const out = sumTo(add(mul(a, b), a), []);
    const nodes: Node[] = [];
    const stack: Node[] = [out.creator!];
    while (stack.length > 0) {
      const n = stack.pop()!;
      nodes.push(n);
      for (const nx of n.next) if (nx !== null && "op" in nx) stack.push(nx);
    }
    out.backward();
    for (const leaf of [a, b]) {
      expect(leaf.creator).toBeNull();
      expect(leaf.isLeaf).toBe(true);
      expect(leaf.grad).not.toBeNull();
      expect(leaf.grad!.creator).toBeNull();
      expect(leaf.grad!.requiresGrad).toBe(false);
      // a leaf's own properties hold no node (only its data, shape and gradient)
      for (const value of Object.values(leaf)) expect(nodes).not.toContain(value);
      for (const value of Object.values(leaf.grad!)) expect(nodes).not.toContain(value);
    }
    expect(nodes.length).toBe(3);
    for (const n of nodes) {
      expect(n.released).toBe(true);
      expect(n.saved).toEqual([]);
    }
    expect(a.grad!.toArray()).toEqual([3, 3, 3]);
    expect(b.grad!.item()).toBe(6);
  });
});

/**
 * Issue 15, item 1: every op of @gradgraph/nodes is also a Tensor method, installed by importing
 * the package, and each method is exactly its function (same values, same gradients, same errors).
 */
import { GradgraphError, grad, type Tensor, tensor } from "@gradgraph/core";
import { describe, expect, it } from "vitest";
import * as nodes from "../src/index.js";
import { TENSOR_METHODS } from "../src/index.js";

const x = () =>
  tensor(
    [
      [0.5, -1.5, 2],
      [1, 0.25, -0.75],
    ],
    { dtype: "float64", requiresGrad: true },
  );
const y = () =>
  tensor(
    [
      [1.5, 2, -0.5],
      [0.75, -2, 3],
    ],
    { dtype: "float64", requiresGrad: true },
  );
const pos = () =>
  tensor(
    [
      [0.5, 1.5, 2],
      [1, 0.25, 3],
    ],
    { dtype: "float64", requiresGrad: true },
  );
const W = () =>
  tensor(
    [
      [1, 2],
      [3, -1],
      [0.5, 0.25],
    ],
    { dtype: "float64", requiresGrad: true },
  );
const b = () => tensor([0.1, -0.2], { dtype: "float64", requiresGrad: true });

/**
 * Each method with a call of the method and of its function on the same fresh inputs; every
 * method in TENSOR_METHODS has one, and none is the identity, so a method wired to the wrong op
 * gives different values or gradients.
 */
const CASES: Record<string, { inputs: () => Tensor[]; method: (t: Tensor[]) => Tensor; fn: (t: Tensor[]) => Tensor }> =
  {
    add: { inputs: () => [x(), y()], method: ([a, c]) => a!.add(c!), fn: ([a, c]) => nodes.add(a!, c!) },
    sub: { inputs: () => [x(), y()], method: ([a, c]) => a!.sub(c!), fn: ([a, c]) => nodes.sub(a!, c!) },
    mul: { inputs: () => [x(), y()], method: ([a, c]) => a!.mul(c!), fn: ([a, c]) => nodes.mul(a!, c!) },
    div: { inputs: () => [x(), y()], method: ([a, c]) => a!.div(c!), fn: ([a, c]) => nodes.div(a!, c!) },
    neg: { inputs: () => [x()], method: ([a]) => a!.neg(), fn: ([a]) => nodes.neg(a!) },
    maximum: { inputs: () => [x(), y()], method: ([a, c]) => a!.maximum(c!), fn: ([a, c]) => nodes.maximum(a!, c!) },
    minimum: { inputs: () => [x(), y()], method: ([a, c]) => a!.minimum(c!), fn: ([a, c]) => nodes.minimum(a!, c!) },
    pow: { inputs: () => [pos()], method: ([a]) => a!.pow(3), fn: ([a]) => nodes.pow(a!, 3) },
    exp: { inputs: () => [x()], method: ([a]) => a!.exp(), fn: ([a]) => nodes.exp(a!) },
    log: { inputs: () => [pos()], method: ([a]) => a!.log(), fn: ([a]) => nodes.log(a!) },
    sqrt: { inputs: () => [pos()], method: ([a]) => a!.sqrt(), fn: ([a]) => nodes.sqrt(a!) },
    abs: { inputs: () => [x()], method: ([a]) => a!.abs(), fn: ([a]) => nodes.abs(a!) },
    sigmoid: { inputs: () => [x()], method: ([a]) => a!.sigmoid(), fn: ([a]) => nodes.sigmoid(a!) },
    tanh: { inputs: () => [x()], method: ([a]) => a!.tanh(), fn: ([a]) => nodes.tanh(a!) },
    relu: { inputs: () => [x()], method: ([a]) => a!.relu(), fn: ([a]) => nodes.relu(a!) },
    square: { inputs: () => [x()], method: ([a]) => a!.square(), fn: ([a]) => nodes.square(a!) },
    sin: { inputs: () => [x()], method: ([a]) => a!.sin(), fn: ([a]) => nodes.sin(a!) },
    cos: { inputs: () => [x()], method: ([a]) => a!.cos(), fn: ([a]) => nodes.cos(a!) },
    softplus: {
      inputs: () => [x()],
      method: ([a]) => a!.softplus({ beta: 2 }),
      fn: ([a]) => nodes.softplus(a!, { beta: 2 }),
    },
    elu: { inputs: () => [x()], method: ([a]) => a!.elu(0.5), fn: ([a]) => nodes.elu(a!, 0.5) },
    leakyRelu: { inputs: () => [x()], method: ([a]) => a!.leakyRelu(0.2), fn: ([a]) => nodes.leakyRelu(a!, 0.2) },
    gelu: { inputs: () => [x()], method: ([a]) => a!.gelu("tanh"), fn: ([a]) => nodes.gelu(a!, "tanh") },
    normalCdf: { inputs: () => [x()], method: ([a]) => a!.normalCdf(), fn: ([a]) => nodes.normalCdf(a!) },
    clamp: { inputs: () => [x()], method: ([a]) => a!.clamp(-1, 1), fn: ([a]) => nodes.clamp(a!, -1, 1) },
    cumsum: { inputs: () => [x()], method: ([a]) => a!.cumsum(1), fn: ([a]) => nodes.cumsum(a!, 1) },
    variance: {
      inputs: () => [x()],
      method: ([a]) => a!.variance({ axis: 1 }),
      fn: ([a]) => nodes.variance(a!, { axis: 1 }),
    },
    std: {
      inputs: () => [x()],
      method: ([a]) => a!.std({ correction: 0 }),
      fn: ([a]) => nodes.std(a!, { correction: 0 }),
    },
    outer: { inputs: () => [b(), b()], method: ([a, c]) => a!.outer(c!), fn: ([a, c]) => nodes.outer(a!, c!) },
    squeeze: {
      inputs: () => [b()],
      method: ([a]) => a!.reshape([1, 2]).squeeze(),
      fn: ([a]) => nodes.squeeze(nodes.reshape(a!, [1, 2])),
    },
    unsqueeze: {
      inputs: () => [x()],
      method: ([a]) => a!.unsqueeze(1).mul(x()),
      fn: ([a]) => nodes.mul(nodes.unsqueeze(a!, 1), x()),
    },
    expandDims: {
      inputs: () => [x()],
      method: ([a]) => a!.expandDims(0).mul(x()),
      fn: ([a]) => nodes.mul(nodes.expandDims(a!, 0), x()),
    },
    flatten: {
      inputs: () => [x()],
      method: ([a]) => a!.flatten().mul(a!.flatten()),
      fn: ([a]) => nodes.mul(nodes.flatten(a!), nodes.flatten(a!)),
    },
    tile: { inputs: () => [x()], method: ([a]) => a!.tile([2, 1]), fn: ([a]) => nodes.tile(a!, [2, 1]) },
    unstack: { inputs: () => [x()], method: ([a]) => a!.unstack(1)[2]!, fn: ([a]) => nodes.unstack(a!, 1)[2]! },
    sum: { inputs: () => [x()], method: ([a]) => a!.sum({ axis: 1 }), fn: ([a]) => nodes.sum(a!, { axis: 1 }) },
    mean: { inputs: () => [x()], method: ([a]) => a!.mean({ axis: 0 }), fn: ([a]) => nodes.mean(a!, { axis: 0 }) },
    max: { inputs: () => [x()], method: ([a]) => a!.max({ axis: -1 }), fn: ([a]) => nodes.max(a!, { axis: -1 }) },
    logSumExp: {
      inputs: () => [x()],
      method: ([a]) => a!.logSumExp({ axis: 1 }),
      fn: ([a]) => nodes.logSumExp(a!, { axis: 1 }),
    },
    softmax: { inputs: () => [x()], method: ([a]) => a!.softmax(0), fn: ([a]) => nodes.softmax(a!, 0) },
    logSoftmax: { inputs: () => [x()], method: ([a]) => a!.logSoftmax(), fn: ([a]) => nodes.logSoftmax(a!) },
    matmul: { inputs: () => [x(), W()], method: ([a, w]) => a!.matmul(w!), fn: ([a, w]) => nodes.matmul(a!, w!) },
    affine: {
      inputs: () => [x(), W(), b()],
      method: ([a, w, c]) => a!.affine(w!, c!),
      fn: ([a, w, c]) => nodes.affine(a!, w!, c!),
    },
    reshape: { inputs: () => [x()], method: ([a]) => a!.reshape([3, -1]), fn: ([a]) => nodes.reshape(a!, [3, -1]) },
    transpose: { inputs: () => [x()], method: ([a]) => a!.transpose(), fn: ([a]) => nodes.transpose(a!) },
    broadcastTo: {
      inputs: () => [b()],
      method: ([a]) => a!.broadcastTo([3, 2]),
      fn: ([a]) => nodes.broadcastTo(a!, [3, 2]),
    },
    sumTo: { inputs: () => [x()], method: ([a]) => a!.sumTo([1, 3]), fn: ([a]) => nodes.sumTo(a!, [1, 3]) },
    getItem: {
      inputs: () => [x()],
      method: ([a]) => a!.getItem(nodes.s(null, null, -1), [2, 0, 2], null),
      fn: ([a]) => nodes.getItem(a!, nodes.s(null, null, -1), [2, 0, 2], null),
    },
    gather: {
      inputs: () => [x()],
      method: ([a]) => a!.gather([2, 0, 2], 1),
      fn: ([a]) => nodes.gather(a!, [2, 0, 2], 1),
    },
    slice: { inputs: () => [x()], method: ([a]) => a!.slice(1, 3, 1), fn: ([a]) => nodes.slice(a!, 1, 3, 1) },
    concat: {
      inputs: () => [x(), y()],
      method: ([a, c]) => a!.concat([c!, c!], 1),
      fn: ([a, c]) => nodes.concat([a!, c!, c!], 1),
    },
    stack: { inputs: () => [x(), y()], method: ([a, c]) => a!.stack(c!, 2), fn: ([a, c]) => nodes.stack([a!, c!], 2) },
    split: {
      inputs: () => [x()],
      method: ([a]) => a!.split([1, 2], 1)[1]!,
      fn: ([a]) => nodes.split(a!, [1, 2], 1)[1]!,
    },
    repeat: { inputs: () => [b()], method: ([a]) => a!.repeat(3, 0), fn: ([a]) => nodes.repeat(a!, 3, 0) },
    branch: { inputs: () => [x()], method: ([a]) => a!.branch(3)[2]!, fn: ([a]) => nodes.branch(a!, 3)[2]! },
    softmaxCrossEntropy: {
      inputs: () => [x()],
      method: ([a]) => a!.softmaxCrossEntropy([2, 0]),
      fn: ([a]) => nodes.softmaxCrossEntropy(a!, [2, 0]),
    },
    meanSquaredError: {
      inputs: () => [x(), y()],
      method: ([a, c]) => a!.meanSquaredError(c!),
      fn: ([a, c]) => nodes.meanSquaredError(a!, c!),
    },
    equal: {
      inputs: () => [x(), y()],
      method: ([a, c]) => nodes.where(a!.equal(c!.mul(a!.greater(0))), a!, c!),
      fn: ([a, c]) => nodes.where(nodes.equal(a!, nodes.mul(c!, nodes.greater(a!, 0))), a!, c!),
    },
    notEqual: {
      inputs: () => [x(), y()],
      method: ([a, c]) => nodes.where(a!.notEqual(c!.mul(a!.greater(0))), a!, c!),
      fn: ([a, c]) => nodes.where(nodes.notEqual(a!, nodes.mul(c!, nodes.greater(a!, 0))), a!, c!),
    },
    less: {
      inputs: () => [x(), y()],
      method: ([a, c]) => nodes.where(a!.less(c!.mul(a!.greater(0))), a!, c!),
      fn: ([a, c]) => nodes.where(nodes.less(a!, nodes.mul(c!, nodes.greater(a!, 0))), a!, c!),
    },
    lessEqual: {
      inputs: () => [x(), y()],
      method: ([a, c]) => nodes.where(a!.lessEqual(c!.mul(a!.greater(0))), a!, c!),
      fn: ([a, c]) => nodes.where(nodes.lessEqual(a!, nodes.mul(c!, nodes.greater(a!, 0))), a!, c!),
    },
    greater: {
      inputs: () => [x(), y()],
      method: ([a, c]) => nodes.where(a!.greater(c!.mul(a!.greater(0))), a!, c!),
      fn: ([a, c]) => nodes.where(nodes.greater(a!, nodes.mul(c!, nodes.greater(a!, 0))), a!, c!),
    },
    greaterEqual: {
      inputs: () => [x(), y()],
      method: ([a, c]) => nodes.where(a!.greaterEqual(c!.mul(a!.greater(0))), a!, c!),
      fn: ([a, c]) => nodes.where(nodes.greaterEqual(a!, nodes.mul(c!, nodes.greater(a!, 0))), a!, c!),
    },
    logicalAnd: {
      inputs: () => [x(), y()],
      method: ([a, c]) => nodes.where(a!.logicalAnd(c!.mul(a!.greater(0))), a!, c!),
      fn: ([a, c]) => nodes.where(nodes.logicalAnd(a!, nodes.mul(c!, nodes.greater(a!, 0))), a!, c!),
    },
    logicalOr: {
      inputs: () => [x(), y()],
      method: ([a, c]) => nodes.where(a!.logicalOr(c!.mul(a!.greater(0))), a!, c!),
      fn: ([a, c]) => nodes.where(nodes.logicalOr(a!, nodes.mul(c!, nodes.greater(a!, 0))), a!, c!),
    },
    logicalXor: {
      inputs: () => [x(), y()],
      method: ([a, c]) => nodes.where(a!.logicalXor(c!.mul(a!.greater(0))), a!, c!),
      fn: ([a, c]) => nodes.where(nodes.logicalXor(a!, nodes.mul(c!, nodes.greater(a!, 0))), a!, c!),
    },
    logicalNot: {
      inputs: () => [x(), y()],
      method: ([a, c]) => nodes.where(a!.greater(0).logicalNot(), a!, c!),
      fn: ([a, c]) => nodes.where(nodes.logicalNot(nodes.greater(a!, 0)), a!, c!),
    },
    argmax: {
      inputs: () => [x()],
      method: ([a]) => a!.gather(Array.from(a!.argmax({ axis: 1 }).data), 1),
      fn: ([a]) => nodes.gather(a!, Array.from(nodes.argmax(a!, { axis: 1 }).data), 1),
    },
    argmin: {
      inputs: () => [x()],
      method: ([a]) => a!.flatten().gather([a!.argmin().item()]),
      fn: ([a]) => nodes.gather(nodes.flatten(a!), [nodes.argmin(a!).item()]),
    },
    floorDiv: {
      inputs: () => [x(), y()],
      method: ([a, c]) => a!.mul(a!.floorDiv(c!.add(3))).add(c!),
      fn: ([a, c]) => nodes.add(nodes.mul(a!, nodes.floorDiv(a!, nodes.add(c!, 3))), c!),
    },
    mod: {
      inputs: () => [x(), y()],
      method: ([a, c]) => a!.mod(c!.add(3)),
      fn: ([a, c]) => nodes.mod(a!, nodes.add(c!, 3)),
    },
    where: {
      inputs: () => [x(), y()],
      method: ([a, c]) => a!.where(c!.greater(0), c!),
      fn: ([a, c]) => nodes.where(nodes.greater(c!, 0), a!, c!),
    },
    cast: {
      inputs: () => [x()],
      method: ([a]) => a!.cast("float32").mul(a!.cast("int32")) as Tensor,
      fn: ([a]) => nodes.mul(nodes.cast(a!, "float32"), nodes.cast(a!, "int32")) as Tensor,
    },
  };

/** Values and gradients (of a weighted sum of the output) with respect to every input. */
function run(inputs: Tensor[], f: (t: Tensor[]) => Tensor): { value: unknown; grads: unknown[] } {
  const out = f(inputs);
  const weights = tensor(
    Array.from({ length: out.size }, (_, i) => 1 + i * 0.5),
    { dtype: "float64" },
  );
  const loss = nodes.sum(nodes.mul(nodes.reshape(out, [-1]), weights));
  const grads = grad(loss, inputs);
  return { value: out.toArray(), grads: grads.map((g) => g.toArray()) };
}

describe("Tensor methods", () => {
  it("are installed for every op function, non-enumerable, and each has a case here", () => {
    expect([...TENSOR_METHODS].sort()).toEqual(Object.keys(CASES).sort());
    const proto = Object.getPrototypeOf(x()) as Record<string, unknown>;
    for (const name of TENSOR_METHODS) {
      expect(typeof proto[name], name).toBe("function");
      expect(Object.getOwnPropertyDescriptor(proto, name)?.enumerable, name).toBe(false);
      expect((proto[name] as { name: string }).name, name).toBe(name);
    }
  });

  it.each(Object.keys(CASES))("%s: the method gives the function's values and gradients", (name) => {
    const c = CASES[name]!;
    const viaMethod = run(c.inputs(), c.method);
    const viaFunction = run(c.inputs(), c.fn);
    expect(viaMethod).toEqual(viaFunction);
  });

  it("chain as in PyTorch: x.matmul(W).add(b).relu().sum() records the same graph as the functions", () => {
    const [a, w, c] = [x(), W(), b()];
    const loss = a.matmul(w).add(c).relu().sum();
    loss.backward();
    const [a2, w2, c2] = [x(), W(), b()];
    nodes.sum(nodes.relu(nodes.add(nodes.matmul(a2, w2), c2))).backward();
    expect(loss.item()).toBe(nodes.sum(nodes.relu(nodes.add(nodes.matmul(a2, w2), c2))).item());
    expect([a.grad?.toArray(), w.grad?.toArray(), c.grad?.toArray()]).toEqual([
      a2.grad?.toArray(),
      w2.grad?.toArray(),
      c2.grad?.toArray(),
    ]);
    expect(loss.creator?.opName).toBe("sum");
  });

  it("x.matmul(y, { transposeA, transposeB }) is matmul(x, y, options): values, gradients and errors", () => {
    // x, y: [2, 3]; W: [3, 2]
    const cases: [nodes.MatmulOptions | undefined, () => Tensor, () => Tensor][] = [
      [undefined, x, W],
      [{ transposeB: true }, x, y],
      [{ transposeA: true }, x, y],
      [{ transposeA: true, transposeB: true }, x, W],
      [{ transposeA: false, transposeB: false }, x, W],
    ];
    for (const [options, p, q] of cases) {
      const viaMethod = run([p(), q()], ([a, c]) => a!.matmul(c!, options));
      expect(viaMethod).toEqual(run([p(), q()], ([a, c]) => nodes.matmul(a!, c!, options)));
    }
    expect(() => x().matmul(y(), { transposeB: "yes" as never })).toThrow(
      /^matmul: options\.transposeB must be a boolean, got string "yes"/,
    );
  });

  it("x.clone() (core's method) is nodes.clone(x): the same recorded op, values and gradients", () => {
    const viaMethod = run([x()], ([p]) => p!.clone().mul(p!));
    const viaFunction = run([x()], ([p]) => nodes.mul(nodes.clone(p!), p!));
    expect(viaMethod).toEqual(viaFunction);
    expect(x().clone().creator?.op).toBe(nodes.clone(x()).creator?.op);
    expect(TENSOR_METHODS).not.toContain("clone");
  });

  it("report bad arguments with the op's own error, and a method called on a non-tensor too", () => {
    expect(() => x().add("a" as never)).toThrow(/^add: /);
    expect(() => x().reshape([4, 4])).toThrow(GradgraphError);
    const add = x().add;
    expect(() => add.call({} as Tensor, 1)).toThrow(GradgraphError);
    expect(() => Reflect.apply(add, undefined, [1])).toThrow(/^add: /);
    expect(() => x().concat(5 as never)).toThrow(
      /^Tensor\.concat: others must be a Tensor or an array of Tensors, got number 5/,
    );
    expect(() => x().stack([y(), "z" as never])).toThrow(/^stack: /);
  });
});

/**
 * `npm start` (until packages/nn lands): the seed's Affine layer `y = x·W + b` for a mini-batch,
 * built from the six seed nodes, with its value, the gradients autodiff derives, and a gradient
 * check against numerical gradients.
 */
import { assertGradcheck, randn, type Tensor } from "@gradgraph/core";
import { add, branch, matmul, mul, repeat, sum } from "@gradgraph/nodes";

const N = 4;
const D = 3;
const H = 2;

/** loss = Σ (x·W + repeat(b, N))² — the seed's MatMul, Repeat, Add, Branch, Mul and Sum nodes. */
function loss(x: Tensor, W: Tensor, b: Tensor): Tensor {
  const y = add(matmul(x, W), repeat(b, N, 0));
  const [y1, y2] = branch(y);
  return sum(mul(y1!, y2!));
}

const x = randn([N, D], { seed: 1, dtype: "float64" });
const W = randn([D, H], { seed: 2, dtype: "float64", requiresGrad: true });
const b = randn([1, H], { seed: 3, dtype: "float64", requiresGrad: true });

const L = loss(x, W, b);
L.backward();

const fmt = (t: Tensor | null) =>
  JSON.stringify(t?.toArray(), (_k, v) => (typeof v === "number" ? Number(v.toFixed(6)) : v));
console.log("gradgraph — the seed's Affine layer, differentiated by reverse-mode autodiff\n");
console.log(`loss = Σ (x·W + b)²  with x ${N}×${D}, W ${D}×${H}, b 1×${H}`);
console.log(`loss   = ${L.item().toFixed(6)}`);
console.log(`dL/dW  = ${fmt(W.grad)}`);
console.log(`dL/db  = ${fmt(b.grad)}`);
const report = assertGradcheck(loss, [x, W, b]);
console.log(
  `\ngradcheck against central differences (float64): passed, max abs error ${report.maxAbsError.toExponential(2)}`,
);

/**
 * @gradgraph/nodes: the differentiable ops, each a plain function defined with `defineOp`
 * exactly as a library author outside the project would define one. `ops` lists the op objects
 * themselves, for `checkOp` and graph tooling.
 */
import { addOp, mulOp } from "./arithmetic.js";
import { branchOp, repeatOp } from "./branch.js";
import { matmulOp } from "./matmul.js";
import { sumOp } from "./reduce.js";
import { reshapeOp } from "./shape.js";

export { add, mul } from "./arithmetic.js";
export { branch, repeat } from "./branch.js";
export { type MatmulAttrs, matmul } from "./matmul.js";
export { type ReduceOptions, sum } from "./reduce.js";
export { broadcastTo, reshape, sumTo } from "./shape.js";

/** Every op object of this package, by name. */
export const ops = {
  add: addOp,
  mul: mulOp,
  branch: branchOp,
  repeat: repeatOp,
  sum: sumOp,
  reshape: reshapeOp,
  matmul: matmulOp,
} as const;

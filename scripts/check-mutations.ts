/**
 * Shows that issue 1's checks can fail: removes each check in turn (a textual mutation of one
 * source file), runs the tests that cover it, and expects them to fail; the file is restored
 * whatever happens. Prints one line per mutation and exits 1 if a mutation survived.
 *
 * Usage: tsx scripts/check-mutations.ts [NAME-REGEX]   (takes a few minutes: one vitest run each)
 */
import { spawnSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(fileURLToPath(new URL(".", import.meta.url)), "..");

interface Mutation {
  /** What is removed. */
  readonly name: string;
  /** The file changed, from the repository root. */
  readonly file: string;
  /** The exact text replaced (it must occur once). */
  readonly from: string;
  readonly to: string;
  /** The test file to run, and a test-name filter (vitest -t). */
  readonly test: string;
  readonly filter?: string;
}

const MUTATIONS: readonly Mutation[] = [
  {
    name: "isTensor checks the prototype only (instanceof)",
    file: "packages/core/src/tensor.ts",
    from: `return typeof value === "object" && value !== null && intact(value);`,
    to: "return value instanceof Tensor;",
    test: "packages/core/test/validation.test.ts",
    filter: "brand check",
  },
  {
    name: "defineOp's input check uses instanceof",
    file: "packages/core/src/op.ts",
    from: "if (isTensor(x)) {",
    to: "if (x instanceof Tensor) {",
    test: "packages/core/test/validation.test.ts",
    filter: "ops, grad, backward",
  },
  {
    name: "new Tensor does not check its shape",
    file: "packages/core/src/tensor.ts",
    from: "if (!Array.isArray(shape) || shape.length > MAX_RANK) throw badShape(shape);",
    to: "",
    test: "packages/core/test/validation.test.ts",
    filter: "new Tensor checks its shape",
  },
  {
    name: "tensor() reads nested arrays without a depth limit (cyclic arrays, 10,000-deep nesting)",
    file: "packages/core/src/tensor.ts",
    from: "if (dims.length === MAX_NESTING) {",
    to: "if (dims.length === Number.POSITIVE_INFINITY) {",
    test: "packages/core/test/fuzz-api.test.ts",
    filter: "issue 1: tensor",
  },
  {
    name: "the shape helpers loop over any length (2^32-long array-likes)",
    file: "packages/core/src/shape.ts",
    from: "  if (shape.length > MAX_RANK) {\n    throw new ShapeError(fn, `$" + "{fn}: $" + "{arg} has",
    to: "  if (shape.length > Number.POSITIVE_INFINITY) {\n    throw new ShapeError(fn, `$" + "{fn}: $" + "{arg} has",
    test: "packages/core/test/fuzz-api.test.ts",
    filter: "issue 1: shape helpers",
  },
  {
    name: "enableGrad does not check fn",
    file: "packages/core/src/grad-mode.ts",
    from: `checkCallback("enableGrad", "fn", fn);`,
    to: "",
    test: "packages/core/test/validation.test.ts",
    filter: "callbacks",
  },
  {
    name: "a class passes as a callback",
    file: "packages/core/src/validate.ts",
    from: "if (isConstructorOnly(value as (...args: never[]) => unknown)) {",
    to: "if (false) {",
    test: "packages/core/test/validation.test.ts",
    filter: "callbacks",
  },
  {
    name: "describeValue without its try/catch",
    file: "packages/core/src/errors.ts",
    from: "  try {\n    return describeUnchecked(value);\n  } catch {\n    return typeof value;\n  }",
    to: "  return describeUnchecked(value);",
    test: "packages/core/test/validation.test.ts",
    filter: "messages never throw",
  },
  {
    name: "a transferred slab is kept",
    file: "packages/core/src/memory.ts",
    from: "if (slabOffset + bytes > SLAB_BYTES || slab.byteLength === 0) {",
    to: "if (slabOffset + bytes > SLAB_BYTES) {",
    test: "packages/core/test/validation.test.ts",
    filter: "detached and non-float",
  },
  {
    name: "tensor() takes a detached typed array",
    file: "packages/core/src/tensor.ts",
    from: "    if (isDetached(values)) {",
    to: "    if (false) {",
    test: "packages/core/test/validation.test.ts",
    filter: "detached and non-float",
  },
  {
    name: "backward writes into a frozen leaf",
    file: "packages/core/src/engine.ts",
    from: "if (Object.isFrozen(leaf) || (cur !== null && cur.creator === null && !create && Object.isFrozen(cur))) {",
    to: "if (false) {",
    test: "packages/core/test/validation.test.ts",
    filter: "frozen tensors",
  },
  {
    name: "fill_ writes into a frozen tensor",
    file: "packages/core/src/tensor.ts",
    from: `    assertWritable("fill_", "this tensor", this);`,
    to: "",
    test: "packages/core/test/validation.test.ts",
    filter: "frozen tensors",
  },
  {
    name: "the kernels stay on core's main entry",
    file: "packages/core/src/index.ts",
    from: `export { allocArray,`,
    to: `export { binaryInto, gemm } from "./kernels/index.js";\nexport { allocArray,`,
    test: "packages/core/test/validation.test.ts",
    filter: "kernels entry",
  },
  {
    name: "gemm interpolates its sizes into its message",
    file: "packages/core/src/kernels/matmul.ts",
    from: "got $" + "{describeValue(v)}`);\n    }\n  }\n}",
    to: "got $" + "{String(v)}`);\n    }\n  }\n}",
    test: "packages/core/test/validation.test.ts",
    filter: "gemm and axpy",
  },
  {
    name: "sum, max and logSumExp ops keep negative axes",
    file: "packages/nodes/src/reduce.ts",
    from: "return { axes: normalizeAxes(fn, attrs.axes, x.rank), keepdims: attrs.keepdims === true };",
    to: "return { axes: [...attrs.axes], keepdims: attrs.keepdims === true };",
    test: "packages/nodes/test/validation.test.ts",
    filter: "sum, max and logSumExp",
  },
  {
    name: "softmax op keeps a negative axis",
    file: "packages/nodes/src/softmax.ts",
    from: `normalize: ([x], attrs) => ({ axis: normalizeAxis("softmax", attrs.axis, x!.rank) }),`,
    to: "",
    test: "packages/nodes/test/validation.test.ts",
    filter: "softmax and logSoftmax",
  },
  {
    name: "matmul takes any transA",
    file: "packages/nodes/src/matmul.ts",
    from: `if (v !== undefined && typeof v !== "boolean") {`,
    to: "if (false) {",
    test: "packages/nodes/test/validation.test.ts",
    filter: "transA and transB must be booleans",
  },
  {
    name: "padSlice allocates before checking the result's size",
    file: "packages/nodes/src/shape.ts",
    from: `    checkShape(\n      "padSlice",`,
    to: `    (() => undefined)(\n      "padSlice",`,
    test: "packages/nodes/test/validation.test.ts",
    filter: "results too large",
  },
  {
    name: "a frozen tensor becomes a layer parameter",
    file: "packages/nn/src/checks.ts",
    from: "  if (Object.isFrozen(t)) {",
    to: "  if (false) {",
    test: "packages/nn/test/validation.test.ts",
    filter: "frozen tensors",
  },
  {
    name: "optimizers update a frozen parameter",
    file: "packages/nn/src/optim/optimizer.ts",
    from: "    if (Object.isFrozen(p)) {",
    to: "    if (false) {",
    test: "packages/nn/test/validation.test.ts",
    filter: "optimizers and clipGradNorm",
  },
  {
    name: "layers do not check their receiver",
    file: "packages/nn/src/layers/layer.ts",
    from: `    checkLayerThis("BaseLayer.forward", this);`,
    to: "",
    test: "packages/nn/test/validation.test.ts",
    filter: "methods called on something",
  },
  {
    name: "nn options may be a tensor",
    file: "packages/nn/src/checks.ts",
    from: "isArrayOrRevoked(options) || isTensorLike(options)) {",
    to: "isArrayOrRevoked(options)) {",
    test: "packages/nn/test/validation.test.ts",
    filter: "fake tensors",
  },
  {
    name: "lossPlotSvg draws every entry",
    file: "packages/viz/src/plots/loss.ts",
    from: "if (n <= 4 * columns) return",
    to: "if (n >= 0) return",
    test: "packages/viz/test/validation.test.ts",
    filter: "long lists",
  },
];

const only = process.argv[2] === undefined ? null : new RegExp(process.argv[2]);
let survived = 0;
for (const m of MUTATIONS) {
  if (only !== null && !only.test(m.name)) continue;
  const path = join(root, m.file);
  const original = readFileSync(path, "utf8");
  const at = original.indexOf(m.from);
  if (at < 0 || original.indexOf(m.from, at + 1) >= 0) {
    console.log(`?? ${m.name}: the text to change does not occur exactly once in ${m.file}`);
    survived++;
    continue;
  }
  writeFileSync(path, original.slice(0, at) + m.to + original.slice(at + m.from.length));
  try {
    const args = ["vitest", "run", m.test, ...(m.filter === undefined ? [] : ["-t", m.filter])];
    const r = spawnSync("npx", args, { cwd: root, encoding: "utf8", timeout: 600_000 });
    const failed = r.status !== 0;
    if (!failed) survived++;
    console.log(`${failed ? "killed  " : "SURVIVED"} ${m.name} (${m.test}${m.filter ? ` -t "${m.filter}"` : ""})`);
  } finally {
    writeFileSync(path, original);
  }
}
process.exit(survived > 0 ? 1 : 0);

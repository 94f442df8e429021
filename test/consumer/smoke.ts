/**
 * What a user does first with the installed packages, as plain ESM (compiled by the user's tsc,
 * run by plain node or bundled for a browser): a gradient, an op of one's own checked by
 * assertGradcheck and checkOp, the spiral net trained, and the kernels reported. Prints one JSON
 * line that the install test reads.
 */
import { assertGradcheck, defineOp, grad, kernelInfo, ready, tensor } from "@gradgraph/core";
import { checkOp } from "@gradgraph/core/testing";
import { accuracy, loadSpiral, SGD, Trainer, TwoLayerNet } from "@gradgraph/nn";
import { matmul, mul, sum } from "@gradgraph/nodes";

export async function smoke(): Promise<Record<string, unknown>> {
  const info = await ready();

  const x = tensor(
    [
      [1, 2],
      [3, 4],
    ],
    { dtype: "float64" },
  );
  const W = tensor([[0.5], [-1]], { dtype: "float64", requiresGrad: true });
  const [dW] = grad(sum(mul(matmul(x, W), matmul(x, W))), [W]);

  const cube = defineOp({
    name: "cube",
    inputs: ["x"],
    forward([a], _attrs, ctx) {
      const y = ctx.alloc(a.shape);
      for (let i = 0; i < y.data.length; i++) y.data[i] = a.data[i]! ** 3;
      ctx.saveInputs(0);
      return y;
    },
    backward: (gy, ctx) => [mul(gy, mul(3, mul(ctx.input(0), ctx.input(0))))],
  });
  assertGradcheck((a) => cube([a]), [tensor([0.5, -1, 2], { dtype: "float64" })]);
  const { cases } = checkOp(cube, { numRuns: 10, seed: 1 });

  const { x: points, t } = loadSpiral({ seed: 1984 });
  const model = new TwoLayerNet(2, 10, 3, { seed: 1984 });
  const trainer = new Trainer(model, new SGD({ lr: 1.0 }));
  trainer.fit(points, t, { maxEpoch: 300, batchSize: 30, evalInterval: 10, seed: 1984, output: null });

  // a product large enough for the WASM kernels under the default "auto" backend
  const A = tensor(Array.from({ length: 64 }, (_, i) => Array.from({ length: 64 }, (_, j) => ((i * 7 + j) % 13) - 6)));
  const product = sum(matmul(A, A)).item();

  return {
    backend: info.backend,
    kernelInfo: kernelInfo().backend,
    dW: dW!.toArray(),
    cases,
    lossList: trainer.lossList.length,
    accuracy: accuracy(model, points, t),
    product,
  };
}

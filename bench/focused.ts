/**
 * A focused benchmark for comparing two trees (a branch against main): the workloads that the
 * engine's speed is judged on, in one process, interleaved, printed as one JSON line of medians.
 * The machine's timings are bimodal per process (V8 decides once how to compile the hot
 * functions), so compare the medians of many processes per side, alternating the sides:
 *
 *   for i in 1 2 3 4 5 6 7 8; do (cd main && tsx bench/focused.ts); (cd branch && tsx bench/focused.ts); done
 *
 * Run it with `tsx --conditions=@gradgraph/source bench/focused.ts [workload ...]`.
 */
import { type OpCore, randn, type Tensor } from "@gradgraph/core";
import { add, affine, matmul, mul, relu, sigmoid, softmaxCrossEntropy, sum, tanh } from "@gradgraph/nodes";
import { nnWorkloads } from "./nn.js";
import { median, sinkValue, timeIters, toUnit, type Workload } from "./workload.js";

/**
 * `NO_FUSED=matmul,affine,softmaxCrossEntropy,sigmoid,tanh,relu` runs without those ops'
 * `fusedBackward` (their one `backward` then runs in a first-order pass too): what each fusion buys.
 */
const noFused = (process.env.NO_FUSED ?? "").split(",").filter((n) => n !== "");
if (noFused.length > 0) {
  const p = randn([2, 2], { seed: 9, requiresGrad: true });
  const cores: OpCore[] = [
    matmul(p, p).creator!.op,
    affine(p, p, randn([2], { seed: 10 })).creator!.op,
    softmaxCrossEntropy(p, [0, 1]).creator!.op,
    sigmoid(p).creator!.op,
    tanh(p).creator!.op,
    relu(p).creator!.op,
  ];
  for (const core of cores) {
    if (noFused.includes(core.name) && core.fusedBackward !== undefined) {
      // set, not deleted: the object keeps its shape
      (core as { fusedBackward?: unknown }).fusedBackward = undefined;
      console.error(`focused: ${core.name} without fusedBackward`);
    }
  }
}

const WARMUP_MS = 400;
const SAMPLE_MS = 100;
const ROUNDS = 7;

function chainWorkload(): Workload {
  const x = randn([1], { seed: 1, requiresGrad: true });
  const c = randn([1], { seed: 2, requiresGrad: true });
  c.data[0] = 1.01;
  const chain = (): Tensor => {
    let h: Tensor = x;
    for (let i = 0; i < 50; i++) h = add(mul(h, c), c);
    return sum(h);
  };
  return {
    id: "record+backward/1",
    bench: "record + backward",
    label: "[1] float32, 101 nodes",
    unit: "ns/node",
    work: 101,
    run(iters) {
      let s = 0;
      for (let i = 0; i < iters; i++) {
        x.grad = null;
        c.grad = null;
        chain().backward();
        s += x.grad!.data[0]!;
      }
      return s;
    },
  };
}

function matmulWorkload(n: number): Workload {
  const a = randn([n, n], { seed: 3 });
  const b = randn([n, n], { seed: 4 });
  return {
    id: `matmul/${n}/float32`,
    bench: "matmul op (forward)",
    label: `n = ${n}`,
    unit: "GFLOP/s",
    work: 2 * n * n * n,
    run(iters) {
      let s = 0;
      for (let i = 0; i < iters; i++) s += matmul(a, b).data[0]!;
      return s;
    },
  };
}

const WANTED = [
  "spiral/float32",
  "spiral/float64",
  "mlp-step/gradgraph/float32",
  "step/autodiff/float32",
  "step/reference/float32",
  "step/autodiff/float64",
  "step/reference/float64",
];

const all = [...nnWorkloads().filter((w) => WANTED.includes(w.id)), chainWorkload(), matmulWorkload(512)];
const only = process.argv.slice(2).filter((a) => !a.startsWith("-"));
const workloads = only.length > 0 ? all.filter((w) => only.includes(w.id)) : all;

const iters: number[] = [];
for (const w of workloads) {
  const t0 = performance.now();
  let n = 1;
  let per = timeIters(w, 1);
  while (performance.now() - t0 < WARMUP_MS) {
    per = timeIters(w, n) / n;
    if (per * n < 5e6) n *= 2;
  }
  iters.push(Math.max(1, Math.round((SAMPLE_MS * 1e6) / per)));
}
const samples = workloads.map(() => [] as number[]);
for (let r = 0; r < ROUNDS; r++) {
  for (let k = 0; k < workloads.length; k++) {
    const i = (k + r) % workloads.length;
    samples[i]!.push(toUnit(workloads[i]!, timeIters(workloads[i]!, iters[i]!), iters[i]!));
  }
}
const out: Record<string, number> = {};
workloads.forEach((w, i) => {
  out[w.id] = median(samples[i]!);
});
if (!Number.isFinite(sinkValue())) console.error("sink", sinkValue());
console.log(JSON.stringify(out));

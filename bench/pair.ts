/**
 * A paired comparison of two trees in one process: both trees' `bench/nn.ts` workloads (and the
 * scalar chain and a 512 matmul), interleaved round by round, so that a load spike on this shared
 * machine hits both sides alike. Prints one JSON line of per-workload medians (or minima with
 * `STAT=min`) in µs per call, keys `A:<id>` and `B:<id>`. Compare the per-process ratios B/A over
 * several processes, alternating which tree is A:
 *
 *   node --conditions=@gradgraph/source --import tsx bench/pair.ts TREE_A TREE_B 15 step/autodiff/float64 step/reference/float64
 *
 * The trees are paths to checkouts with their dependencies installed.
 */
import { pathToFileURL } from "node:url";

const [treeA, treeB, roundsArg, ...ids] = process.argv.slice(2);
type W = { id: string; run(iters: number): number; runPart?: (i: number) => { ns: number; value: number } };
const load = async (tree: string) => {
  const nn = await import(pathToFileURL(`${tree}/bench/nn.ts`).href);
  const core = await import(pathToFileURL(`${tree}/packages/core/src/index.ts`).href);
  const nodes = await import(pathToFileURL(`${tree}/packages/nodes/src/index.ts`).href);
  const extra: W[] = [];
  {
    const x = core.randn([1], { seed: 1, requiresGrad: true });
    const c = core.randn([1], { seed: 2, requiresGrad: true });
    c.data[0] = 1.01;
    const chain = () => {
      let h = x;
      for (let i = 0; i < 50; i++) h = nodes.add(nodes.mul(h, c), c);
      return nodes.sum(h);
    };
    extra.push({
      id: "record+backward/1",
      run(iters: number) {
        let s = 0;
        for (let i = 0; i < iters; i++) {
          x.grad = null;
          c.grad = null;
          chain().backward();
          s += x.grad.data[0];
        }
        return s;
      },
    });
    const a = core.randn([512, 512], { seed: 3 }),
      b = core.randn([512, 512], { seed: 4 });
    extra.push({
      id: "matmul/512/float32",
      run(iters: number) {
        let s = 0;
        for (let i = 0; i < iters; i++) s += nodes.matmul(a, b).data[0];
        return s;
      },
    });
  }
  return [...(nn.nnWorkloads() as W[]), ...extra].filter((w) => ids!.includes(w.id));
};
const A = await load(treeA!);
const B = await load(treeB!);
let sink = 0;
const cpu = process.env.TIMER === "cpu";
const now = () => {
  if (cpu) {
    const u = process.cpuUsage();
    return (u.user + u.system) / 1000;
  }
  return performance.now();
};
const time = (w: W, n: number) => {
  if (w.runPart && !cpu) {
    const { ns, value } = w.runPart(n);
    sink += value;
    return ns;
  }
  const t0 = now();
  sink += w.run(n);
  return (now() - t0) * 1e6;
};
const all = [...A.map((w) => ["A", w] as const), ...B.map((w) => ["B", w] as const)];
const iters = all.map(([, w]) => {
  let n = 1,
    per = 0;
  const t0 = performance.now();
  while (performance.now() - t0 < 300) {
    per = time(w, n) / n;
    if (per * n < 5e6) n *= 2;
  }
  return Math.max(1, Math.round(Number(process.env.SAMPLE_NS ?? 5e7) / per));
});
const samples = all.map(() => [] as number[]);
const R = Number(roundsArg);
for (let r = 0; r < R; r++)
  for (let k = 0; k < all.length; k++) {
    const i = (k + r) % all.length;
    samples[i]!.push(time(all[i]![1], iters[i]!) / iters[i]! / 1e3);
  }
const med =
  process.env.STAT === "min"
    ? (xs: number[]) => Math.min(...xs)
    : (xs: number[]) => {
        const s = [...xs].sort((a, b) => a - b);
        return s[s.length >> 1]!;
      };
const out: Record<string, number> = {};
all.forEach(([side, w], i) => {
  out[`${side}:${w.id}`] = +med(samples[i]!).toFixed(3);
});
console.log(JSON.stringify(out));
if (!Number.isFinite(sink)) console.error("sink");

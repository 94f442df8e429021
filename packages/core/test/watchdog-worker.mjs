// The watchdog's worker thread (see watchdog.ts): loads TypeScript through tsx, then the runner.
import { workerData } from "node:worker_threads";
import { register } from "tsx/esm/api";

register();
const { serve } = await import(workerData.runner);
await serve(workerData.module, workerData.shared);

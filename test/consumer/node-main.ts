/** The plain-node entry: runs the smoke test and prints its result as one JSON line. */
import { smoke } from "./smoke.js";

console.log(JSON.stringify(await smoke()));

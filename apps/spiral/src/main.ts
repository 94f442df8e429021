#!/usr/bin/env node
/** `npm start`: the spiral job from the command line (see cli.ts). */
import { main } from "./cli.js";

// A closed pipe (`npm start | head -1`) silences the output but the job goes on and writes its
// files; any other error of the streams ends it with one line.
for (const stream of [process.stdout, process.stderr]) {
  stream.on("error", (e: NodeJS.ErrnoException) => {
    if (e.code === "EPIPE" || e.code === "ERR_STREAM_DESTROYED") return;
    const name = stream === process.stdout ? "stdout" : "stderr";
    process.stderr.write(`error: ${name}: ${e.message.split("\n")[0]}\n`);
    process.exit(1);
  });
}

process.exitCode = await main(process.argv.slice(2));

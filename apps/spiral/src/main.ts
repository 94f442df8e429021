#!/usr/bin/env node
/** `npm start`: the spiral job from the command line (see cli.ts). */
import { main } from "./cli.js";

process.exitCode = await main(process.argv.slice(2));

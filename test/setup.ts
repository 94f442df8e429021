/**
 * Vitest setup for the whole suite: memory the backward engine recycles is filled with NaN
 * (`setPoisonRecycled`), so that an op which declared `ownsGradients` but keeps a gradient it
 * received or returned reads NaN in any test, instead of silently reading reused memory.
 */
import { setPoisonRecycled } from "@gradgraph/core";

setPoisonRecycled(true);

/** Message formatting shared by the ops. */
import { describeValue } from "@gradgraph/core";

/**
 * The attributes as a string for messages (typed arrays as plain lists). Never throws: bigints,
 * symbols and functions are shown by kind, and a value JSON cannot print (a cycle) by
 * `describeValue`.
 */
export function fmtAttrs(attrs: unknown): string {
  try {
    const json = JSON.stringify(attrs, (_k, v: unknown) => {
      if (v instanceof Int32Array) return Array.from(v);
      if (typeof v === "bigint") return `${v}n`;
      if (typeof v === "symbol" || typeof v === "function") return describeValue(v);
      return v;
    });
    return json ?? describeValue(attrs);
  } catch {
    return describeValue(attrs);
  }
}

/** A value for messages: a number as itself (`0`, `NaN`), anything else by `describeValue` (never throws). */
export function fmtValue(v: unknown): string {
  return typeof v === "number" ? String(v) : describeValue(v);
}

/**
 * Graphviz DOT export of a graph snapshot, in the manner of torchviz's `make_dot`: op nodes as
 * grey boxes with their output shapes and dtype, parameters as blue boxes with their names, the
 * outputs as green ellipses, layers as clusters, and highlighted nodes in red.
 *
 * The text depends only on the snapshot's data (ids from graph order, arrays in order), so the same
 * program gives byte-identical DOT, usable as golden files. Every string is written as a quoted
 * DOT ID with `\` and `"` escaped and control characters shown as visible escapes (`\n`), so no
 * name can break the file or inject Graphviz escapes such as `\N`.
 */
import { ArgumentError, describeValue, isTensor, type Tensor } from "@gradgraph/core";
import { isArray } from "./checks.js";
import {
  checkSnapshot,
  type GraphSnapshot,
  isGraphSnapshot,
  type JsonValue,
  type NodeRef,
  resolveIn,
  type SnapshotLeafNode,
  type SnapshotNode,
  type SnapshotOpNode,
  type SnapshotOptions,
  type SnapshotOutputNode,
  takeSnapshot,
} from "./snapshot.js";

/** Graph direction: top to bottom (default), left to right, bottom to top, right to left. */
export type Rankdir = "TB" | "LR" | "BT" | "RL";

const RANKDIRS: readonly Rankdir[] = ["TB", "LR", "BT", "RL"];

/** Most entries `highlight` may list. */
const MAX_HIGHLIGHT = 1_000_000;

/** Options of `toDot`. */
export interface DotOptions extends SnapshotOptions {
  /** Graph direction (default `"TB"`, as torchviz). */
  rankdir?: Rankdir;
  /** Add to each op node what it saved for backward: name, shape, dtype (default false). */
  showSaved?: boolean;
  /** Add to each leaf its gradient's shape and L2 norm, or `grad: none` (default false). */
  showGrad?: boolean;
  /** Add to each op node a short summary of its attributes (default true). */
  showAttrs?: boolean;
  /**
   * Label edges with the consumer's input name (for ops of several inputs) and the producer's
   * output number (for ops of several outputs) (default true).
   */
  edgeLabels?: boolean;
  /** Give op nodes recorded under `withCreationSites` their creation site as tooltip (default true). */
  showSites?: boolean;
  /**
   * Nodes to draw red, bold and filled: one reference or several (see `NodeRef`: a snapshot node
   * id, a parameter name, a `Node`, a `Tensor`, a live node id, or gradcheck's `fault`). `null`
   * entries (a passing gradcheck's `fault`) are skipped.
   */
  highlight?: NodeRef | null | readonly (NodeRef | null | undefined)[];
  /** A title drawn above the graph. */
  title?: string;
}

/**
 * The Graphviz DOT text of a snapshot, or of the graph behind `outputs` (snapshotted with
 * `options.params` and `options.groups`).
 *
 * Node ids in the DOT are the snapshot's (`op0`, `leaf0`, `out0`), clusters are
 * `cluster_<k>` per group. The output ends with a newline.
 * @throws ArgumentError naming `toDot` for a source that is neither tensors nor a well-formed
 *   snapshot, `params`/`groups` given together with a snapshot, an unknown `rankdir`, a
 *   non-boolean flag, a non-string title, a `highlight` entry that names no node of the graph or
 *   a `highlight` list of more than 1,000,000 entries; and as `snapshot` for bad tensors, params
 *   or groups.
 */
export function toDot(source: GraphSnapshot | Tensor | readonly Tensor[], options: DotOptions = {}): string {
  const fn = "toDot";
  if (options === null || typeof options !== "object") {
    throw new ArgumentError(fn, `${fn}: options must be an object, got ${describeValue(options)}`);
  }
  let snap: GraphSnapshot;
  if (isGraphSnapshot(source)) {
    if (options.params !== undefined || options.groups !== undefined) {
      throw new ArgumentError(
        fn,
        `${fn}: options.params and options.groups apply only when toDot is given tensors; pass them to snapshot() instead`,
      );
    }
    snap = source;
  } else if (isTensor(source) || isArray(source)) {
    snap = takeSnapshot(fn, source as Tensor | readonly Tensor[], {
      ...(options.params !== undefined ? { params: options.params } : {}),
      ...(options.groups !== undefined ? { groups: options.groups } : {}),
    });
  } else {
    throw new ArgumentError(
      fn,
      `${fn}: source must be a GraphSnapshot, a Tensor or an array of tensors, got ${describeValue(source)}`,
    );
  }
  const byId = checkSnapshot(fn, snap);
  const rankdir = options.rankdir ?? "TB";
  if (!RANKDIRS.includes(rankdir)) {
    throw new ArgumentError(
      fn,
      `${fn}: options.rankdir must be one of ${RANKDIRS.map((r) => JSON.stringify(r)).join(", ")}, got ${describeValue(rankdir)}`,
    );
  }
  const flag = (key: "showSaved" | "showGrad" | "showAttrs" | "edgeLabels" | "showSites", dflt: boolean): boolean => {
    const v = options[key];
    if (v === undefined) return dflt;
    if (typeof v !== "boolean") {
      throw new ArgumentError(fn, `${fn}: options.${key} must be a boolean, got ${describeValue(v)}`);
    }
    return v;
  };
  const showSaved = flag("showSaved", false);
  const showGrad = flag("showGrad", false);
  const showAttrs = flag("showAttrs", true);
  const edgeLabels = flag("edgeLabels", true);
  const showSites = flag("showSites", true);
  if (options.title !== undefined && typeof options.title !== "string") {
    throw new ArgumentError(fn, `${fn}: options.title must be a string, got ${describeValue(options.title)}`);
  }

  const highlighted = new Set<string>();
  const hl = options.highlight;
  if (hl !== undefined && hl !== null) {
    const refs: readonly (NodeRef | null | undefined)[] = isArray(hl) ? hl : [hl as NodeRef];
    // null and undefined entries (and holes) are skipped, so a huge sparse array would take minutes
    if (refs.length > MAX_HIGHLIGHT) {
      throw new ArgumentError(
        fn,
        `${fn}: options.highlight has ${refs.length} entries, more than the ${MAX_HIGHLIGHT} supported`,
      );
    }
    for (let i = 0; i < refs.length; i++) {
      const r = refs[i];
      if (r !== null && r !== undefined) highlighted.add(resolveIn(fn, snap, byId, r));
    }
  }

  const lines: string[] = [];
  lines.push("digraph gradgraph {");
  const graphAttrs = [`rankdir=${rankdir}`, 'fontname="Helvetica"', "fontsize=12"];
  if (options.title !== undefined) graphAttrs.push(`label=${quoted([options.title])}`, 'labelloc="t"');
  lines.push(`  graph [${graphAttrs.join(", ")}];`);
  lines.push('  node [fontname="Helvetica", fontsize=10, shape=box, style="filled", fillcolor="lightgrey"];');
  lines.push('  edge [fontname="Helvetica", fontsize=8, arrowsize=0.7];');

  const multiInput = new Set<string>();
  const multiOutput = new Set<string>();
  for (const n of snap.nodes) {
    if (n.kind !== "op") continue;
    if (n.inputs.length > 1) multiInput.add(n.id);
    if (n.outShapes.length > 1) multiOutput.add(n.id);
  }

  const nodeLine = (n: SnapshotNode, indent: string): string => {
    const attrs: string[] = [];
    let label: string[];
    let fill: string | null = null;
    const style = ["filled"];
    if (n.kind === "op") {
      label = opLabel(n, showAttrs, showSaved);
      if (n.released) style.push("dashed");
      if (showSites && n.site !== null) attrs.push(`tooltip=${quoted([n.site])}`);
    } else if (n.kind === "leaf") {
      label = leafLabel(n, showGrad);
      fill = n.name !== null ? "lightblue" : "white";
    } else {
      label = outputLabel(n, snap.outputs.length);
      attrs.push("shape=ellipse");
      fill = "darkolivegreen1";
    }
    if (highlighted.has(n.id)) {
      style.push("bold");
      fill = "mistyrose";
      attrs.push('color="red"', 'fontcolor="red"', "penwidth=3");
    }
    if (fill !== null) attrs.push(`fillcolor="${fill}"`);
    if (style.length > 1) attrs.push(`style="${style.join(",")}"`);
    return `${indent}${quoted([n.id])} [${[`label=${quoted(label)}`, ...attrs].join(", ")}];`;
  };

  // clusters, then the nodes outside every cluster, each in snapshot order
  const members = new Map<string, SnapshotNode[]>();
  for (const g of snap.groups) members.set(g.id, []);
  const loose: SnapshotNode[] = [];
  for (const n of snap.nodes) {
    if (n.group === null) loose.push(n);
    else members.get(n.group)!.push(n);
  }
  snap.groups.forEach((g, k) => {
    const ms = members.get(g.id)!;
    if (ms.length === 0) return;
    lines.push(`  subgraph ${quoted([`cluster_${k}`])} {`);
    lines.push(`    label=${quoted([g.name])};`);
    lines.push('    style="rounded,dashed"; color="gray40"; fontcolor="gray25";');
    for (const n of ms) lines.push(nodeLine(n, "    "));
    lines.push("  }");
  });
  for (const n of loose) lines.push(nodeLine(n, "  "));

  for (const e of snap.edges) {
    const attrs: string[] = [];
    if (edgeLabels) {
      const parts: string[] = [];
      if (multiOutput.has(e.from)) parts.push(`out ${e.fromSlot}`);
      if (multiInput.has(e.to)) parts.push(e.inputName);
      if (parts.length > 0) attrs.push(`label=${quoted([parts.join(" → ")])}`);
    }
    if (byId.get(e.to)?.kind === "output") attrs.push('style="dashed"');
    if (highlighted.has(e.from) && highlighted.has(e.to)) attrs.push('color="red"', "penwidth=2");
    lines.push(`  ${quoted([e.from])} -> ${quoted([e.to])}${attrs.length > 0 ? ` [${attrs.join(", ")}]` : ""};`);
  }
  lines.push("}");
  return `${lines.join("\n")}\n`;
}

// ---------------------------------------------------------------------------------------------
// Labels

function fmtShape(shape: readonly number[]): string {
  return `[${shape.join(", ")}]`;
}

/** A number in at most 4 significant digits, the same text on every run. */
function fmtNumber(x: number): string {
  return Number.isFinite(x) ? String(Number(x.toPrecision(4))) : String(x);
}

const MAX_ATTR_TEXT = 60;
const MAX_OUT_SHAPES = 4;

function opLabel(n: SnapshotOpNode, showAttrs: boolean, showSaved: boolean): string[] {
  const label = [n.op];
  if (showAttrs) {
    const a = attrText(n.attrs);
    if (a !== "") label.push(a.length > MAX_ATTR_TEXT ? `${a.slice(0, MAX_ATTR_TEXT - 1)}…` : a);
  }
  const shapes = n.outShapes.slice(0, MAX_OUT_SHAPES).map(fmtShape);
  if (n.outShapes.length > MAX_OUT_SHAPES) shapes.push(`… ${n.outShapes.length - MAX_OUT_SHAPES} more`);
  label.push(`${shapes.join(" | ")} ${n.dtype}`);
  if (showSaved) {
    if (n.released) label.push("saved: released");
    else if (n.saved.length === 0) label.push("saved: nothing");
    else for (const s of n.saved) label.push(`saved ${s.name}: ${fmtShape(s.shape)} ${s.dtype}`);
  }
  return label;
}

function leafLabel(n: SnapshotLeafNode, showGrad: boolean): string[] {
  const name = n.name === "" ? '""' : n.name; // an empty parameter name, shown as such
  const label = [name ?? (n.requiresGrad ? "leaf" : "constant"), `${fmtShape(n.shape)} ${n.dtype}`];
  if (showGrad) {
    label.push(n.grad === null ? "grad: none" : `grad ${fmtShape(n.grad.shape)}, norm ${fmtNumber(n.grad.norm)}`);
  }
  return label;
}

function outputLabel(n: SnapshotOutputNode, count: number): string[] {
  return [count > 1 ? `output ${n.order}` : "output", `${fmtShape(n.shape)} ${n.dtype}`];
}

/** `axes=[0], keepdims=true` for an attribute object; the value itself otherwise; "" for none. */
function attrText(a: JsonValue): string {
  if (a === null) return "";
  if (typeof a === "object" && !isArray(a)) {
    return Object.entries(a as { readonly [key: string]: JsonValue })
      .map(([k, v]) => `${k}=${valueText(v)}`)
      .join(", ");
  }
  return valueText(a);
}

function valueText(v: JsonValue): string {
  if (v === null) return "null";
  if (typeof v === "string") return v;
  if (typeof v !== "object") return String(v);
  if (isArray(v)) return `[${(v as readonly JsonValue[]).map(valueText).join(", ")}]`;
  return `{${Object.entries(v as { readonly [key: string]: JsonValue })
    .map(([k, x]) => `${k}: ${valueText(x)}`)
    .join(", ")}}`;
}

// ---------------------------------------------------------------------------------------------
// Escaping

/** Lone UTF-16 surrogates, which have no UTF-8 encoding. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it finds
const CONTROL = /[\u0000-\u001f\u007f]/g;

const VISIBLE: Readonly<Record<string, string>> = { "\n": "\\n", "\r": "\\r", "\t": "\\t" };

/**
 * A quoted DOT string whose lines Graphviz shows as given: control characters become visible
 * escapes (a newline in a name shows as `\n`), `\` and `"` are escaped, and the lines are joined
 * by Graphviz's centred line break. An empty first line of several becomes a space: a label that
 * starts with a line break makes the WebAssembly Graphviz of `@viz-js/viz` trap now and then
 * ("table index is out of bounds", viz-js issue 204).
 */
function quoted(lines: readonly string[]): string {
  const safe = lines.length > 1 && lines[0] === "" ? [" ", ...lines.slice(1)] : lines;
  const body = safe
    .map((line) =>
      line
        .replace(LONE_SURROGATE, "\uFFFD")
        .replace(CONTROL, (c) => VISIBLE[c] ?? `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`)
        .replace(/\\/g, "\\\\")
        .replace(/"/g, '\\"'),
    )
    .join("\\n");
  return `"${body}"`;
}

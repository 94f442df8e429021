/**
 * gradgraph's own error classes. Every error thrown by the library on bad input is one of these,
 * and its message names the op or function, the offending argument, and the shapes or values.
 */

/** Base class of every error gradgraph throws on purpose. */
export class GradgraphError extends Error {
  /** The op or public function that raised the error, e.g. `'matmul'` or `'tensor'`. */
  readonly op: string;
  /**
   * Creates an error raised by `op`. `name` is set to the concrete class's name (`ShapeError`,
   * `ArgumentError`, ...), so it shows in stack traces and `String(error)`.
   * @param op - the op or function name the message is about (anything else is described with
   *   `describeValue`, never thrown on).
   * @param message - the full message; it should already name `op` (a non-string is described).
   * @param options - standard `ErrorOptions` (for a `cause`).
   */
  constructor(op: string, message: string, options?: ErrorOptions) {
    // an error must be constructible from anything: a Symbol or an object would make `Error` throw
    super(typeof message === "string" ? message : describeValue(message), errorOptions(options));
    this.name = new.target.name;
    this.op = typeof op === "string" ? op : describeValue(op);
  }
}

/** `options` when Error's constructor can read it: an object that is not a revoked Proxy. */
function errorOptions(options: unknown): ErrorOptions | undefined {
  if (options === null || typeof options !== "object") return undefined;
  try {
    Array.isArray(options);
  } catch {
    return undefined;
  }
  return options as ErrorOptions;
}

/** Incompatible or invalid shapes: rank, broadcasting, inner dimensions, negative sizes. */
export class ShapeError extends GradgraphError {}

/** An unsupported or mismatched dtype. */
export class DTypeError extends GradgraphError {}

/**
 * Misuse of the recorded graph: backward through a released graph, a non-scalar backward without
 * `gradOutput`, a gradient of the wrong shape returned by an op's backward, an unreachable input.
 */
export class GraphError extends GradgraphError {}

/**
 * An argument of the wrong kind or value that is not a shape or dtype problem: a non-integer axis,
 * an out-of-range count, a string where a tensor was expected.
 */
export class ArgumentError extends GradgraphError {}

/** A failed gradient check (thrown by `assertGradcheck` and `checkOp`). */
export class GradcheckError extends GradgraphError {}

/** How many dimensions `fmtShape` shows before it summarises the rest (the maximum rank). */
const SHOWN_DIMS = 64;

/**
 * Formats a shape as `[2, 3]` for error messages. Never throws: a non-array is described with
 * `describeValue`, an entry that is not a number likewise, and beyond 64 entries the rest is
 * counted (`[1, 1, … 4294967231 more]`), so a junk or huge "shape" in a message is harmless.
 */
export function fmtShape(shape: readonly number[]): string {
  try {
    if (!Array.isArray(shape)) return describeValue(shape);
    const n = shape.length;
    const parts: string[] = [];
    for (let i = 0; i < n && i < SHOWN_DIMS; i++) {
      const d: unknown = shape[i];
      parts.push(typeof d === "number" ? String(d) : describeValue(d));
    }
    if (n > SHOWN_DIMS) parts.push(`… ${n - SHOWN_DIMS} more`);
    return `[${parts.join(", ")}]`;
  } catch {
    return describeValue(shape);
  }
}

/** Longest text `describeValue` quotes from a string, a Symbol's description or a BigInt. */
const QUOTED = 40;

const clip = (s: string): string => (s.length > QUOTED ? `${s.slice(0, QUOTED)}…` : s);

/**
 * Describes any JavaScript value briefly for error messages (`string "abc"`, `array(3)`,
 * `Float32Array(4)`, `symbol Symbol(x)`, `bigint 3n`, ...). Never throws, whatever it is given:
 * Symbols, BigInts, Proxies (revoked ones, or whose traps throw), objects whose getters throw,
 * cyclic or huge arrays; it reads at most a length and a constructor's name.
 */
export function describeValue(value: unknown): string {
  try {
    return describeUnchecked(value);
  } catch {
    return typeof value;
  }
}

function describeUnchecked(value: unknown): string {
  if (value === null) return "null";
  switch (typeof value) {
    case "number":
      return `number ${Object.is(value, -0) ? "-0" : value}`;
    case "string":
      return `string ${JSON.stringify(clip(value))}`;
    case "bigint":
      return `bigint ${clip(String(value))}n`;
    case "symbol":
      return `symbol ${clip(String(value))}`;
    case "function":
      return "function";
    case "object": {
      let isArray: boolean;
      try {
        isArray = Array.isArray(value);
      } catch {
        // Array.isArray throws only for a revoked Proxy
        return "revoked Proxy";
      }
      if (isArray) return `array(${(value as unknown[]).length})`;
      if (ArrayBuffer.isView(value) && !(value instanceof DataView)) {
        const ta = value as unknown as { length: number; byteLength: number; buffer: ArrayBufferLike };
        const name = Object.prototype.toString.call(value).slice(8, -1);
        return isDetached(ta) ? `${name} over a detached ArrayBuffer` : `${name}(${ta.length})`;
      }
      const ctor = (value as { constructor?: { name?: unknown } }).constructor;
      const name = typeof ctor?.name === "string" ? clip(ctor.name) : "object";
      return name === "Object" || name === "" ? "object" : name;
    }
    default:
      return typeof value;
  }
}

/**
 * @internal True when a typed array's buffer was detached (transferred to a worker, say): its length and
 * byte length read 0 and every read or `set` on it throws. An array of length 0 over a live
 * buffer is not detached.
 */
export function isDetached(a: { readonly byteLength: number; readonly buffer: ArrayBufferLike }): boolean {
  if (a.byteLength !== 0) return false;
  try {
    // a view of zero bytes over a detached buffer cannot be made
    new Uint8Array(a.buffer, 0, 0);
    return false;
  } catch {
    return true;
  }
}

/**
 * A NaN or infinity found by anomaly mode (`detectAnomaly`): names the op, whether the bad value
 * appeared in its forward output or in a gradient its backward returned, and where. The op's
 * creation stack is carried inside the error, as `site` and as the stack of `cause`, and `nodeId`
 * identifies the node, so the error can be handed to viz's `toDot(..., { highlight })`.
 */
export class AnomalyError extends GradgraphError {
  /** Whether the value appeared in the op's forward output or in a gradient from its backward. */
  readonly phase: "forward" | "backward";
  /** The recorded node's id (creation order), or null when no node was recorded. */
  readonly nodeId: number | null;
  /** The stack trace of the user code that created the op. */
  readonly site: string | null;
  /** Flat (row-major) index of the first bad element in the output or gradient. */
  readonly index: number;
  /** The bad value itself: `NaN`, `Infinity` or `-Infinity`. */
  readonly value: number;

  /** @internal */
  constructor(
    op: string,
    message: string,
    details: {
      phase: "forward" | "backward";
      nodeId: number | null;
      site: string | null;
      index: number;
      value: number;
    },
  ) {
    // made by the engine; from anywhere else, whatever it is given becomes a well-formed error
    const name = typeof op === "string" ? op : describeValue(op);
    const d: Partial<Record<keyof typeof details, unknown>> = errorOptions(details) !== undefined ? details : {};
    const site = typeof d.site === "string" ? d.site : null;
    const cause = new Error(`${name} was created here`);
    if (site !== null) cause.stack = site.replace(/^Error\b[^\n]*/, `${name} was created here`);
    super(name, message, { cause });
    this.phase = d.phase === "backward" ? "backward" : "forward";
    this.nodeId = typeof d.nodeId === "number" ? d.nodeId : null;
    this.site = site;
    this.index = typeof d.index === "number" ? d.index : -1;
    this.value = typeof d.value === "number" ? d.value : Number.NaN;
  }
}

/**
 * @internal The options argument as an object: `{}` for undefined or null. With `known`, every
 * own enumerable key must be one of them: a misspelt option (`create_graph`, `requires_grad`)
 * would otherwise be ignored silently, as PyTorch refuses an unexpected keyword argument.
 * @throws ArgumentError naming `fn` for anything that is not an object, an unknown key (named, with
 *   the valid ones), or an object whose keys cannot be listed (a Proxy whose ownKeys trap throws).
 */
export function optionsObject<O extends object>(
  fn: string,
  options: O | null | undefined,
  known?: readonly string[],
): O {
  if (options === undefined || options === null) return {} as O;
  let array = true;
  try {
    array = Array.isArray(options);
  } catch {
    // a revoked Proxy: not an options object either
  }
  if (typeof options !== "object" || array) {
    throw new ArgumentError(fn, `${fn}: options must be an object, got ${describeValue(options)}`);
  }
  if (known !== undefined) checkOptionKeys(fn, options, known);
  return options;
}

/**
 * @internal Checks that every own enumerable key of the options object `options` is in `known`.
 * @throws ArgumentError naming `fn` and the first unknown key (with the valid ones), or when the
 *   keys cannot be listed (a Proxy whose ownKeys trap throws).
 */
export function checkOptionKeys(fn: string, options: object, known: readonly string[]): void {
  let keys: string[];
  try {
    keys = Object.keys(options);
  } catch {
    throw new ArgumentError(fn, `${fn}: options must be an object whose keys can be read`);
  }
  for (const key of keys) {
    if (!known.includes(key)) {
      const shown = key.length > 40 ? `${key.slice(0, 40)}…` : key;
      throw new ArgumentError(
        fn,
        `${fn}: unknown option ${JSON.stringify(shown)} (valid options: ${known.join(", ")})`,
      );
    }
  }
}

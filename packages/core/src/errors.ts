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
   * @param op - the op or function name the message is about.
   * @param message - the full message; it should already name `op`.
   * @param options - standard `ErrorOptions` (for a `cause`).
   */
  constructor(op: string, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
    this.op = op;
  }
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

/** Formats a shape as `[2, 3]` for error messages. */
export function fmtShape(shape: readonly number[]): string {
  return `[${shape.join(", ")}]`;
}

/** Describes any JavaScript value briefly for error messages (`string "abc"`, `array(3)`, ...). */
export function describeValue(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return `array(${value.length})`;
  switch (typeof value) {
    case "number":
      return `number ${value}`;
    case "bigint":
      return `bigint ${value.toString().length > 40 ? `${value.toString().slice(0, 40)}…` : value}n`;
    case "string":
      return `string ${JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value)}`;
    case "object": {
      const ctor = (value as { constructor?: { name?: unknown } }).constructor;
      const name = typeof ctor?.name === "string" ? ctor.name : "object";
      return name === "Object" ? "object" : name;
    }
    default:
      return typeof value;
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
    const cause = new Error(`${op} was created here`);
    if (details.site !== null) cause.stack = details.site.replace(/^Error\b[^\n]*/, `${op} was created here`);
    super(op, message, { cause });
    this.phase = details.phase;
    this.nodeId = details.nodeId;
    this.site = details.site;
    this.index = details.index;
    this.value = details.value;
  }
}

/**
 * @internal The options argument as an object: `{}` for undefined or null.
 * @throws ArgumentError naming `fn` for anything that is not an object.
 */
export function optionsObject<O extends object>(fn: string, options: O | null | undefined): O {
  if (options === undefined || options === null) return {} as O;
  if (typeof options !== "object" || Array.isArray(options)) {
    throw new ArgumentError(fn, `${fn}: options must be an object, got ${describeValue(options)}`);
  }
  return options;
}

/**
 * gradgraph's own error classes. Every error thrown by the library on bad input is one of these,
 * and its message names the op or function, the offending argument, and the shapes or values.
 */

/** Base class of every error gradgraph throws on purpose. */
export class GradgraphError extends Error {
  /** The op or public function that raised the error, e.g. `'matmul'` or `'tensor'`. */
  readonly op: string;
  /**
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

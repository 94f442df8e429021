/**
 * The types of an op's ONNX mapping (`OpSpec.onnx`): what an exporter such as `@gradgraph/onnx`
 * hands the mapping function, and what it returns. Types only: core builds no ONNX itself.
 */
import type { DType } from "./dtype.js";
import type { Shape } from "./shape.js";

/** A value of the ONNX graph being built, as an op's mapping sees its inputs. */
export interface OnnxValue {
  /** The value's name in the ONNX graph: what {@link OnnxGraphBuilder.node} takes as an input. */
  readonly name: string;
  /** Its shape as recorded. */
  readonly shape: Shape;
  /**
   * Its shape in the exported graph: per dimension the recorded size, or the name of a symbolic
   * axis (the exporter's `dynamicAxes`, e.g. `"batch"`), whose size is known only when it runs.
   */
  readonly dims: readonly (number | string)[];
  /** Its dtype. */
  readonly dtype: DType;
}

/**
 * An ONNX node attribute: a number is an `INT`, a string a `STRING`, an array of numbers `INTS`;
 * `{ float }` and `{ floats }` are `FLOAT` and `FLOATS`.
 */
export type OnnxAttribute =
  | number
  | string
  | readonly number[]
  | {
      /** A `FLOAT` attribute's value. */
      readonly float: number;
    }
  | {
      /** A `FLOATS` attribute's values. */
      readonly floats: readonly number[];
    };

/** What a mapping adds nodes and constants to. */
export interface OnnxGraphBuilder {
  /** The opset version of the default ONNX domain being exported (13 or more). */
  readonly opset: number;
  /**
   * Adds a node of the default ONNX domain and returns the names of its outputs (new names).
   * @param opType - the operator, e.g. `"Add"`.
   * @param inputs - value names (`OnnxValue.name`, or what `node` or `constant` returned); `""`
   *   skips an optional input.
   * @param attributes - the node's attributes by name.
   * @param outputs - how many outputs the node has (default 1).
   */
  node(
    opType: string,
    inputs: readonly string[],
    attributes?: Readonly<Record<string, OnnxAttribute>>,
    outputs?: number,
  ): string[];
  /**
   * Adds a constant (an initializer) and returns its name.
   * @param values - the elements, row-major.
   * @param dtype - `"int64"` for shapes, axes and indices, or a gradgraph dtype (`"bool"`: 0 or 1).
   * @param shape - its shape (default: 1-D, `[values.length]`).
   */
  constant(values: ArrayLike<number>, dtype: DType | "int64", shape?: readonly number[]): string;
}

/**
 * How an op exports to ONNX: given its inputs as values of the graph being built, its attributes
 * and a builder, it adds standard ONNX nodes computing the op's forward and returns the names of
 * its outputs (one name, or one per output for a multi-output op), with the recorded shapes and
 * dtypes.
 */
export type OnnxMapping<A = unknown> = (
  inputs: readonly OnnxValue[],
  attrs: A,
  builder: OnnxGraphBuilder,
) => string | readonly string[];

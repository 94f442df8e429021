/**
 * The ONNX protobuf messages, through `onnx-buf` (ONNX's onnx.proto compiled for
 * `@bufbuild/protobuf`): building tensors, value infos, attributes and models, and reading them
 * back. No wire format is written by hand: `toBinary`/`fromBinary` encode and decode.
 */
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import type { DType, OnnxAttribute } from "@gradgraph/core";
import {
  type AttributeProto,
  AttributeProto_AttributeType,
  AttributeProtoSchema,
  type GraphProto,
  GraphProtoSchema,
  type ModelProto,
  ModelProtoSchema,
  type NodeProto,
  NodeProtoSchema,
  OperatorSetIdProtoSchema,
  StringStringEntryProtoSchema,
  type TensorProto,
  TensorProto_DataType,
  TensorProtoSchema,
  TensorShapeProto_DimensionSchema,
  TensorShapeProtoSchema,
  TypeProto_TensorSchema,
  TypeProtoSchema,
  type ValueInfoProto,
  ValueInfoProtoSchema,
} from "onnx-buf";

export type { AttributeProto, GraphProto, ModelProto, NodeProto, TensorProto, ValueInfoProto };
export { AttributeProto_AttributeType, TensorProto_DataType };

/**
 * The element types gradgraph exchanges with ONNX: its dtypes (FLOAT, DOUBLE, INT32, BOOL), and
 * int64 for shapes and indices.
 */
export type ElemType = DType | "int64";

/** The ONNX `TensorProto.DataType` of an element type. */
export function dataTypeOf(t: ElemType): TensorProto_DataType {
  switch (t) {
    case "float32":
      return TensorProto_DataType.FLOAT;
    case "float64":
      return TensorProto_DataType.DOUBLE;
    case "int32":
      return TensorProto_DataType.INT32;
    case "bool":
      return TensorProto_DataType.BOOL;
    default:
      return TensorProto_DataType.INT64;
  }
}

/** The element type of an ONNX data type gradgraph exchanges (see {@link ElemType}), else null. */
export function elemTypeOf(t: number): ElemType | null {
  switch (t) {
    case TensorProto_DataType.FLOAT:
      return "float32";
    case TensorProto_DataType.DOUBLE:
      return "float64";
    case TensorProto_DataType.INT32:
      return "int32";
    case TensorProto_DataType.BOOL:
      return "bool";
    case TensorProto_DataType.INT64:
      return "int64";
    default:
      return null;
  }
}

/** The name ONNX gives a data type, for messages (`FLOAT16`, `INT32`, ...). */
export function dataTypeName(t: number): string {
  return TensorProto_DataType[t] ?? `data type ${t}`;
}

/** A tensor initializer of `values` (row-major) stored as little-endian `raw_data`. */
export function tensorProto(
  name: string,
  values: ArrayLike<number>,
  type: ElemType,
  shape: readonly number[],
): TensorProto {
  let bytes: Uint8Array<ArrayBuffer>;
  if (type === "int64") {
    const a = new BigInt64Array(values.length);
    for (let i = 0; i < values.length; i++) a[i] = BigInt(values[i]!);
    bytes = new Uint8Array(a.buffer);
  } else if (type === "bool") {
    // one byte per element, 0 or 1
    bytes = Uint8Array.from(values, (v) => (v !== 0 ? 1 : 0));
  } else {
    const a =
      type === "float32"
        ? Float32Array.from(values)
        : type === "int32"
          ? Int32Array.from(values)
          : Float64Array.from(values);
    bytes = new Uint8Array(a.buffer);
  }
  const width = type === "bool" ? 1 : type === "float32" || type === "int32" ? 4 : 8;
  if (!littleEndian() && width > 1) bytes = swapBytes(bytes, width);
  return create(TensorProtoSchema, {
    name,
    dims: shape.map((d) => BigInt(d)),
    dataType: dataTypeOf(type),
    rawData: bytes,
  });
}

let endian: boolean | null = null;
function littleEndian(): boolean {
  if (endian === null) endian = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
  return endian;
}

function swapBytes(bytes: Uint8Array<ArrayBuffer>, width: number): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(bytes.length);
  for (let i = 0; i < bytes.length; i += width) for (let j = 0; j < width; j++) out[i + j] = bytes[i + width - 1 - j]!;
  return out;
}

/** The elements of a tensor proto as numbers, with its shape and data type (null for types gradgraph cannot hold). */
export interface DecodedTensor {
  readonly shape: number[];
  readonly dataType: number;
  /** Float elements (FLOAT, DOUBLE, FLOAT16 widened), or integers (INT64, INT32, ...) as numbers. */
  readonly values: Float32Array | Float64Array | number[];
}

/**
 * Reads a tensor proto's elements from `raw_data` or the typed fields.
 * @returns null for a data type it does not read (strings, complex, 8-bit floats, ...) or external data.
 */
export function decodeTensor(t: TensorProto): DecodedTensor | null {
  const shape = t.dims.map((d) => Number(d));
  const n = shape.reduce((a, b) => a * b, 1);
  const type = t.dataType;
  const raw = t.rawData;
  if (t.externalData.length > 0) return null;
  const view = raw.length > 0 ? new DataView(raw.buffer, raw.byteOffset, raw.byteLength) : null;
  const need = (width: number) => view === null || raw.length === n * width;
  switch (type) {
    case TensorProto_DataType.FLOAT: {
      if (!need(4)) return null;
      const v = new Float32Array(n);
      if (view) for (let i = 0; i < n; i++) v[i] = view.getFloat32(4 * i, true);
      else v.set(t.floatData.slice(0, n));
      return { shape, dataType: type, values: v };
    }
    case TensorProto_DataType.DOUBLE: {
      if (!need(8)) return null;
      const v = new Float64Array(n);
      if (view) for (let i = 0; i < n; i++) v[i] = view.getFloat64(8 * i, true);
      else v.set(t.doubleData.slice(0, n));
      return { shape, dataType: type, values: v };
    }
    case TensorProto_DataType.INT64: {
      if (!need(8)) return null;
      const v: number[] = new Array(n);
      if (view) for (let i = 0; i < n; i++) v[i] = Number(view.getBigInt64(8 * i, true));
      else for (let i = 0; i < n; i++) v[i] = Number(t.int64Data[i] ?? 0n);
      return { shape, dataType: type, values: v };
    }
    case TensorProto_DataType.INT32:
    case TensorProto_DataType.INT16:
    case TensorProto_DataType.INT8:
    case TensorProto_DataType.UINT8:
    case TensorProto_DataType.UINT16:
    case TensorProto_DataType.BOOL: {
      const width = { 6: 4, 5: 2, 3: 1, 2: 1, 4: 2, 9: 1 }[type as 6 | 5 | 3 | 2 | 4 | 9];
      if (!need(width)) return null;
      const v: number[] = new Array(n);
      for (let i = 0; i < n; i++) {
        if (!view) v[i] = t.int32Data[i] ?? 0;
        else if (width === 4) v[i] = view.getInt32(4 * i, true);
        else if (width === 2)
          v[i] = type === TensorProto_DataType.INT16 ? view.getInt16(2 * i, true) : view.getUint16(2 * i, true);
        else v[i] = type === TensorProto_DataType.INT8 ? view.getInt8(i) : view.getUint8(i);
      }
      return { shape, dataType: type, values: v };
    }
    default:
      return null;
  }
}

/** A tensor value info: its name, element type and dims (a number, or a symbolic axis name). */
export function valueInfo(name: string, type: ElemType, dims: readonly (number | string)[]): ValueInfoProto {
  return create(ValueInfoProtoSchema, {
    name,
    type: create(TypeProtoSchema, {
      value: {
        case: "tensorType",
        value: create(TypeProto_TensorSchema, {
          elemType: dataTypeOf(type),
          shape: create(TensorShapeProtoSchema, {
            dim: dims.map((d) =>
              create(TensorShapeProto_DimensionSchema, {
                value: typeof d === "number" ? { case: "dimValue", value: BigInt(d) } : { case: "dimParam", value: d },
              }),
            ),
          }),
        }),
      },
    }),
  });
}

/** The element type and dims of a tensor value info (dims null where the shape is unknown). */
export function readValueInfo(v: ValueInfoProto): { elemType: number; dims: (number | string | null)[] | null } | null {
  const t = v.type?.value;
  if (t?.case !== "tensorType") return null;
  const shape = t.value.shape;
  return {
    elemType: t.value.elemType,
    dims:
      shape === undefined
        ? null
        : shape.dim.map((d) =>
            d.value.case === "dimValue" ? Number(d.value.value) : d.value.case === "dimParam" ? d.value.value : null,
          ),
  };
}

/** A node attribute from its gradgraph form (see `OnnxAttribute`). */
export function attributeProto(name: string, value: OnnxAttribute | { readonly tensor: TensorProto }): AttributeProto {
  if (typeof value === "number") {
    return create(AttributeProtoSchema, { name, type: AttributeProto_AttributeType.INT, i: BigInt(value) });
  }
  if (typeof value === "string") {
    return create(AttributeProtoSchema, {
      name,
      type: AttributeProto_AttributeType.STRING,
      s: new TextEncoder().encode(value),
    });
  }
  if (Array.isArray(value)) {
    return create(AttributeProtoSchema, {
      name,
      type: AttributeProto_AttributeType.INTS,
      ints: (value as readonly number[]).map((v) => BigInt(v)),
    });
  }
  if ("float" in value)
    return create(AttributeProtoSchema, { name, type: AttributeProto_AttributeType.FLOAT, f: value.float });
  if ("floats" in value) {
    return create(AttributeProtoSchema, { name, type: AttributeProto_AttributeType.FLOATS, floats: [...value.floats] });
  }
  return create(AttributeProtoSchema, {
    name,
    type: AttributeProto_AttributeType.TENSOR,
    t: (value as { readonly tensor: TensorProto }).tensor,
  });
}

/** A node of the default domain. */
export function nodeProto(
  name: string,
  opType: string,
  inputs: readonly string[],
  outputs: readonly string[],
  attributes: readonly AttributeProto[],
): NodeProto {
  return create(NodeProtoSchema, {
    name,
    opType,
    input: [...inputs],
    output: [...outputs],
    attribute: [...attributes],
  });
}

/** The parts of a model. */
export interface ModelParts {
  readonly graphName: string;
  readonly opset: number;
  readonly producerVersion: string;
  readonly nodes: readonly NodeProto[];
  readonly initializers: readonly TensorProto[];
  readonly inputs: readonly ValueInfoProto[];
  readonly outputs: readonly ValueInfoProto[];
  readonly metadata?: Readonly<Record<string, string>>;
}

/**
 * The IR version written for an opset: the one of the ONNX release that introduced it (8 up to
 * opset 18, 9 for 19 and 20, 10 for 21), so that ONNX's checker and older runtimes accept it.
 */
export function irVersionFor(opset: number): number {
  return opset <= 18 ? 8 : opset <= 20 ? 9 : 10;
}

/** Encodes a model. */
export function encodeModel(p: ModelParts): Uint8Array {
  const graph = create(GraphProtoSchema, {
    name: p.graphName,
    node: [...p.nodes],
    initializer: [...p.initializers],
    input: [...p.inputs],
    output: [...p.outputs],
  });
  const model: ModelProto = create(ModelProtoSchema, {
    irVersion: BigInt(irVersionFor(p.opset)),
    producerName: "gradgraph",
    producerVersion: p.producerVersion,
    opsetImport: [create(OperatorSetIdProtoSchema, { domain: "", version: BigInt(p.opset) })],
    graph,
    metadataProps: Object.entries(p.metadata ?? {}).map(([key, value]) =>
      create(StringStringEntryProtoSchema, { key, value }),
    ),
  });
  return toBinary(ModelProtoSchema, model);
}

/** Decodes a model (throws what `fromBinary` throws for bytes that are not one). */
export function decodeModel(bytes: Uint8Array): ModelProto {
  return fromBinary(ModelProtoSchema, bytes);
}

/** An attribute's value as gradgraph reads it. */
export function attributeValue(a: AttributeProto): number | string | number[] | string[] | TensorProto | null {
  switch (a.type) {
    case AttributeProto_AttributeType.INT:
      return Number(a.i);
    case AttributeProto_AttributeType.FLOAT:
      return a.f;
    case AttributeProto_AttributeType.STRING:
      return new TextDecoder().decode(a.s);
    case AttributeProto_AttributeType.INTS:
      return a.ints.map((v) => Number(v));
    case AttributeProto_AttributeType.FLOATS:
      return [...a.floats];
    case AttributeProto_AttributeType.STRINGS:
      return a.strings.map((s) => new TextDecoder().decode(s));
    case AttributeProto_AttributeType.TENSOR:
      return a.t ?? null;
    default:
      return null;
  }
}

/**
 * @gradgraph/onnx: ONNX export and import. `toOnnx` turns a recorded graph (and `exportModel` an
 * nn model's `predict`) into an ONNX model that ONNX Runtime runs; `fromOnnx` loads an ONNX model
 * as a gradgraph graph whose initializers are trainable parameters.
 *
 * @module @gradgraph/onnx
 */
export { DEFAULT_OPSET, type Dim, MAX_OPSET, MIN_OPSET, OnnxError } from "./builder.js";
export {
  type DynamicAxes,
  type ExportableModel,
  type ExportModelOptions,
  exportModel,
  type OnnxOutputs,
  saveOnnx,
  type ToOnnxOptions,
  toOnnx,
} from "./export.js";
export { fromOnnx, IMPORTED_OPERATORS, type OnnxInput, type OnnxInputInfo, type OnnxModel } from "./import.js";

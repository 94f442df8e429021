/** Checkpoints in the safetensors format: in-memory encode/decode and atomic save/load on disk. */
export { loadParams, loadParamsInto, saveParams, writeFileAtomic } from "./checkpoint.js";
export { fromBfloat16Bits, fromFloat16Bits, toBfloat16Bits, toFloat16Bits } from "./float16.js";
export {
  CheckpointError,
  DEFAULT_MAX_HEADER_BYTES,
  type DecodeSafetensorsOptions,
  decodeSafetensors,
  type EncodeSafetensorsOptions,
  encodeSafetensors,
  type NamedTensors,
  parseSafetensors,
  type SafetensorsContents,
  type SafetensorsDType,
} from "./safetensors.js";

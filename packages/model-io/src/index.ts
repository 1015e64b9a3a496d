export { preprocessConfigFromHuggingFace, preprocessConfigFromOpenClip } from './clip-preprocess-config';
export {
  CLIP_CONTEXT_LENGTH,
  CLIP_END_OF_TEXT,
  CLIP_START_OF_TEXT,
  type ClipTokenBatch,
  type ClipTokenizer,
  type ClipTokenizerOptions,
  clipTokenizerJsonFromBpe,
  createClipTokenizer,
} from './clip-tokenizer';
export { type ClipTensorIo, type ClipTowerIo, ONNX_ELEMENT_TYPE, resolveClipTowerIo } from './clip-tower-io';
export {
  type Interpolation,
  PREPROCESS_PRESETS,
  type PreprocessConfig,
  type PreprocessPreset,
  preprocessBatch,
  preprocessConfigFor,
  preprocessImage,
  resizedSize,
  resizeRgb,
  resolvePreprocessConfig,
} from './image-preprocess';
export { modulePathOfNode, type OnnxGraph, parseOnnxGraph, withExtraOutputs } from './onnx-graph';
export { type OnnxTypes, onnx } from './onnx-proto';
export {
  isShapeFailure,
  type OpenOnProviderOptions,
  openOnProvider,
  type ProviderFallback,
  type ProviderSession,
} from './open-on-provider';
export {
  createSessionClipModel,
  type SessionClipModel,
  type SessionClipModelOptions,
  type TextPadding,
} from './session-clip-model';
export {
  createSessionTargetModel,
  type SessionTargetModel,
  type SessionTargetModelOptions,
} from './session-target-model';

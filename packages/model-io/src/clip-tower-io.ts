import { ErrorCode, NeurodissectError } from '@neurodissect/core';
import type { PreprocessConfig } from './image-preprocess';
import { type OnnxTypes, onnx } from './onnx-proto';

// Platform-neutral (no `node:*`, no onnxruntime): both runtimes find a CLIP tower's inputs and
// outputs here, from the ONNX bytes, before they open a session.

/** A graph input or output: its name, ONNX element type and shape (symbolic dimensions as strings). */
export interface ClipTensorIo {
  readonly name: string;
  readonly elemType: number;
  readonly shape: readonly (number | string)[];
}

/** The graph names a CLIP model feeds and reads. */
export interface ClipTowerIo {
  readonly imageInput: ClipTensorIo;
  readonly imageOutput: ClipTensorIo;
  /** Token ids (int64 or int32, see `elemType`). */
  readonly textInput: ClipTensorIo;
  readonly maskInput?: ClipTensorIo;
  readonly textOutput: ClipTensorIo;
}

interface GraphIo {
  readonly inputs: readonly ClipTensorIo[];
  readonly outputs: readonly ClipTensorIo[];
}

/** ONNX element types of the tensors a CLIP tower exchanges. */
export const ONNX_ELEMENT_TYPE = {
  float: onnx.TensorProto.DataType.FLOAT,
  int32: onnx.TensorProto.DataType.INT32,
  int64: onnx.TensorProto.DataType.INT64,
} as const;

function readIo(bytes: Uint8Array, path: string): GraphIo {
  let graph: OnnxTypes.IGraphProto | null | undefined;
  try {
    graph = onnx.ModelProto.decode(bytes).graph;
  } catch (cause) {
    throw new NeurodissectError(
      ErrorCode.ModelLoadFailed,
      `${path} is not a readable ONNX file (${(cause as Error).message}); re-export the CLIP tower.`,
      { cause, details: { path } },
    );
  }
  if (!graph) {
    throw new NeurodissectError(
      ErrorCode.ModelLoadFailed,
      `${path} has no graph; re-export the CLIP tower.`,
      {
        details: { path },
      },
    );
  }
  const initializers = new Set((graph.initializer ?? []).map((t) => t.name));
  const describe = (v: OnnxTypes.IValueInfoProto): ClipTensorIo => ({
    name: v.name ?? '',
    elemType: v.type?.tensorType?.elemType ?? 0,
    shape: (v.type?.tensorType?.shape?.dim ?? []).map((d) =>
      d.dimParam ? d.dimParam : d.dimValue != null ? Number(d.dimValue) : '?',
    ),
  });
  return {
    inputs: (graph.input ?? []).filter((i) => !initializers.has(i.name)).map(describe),
    outputs: (graph.output ?? []).map(describe),
  };
}

function pickOutput(io: GraphIo, preferred: readonly string[], path: string): ClipTensorIo {
  for (const name of preferred) {
    const output = io.outputs.find((o) => o.name === name);
    if (output) return output;
  }
  const flat = io.outputs.filter((o) => o.shape.length === 2);
  if (flat.length === 1) return flat[0];
  throw new NeurodissectError(
    ErrorCode.ModelLoadFailed,
    `${path} has no embedding output: expected ${preferred.join(' or ')} (or a single 2-D output), found ${io.outputs.map((o) => `${o.name} [${o.shape.join(', ')}]`).join(', ')}.`,
    { details: { path, outputs: io.outputs.map((o) => o.name) } },
  );
}

function ioError(path: string, what: string, io: GraphIo): NeurodissectError {
  return new NeurodissectError(
    ErrorCode.ModelLoadFailed,
    `${path} ${what}; its inputs are ${io.inputs.map((i) => `${i.name} [${i.shape.join(', ')}]`).join(', ')}. Re-export it with the inputs of a CLIP tower.`,
    { details: { path, inputs: io.inputs.map((i) => i.name) } },
  );
}

/**
 * Finds a CLIP model's graph names in its towers: the image tower's float input (checked against
 * the preprocessing's crop), the text tower's integer ids (int64 or int32) and `attention_mask`
 * when the graph has one; `image_embeds`/`text_embeds` (or `image_features`/`text_features`, or
 * the only 2-D output).
 * @throws `ND_MODEL_LOAD_FAILED` for towers without the expected inputs or outputs;
 * `ND_SHAPE_MISMATCH` when the image input's size differs from the crop.
 */
export function resolveClipTowerIo(towers: {
  readonly vision: { readonly bytes: Uint8Array; readonly path: string };
  readonly text: { readonly bytes: Uint8Array; readonly path: string };
  readonly preprocess: PreprocessConfig;
}): ClipTowerIo {
  const { vision, text, preprocess } = towers;
  const visionIo = readIo(vision.bytes, vision.path);
  const textIo = readIo(text.bytes, text.path);

  const imageInputs = visionIo.inputs.filter((i) => i.elemType === ONNX_ELEMENT_TYPE.float);
  const imageInput = imageInputs.find((i) => i.name === 'pixel_values') ?? imageInputs[0];
  if (!imageInput || visionIo.inputs.length !== 1) {
    throw ioError(vision.path, 'should have one float image input [N, 3, H, W]', visionIo);
  }
  const [, channels, height, width] = imageInput.shape;
  if (
    imageInput.shape.length !== 4 ||
    (typeof channels === 'number' && channels !== 3) ||
    (typeof height === 'number' && height !== preprocess.crop) ||
    (typeof width === 'number' && width !== preprocess.crop)
  ) {
    throw new NeurodissectError(
      ErrorCode.ShapeMismatch,
      `${vision.path} takes ${imageInput.name} [${imageInput.shape.join(', ')}] but the preprocessing crops to 3×${preprocess.crop}×${preprocess.crop}; fix the preprocessor config or pass the preprocess option.`,
      { details: { path: vision.path } },
    );
  }
  const imageOutput = pickOutput(visionIo, ['image_embeds', 'image_features', 'embeddings'], vision.path);

  const idInputs = textIo.inputs.filter(
    (i) => i.elemType === ONNX_ELEMENT_TYPE.int64 || i.elemType === ONNX_ELEMENT_TYPE.int32,
  );
  const textInput =
    idInputs.find((i) => i.name === 'input_ids') ??
    idInputs.find((i) => i.name !== 'attention_mask') ??
    undefined;
  const maskInput = textIo.inputs.find((i) => i.name === 'attention_mask');
  const unknownInputs = textIo.inputs.filter((i) => i !== textInput && i !== maskInput);
  if (!textInput || unknownInputs.length) {
    throw ioError(
      text.path,
      unknownInputs.length
        ? `has inputs the loader cannot feed (${unknownInputs.map((i) => i.name).join(', ')})`
        : 'should have an integer token input [N, 77]',
      textIo,
    );
  }
  const textOutput = pickOutput(textIo, ['text_embeds', 'text_features', 'embeddings'], text.path);
  return { imageInput, imageOutput, textInput, ...(maskInput ? { maskInput } : {}), textOutput };
}

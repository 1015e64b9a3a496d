// Stand-in ONNX models (test fixtures, NOT real weights) with the input/output signatures of the
// Grounding DINO and SAM exports that runtime-node's loadGroundingDino and loadSam read, whose
// outputs are known in closed form. Built in TypeScript with onnx-proto (through model-io), written
// to a temporary folder by runtime-node's and labelers' tests.
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type OnnxTypes, onnx } from '../../packages/model-io/src/index';

const FLOAT = onnx.TensorProto.DataType.FLOAT;
const INT64 = onnx.TensorProto.DataType.INT64;

function info(name: string, elemType: number, dims: (string | number)[]): OnnxTypes.IValueInfoProto {
  return {
    name,
    type: {
      tensorType: {
        elemType,
        shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) },
      },
    },
  };
}

function floats(name: string, dims: number[], values: ArrayLike<number>): OnnxTypes.ITensorProto {
  const data = Float32Array.from(values);
  return { name, dataType: FLOAT, dims, rawData: new Uint8Array(data.buffer) };
}

function int64s(name: string, dims: number[], values: number[]): OnnxTypes.ITensorProto {
  const data = BigInt64Array.from(values, (v) => BigInt(v));
  return { name, dataType: INT64, dims, rawData: new Uint8Array(data.buffer) };
}

function node(
  opType: string,
  input: string[],
  output: string[],
  attribute: OnnxTypes.IAttributeProto[] = [],
): OnnxTypes.INodeProto {
  return { opType, input, output, attribute };
}

const ints = (name: string, values: number[]): OnnxTypes.IAttributeProto => ({
  name,
  type: onnx.AttributeProto.AttributeType.INTS,
  ints: values,
});
const int = (name: string, value: number): OnnxTypes.IAttributeProto => ({
  name,
  type: onnx.AttributeProto.AttributeType.INT,
  i: value,
});

function model(graph: OnnxTypes.IGraphProto): Uint8Array {
  return onnx.ModelProto.encode(
    onnx.ModelProto.create({
      irVersion: 8,
      producerName: 'neurodissect-stand-in',
      opsetImport: [{ domain: '', version: 13 }],
      graph,
    }),
  ).finish();
}

/** The stand-in BERT vocabulary (WordPiece). */
export const STAND_IN_VOCAB = [
  '[PAD]',
  '[UNK]',
  '[CLS]',
  '[SEP]',
  '.',
  'red',
  'green',
  'blue',
  'yellow',
  'light',
];

/** A minimal BERT `tokenizer.json` over {@link STAND_IN_VOCAB}. */
export function standInTokenizerJson(): Record<string, unknown> {
  const vocab = Object.fromEntries(STAND_IN_VOCAB.map((token, id) => [token, id]));
  const special = (id: number) => ({
    id,
    content: STAND_IN_VOCAB[id],
    single_word: false,
    lstrip: false,
    rstrip: false,
    normalized: false,
    special: true,
  });
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: [special(0), special(1), special(2), special(3)],
    normalizer: {
      type: 'BertNormalizer',
      clean_text: true,
      handle_chinese_chars: true,
      strip_accents: null,
      lowercase: true,
    },
    pre_tokenizer: { type: 'BertPreTokenizer' },
    post_processor: {
      type: 'TemplateProcessing',
      single: [
        { SpecialToken: { id: '[CLS]', type_id: 0 } },
        { Sequence: { id: 'A', type_id: 0 } },
        { SpecialToken: { id: '[SEP]', type_id: 0 } },
      ],
      pair: [
        { SpecialToken: { id: '[CLS]', type_id: 0 } },
        { Sequence: { id: 'A', type_id: 0 } },
        { SpecialToken: { id: '[SEP]', type_id: 0 } },
        { Sequence: { id: 'B', type_id: 1 } },
        { SpecialToken: { id: '[SEP]', type_id: 1 } },
      ],
      special_tokens: {
        '[CLS]': { id: '[CLS]', ids: [2], tokens: ['[CLS]'] },
        '[SEP]': { id: '[SEP]', ids: [3], tokens: ['[SEP]'] },
      },
    },
    decoder: { type: 'WordPiece', prefix: '##', cleanup: true },
    model: {
      type: 'WordPiece',
      unk_token: '[UNK]',
      continuing_subword_prefix: '##',
      max_input_chars_per_word: 100,
      vocab,
    },
  };
}

/** Boxes (cx, cy, w, h, normalised) of the stand-in detector's 3 queries: top-left, top-right, bottom-left quadrants. */
export const STAND_IN_BOXES = [
  [0.25, 0.25, 0.5, 0.5],
  [0.75, 0.25, 0.5, 0.5],
  [0.25, 0.75, 0.5, 0.5],
];

/**
 * Grounding DINO stand-in with Hugging Face's signature (`pixel_values` [B,3,8,8], `input_ids`,
 * `attention_mask`, `token_type_ids`, `pixel_mask` → `logits` [B,3,T], `pred_boxes` [B,3,4]).
 * Query q looks at colour channel q: with `s_q` = the mean of channel q of `pixel_values`,
 * `logits[b,q,t] = G[input_ids[t], q]·relu(s_q) − 5` where `G` is +20 for the word of channel q
 * (`red`, `green`, `blue`) and −20 otherwise; `pred_boxes` are {@link STAND_IN_BOXES}.
 */
export function groundingDinoStandIn(): Uint8Array {
  const V = STAND_IN_VOCAB.length;
  const table = new Float32Array(V * 3).fill(-20);
  ['red', 'green', 'blue'].forEach((word, q) => {
    table[STAND_IN_VOCAB.indexOf(word) * 3 + q] = 20;
  });
  return model({
    name: 'grounding_dino_stand_in',
    node: [
      node('ReduceMean', ['pixel_values'], ['s'], [ints('axes', [2, 3]), int('keepdims', 0)]),
      node('Relu', ['s'], ['r']),
      node('Unsqueeze', ['r', 'axis2'], ['r3']),
      node('Gather', ['G', 'input_ids'], ['g'], [int('axis', 0)]),
      node('Transpose', ['g'], ['gt'], [ints('perm', [0, 2, 1])]),
      node('Mul', ['gt', 'r3'], ['m']),
      node('Add', ['m', 'bias'], ['logits']),
      node('ReduceMean', ['pixel_values'], ['p'], [ints('axes', [1, 2, 3]), int('keepdims', 0)]),
      node('Unsqueeze', ['p', 'axes12'], ['p3']),
      node('Mul', ['p3', 'zero'], ['z']),
      node('Add', ['z', 'boxes'], ['pred_boxes']),
    ],
    initializer: [
      floats('G', [V, 3], table),
      floats('bias', [], [-5]),
      floats('zero', [], [0]),
      floats('boxes', [1, 3, 4], STAND_IN_BOXES.flat()),
      int64s('axis2', [1], [2]),
      int64s('axes12', [2], [1, 2]),
    ],
    input: [
      info('pixel_values', FLOAT, ['batch', 3, 8, 8]),
      info('input_ids', INT64, ['batch', 'text']),
      info('token_type_ids', INT64, ['batch', 'text']),
      info('attention_mask', INT64, ['batch', 'text']),
      info('pixel_mask', INT64, ['batch', 8, 8]),
    ],
    output: [info('logits', FLOAT, ['batch', 3, 'text']), info('pred_boxes', FLOAT, ['batch', 3, 4])],
  });
}

/** SAM image-encoder stand-in: `image` [1,3,16,16] → `image_embeddings` [1,3,4,4] (4×4 average pooling). */
export function samEncoderStandIn(): Uint8Array {
  return model({
    name: 'sam_encoder_stand_in',
    node: [
      node(
        'AveragePool',
        ['image'],
        ['image_embeddings'],
        [ints('kernel_shape', [4, 4]), ints('strides', [4, 4])],
      ),
    ],
    input: [info('image', FLOAT, [1, 3, 16, 16])],
    output: [info('image_embeddings', FLOAT, [1, 3, 4, 4])],
  });
}

/**
 * SAM prompt-decoder stand-in with segment-anything's export signature (`image_embeddings`,
 * `point_coords`, `point_labels`, `mask_input` [1,1,16,16], `has_mask_input`, `orig_im_size` →
 * `masks` [1,1,H,W], `iou_predictions` [1,1], `low_res_masks`). It reads the first two points as a
 * box's corners in the 16-pixel resized frame and returns, at `orig_im_size`, the logit
 * `min(x+½ − x0, x1 − x−½, y+½ − y0, y1 − y−½)` in original pixels: positive exactly inside the box.
 * `iou_predictions` is 0.9.
 */
export function samDecoderStandIn(): Uint8Array {
  return model({
    name: 'sam_decoder_stand_in',
    node: [
      node('Gather', ['orig_im_size', 'i0'], ['H'], [int('axis', 0)]),
      node('Gather', ['orig_im_size', 'i1'], ['W'], [int('axis', 0)]),
      node('Max', ['H', 'W'], ['longest']),
      node('Div', ['side', 'longest'], ['scale']),
      node('Div', ['point_coords', 'scale'], ['coords']),
      node('Gather', ['coords', 'i0'], ['c0'], [int('axis', 1)]),
      node('Gather', ['coords', 'i1'], ['c1'], [int('axis', 1)]),
      node('Gather', ['c0', 'i0'], ['x0'], [int('axis', 1)]),
      node('Gather', ['c0', 'i1'], ['y0'], [int('axis', 1)]),
      node('Gather', ['c1', 'i0'], ['x1'], [int('axis', 1)]),
      node('Gather', ['c1', 'i1'], ['y1'], [int('axis', 1)]),
      node('Range', ['half', 'W', 'one'], ['xs']),
      node('Range', ['half', 'H', 'one'], ['ys']),
      node('Sub', ['xs', 'x0'], ['dxa']),
      node('Sub', ['x1', 'xs'], ['dxb']),
      node('Min', ['dxa', 'dxb'], ['dx']),
      node('Sub', ['ys', 'y0'], ['dya']),
      node('Sub', ['y1', 'ys'], ['dyb']),
      node('Min', ['dya', 'dyb'], ['dy']),
      node('Unsqueeze', ['dy', 'axis1'], ['dy2']),
      node('Min', ['dy2', 'dx'], ['m2']),
      node('Unsqueeze', ['m2', 'axes01'], ['masks']),
      node('Identity', ['iou'], ['iou_predictions']),
      node('Identity', ['mask_input'], ['low_res_masks']),
    ],
    initializer: [
      int64s('i0', [], [0]),
      int64s('i1', [], [1]),
      int64s('axis1', [1], [1]),
      int64s('axes01', [2], [0, 1]),
      floats('side', [], [16]),
      floats('half', [], [0.5]),
      floats('one', [], [1]),
      floats('iou', [1, 1], [0.9]),
    ],
    input: [
      info('image_embeddings', FLOAT, [1, 3, 4, 4]),
      info('point_coords', FLOAT, [1, 'points', 2]),
      info('point_labels', FLOAT, [1, 'points']),
      info('mask_input', FLOAT, [1, 1, 16, 16]),
      info('has_mask_input', FLOAT, [1]),
      info('orig_im_size', FLOAT, [2]),
    ],
    output: [
      info('masks', FLOAT, [1, 1, 'height', 'width']),
      info('iou_predictions', FLOAT, [1, 1]),
      info('low_res_masks', FLOAT, [1, 1, 16, 16]),
    ],
  });
}

/** Writes the three stand-ins and the tokenizer to a new temporary folder; returns their paths. */
export async function writeStandInModels(): Promise<{
  dir: string;
  groundingDino: string;
  samEncoder: string;
  samDecoder: string;
}> {
  const dir = await mkdtemp(join(tmpdir(), 'nd-stand-ins-'));
  const paths = {
    dir,
    groundingDino: join(dir, 'grounding-dino.onnx'),
    samEncoder: join(dir, 'sam-encoder.onnx'),
    samDecoder: join(dir, 'sam-decoder.onnx'),
  };
  await writeFile(paths.groundingDino, groundingDinoStandIn());
  await writeFile(join(dir, 'tokenizer.json'), JSON.stringify(standInTokenizerJson()));
  await writeFile(paths.samEncoder, samEncoderStandIn());
  await writeFile(paths.samDecoder, samDecoderStandIn());
  return paths;
}

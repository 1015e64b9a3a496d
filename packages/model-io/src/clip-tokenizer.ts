// Platform-neutral on purpose: no `node:*`, no onnxruntime, no sharp. It is published as the
// `@neurodissect/runtime-node/tokenizer` subpath so runtime-web (or any bundler) can use the same
// tokenizer without pulling in the native parts; file loading lives in `clip-tokenizer-files.ts`.
import { Tokenizer } from '@huggingface/tokenizers';
import { ErrorCode, NeurodissectError, type Tensor } from '@neurodissect/core';

/** CLIP's text context length (tokens per sequence, special tokens included). */
export const CLIP_CONTEXT_LENGTH = 77;
/** Id of `<|startoftext|>` in CLIP's vocabulary. */
export const CLIP_START_OF_TEXT = 49406;
/** Id of `<|endoftext|>` in CLIP's vocabulary. */
export const CLIP_END_OF_TEXT = 49407;

const START_TOKEN = '<|startoftext|>';
const END_TOKEN = '<|endoftext|>';
// OpenAI's simple_tokenizer.py regex; HF's CLIP tokenizer.json uses the same one in its Split step.
const CLIP_SPLIT_PATTERN =
  "<\\|startoftext\\|>|<\\|endoftext\\|>|'s|'t|'re|'ve|'m|'ll|'d|[\\p{L}]+|[\\p{N}]|[^\\s\\p{L}\\p{N}]+";
// simple_tokenizer.py keeps merges[1 : 49152 - 256 - 2 + 1] (the first line is a version header).
const CLIP_MERGE_COUNT = 49152 - 256 - 2;

/** GPT-2's reversible byte → printable-character table, which CLIP's BPE also uses. */
function bytesToUnicode(): string[] {
  const printable: number[] = [];
  for (let b = 33; b <= 126; b++) printable.push(b);
  for (let b = 161; b <= 172; b++) printable.push(b);
  for (let b = 174; b <= 255; b++) printable.push(b);
  const table = new Array<string>(256);
  let extra = 0;
  for (let b = 0; b < 256; b++) {
    table[b] = printable.includes(b) ? String.fromCharCode(b) : String.fromCharCode(256 + extra++);
  }
  // Order matters for the vocabulary ids: printable bytes first, then the remapped ones.
  return [...printable.map((b) => table[b]), ...table.filter((_, b) => !printable.includes(b))];
}

/**
 * Converts OpenAI's BPE merges file (`bpe_simple_vocab_16e6.txt`, decompressed) into the
 * Hugging Face `tokenizer.json` structure of CLIP's tokenizer, with the vocabulary ids that
 * `simple_tokenizer.py` assigns (256 bytes, the same with `</w>`, one per merge, then the two
 * special tokens).
 * @param mergesText The text of the merges file (first line is a header).
 */
export function clipTokenizerJsonFromBpe(mergesText: string): Record<string, unknown> {
  const lines = mergesText.split('\n');
  const merges = lines.slice(1, CLIP_MERGE_COUNT + 1);
  if (merges.length !== CLIP_MERGE_COUNT || merges.some((line) => line.split(' ').length !== 2)) {
    throw new NeurodissectError(
      ErrorCode.InvalidFormat,
      `The BPE vocabulary has ${merges.length} merges, expected ${CLIP_MERGE_COUNT} lines of two symbols; use OpenAI's bpe_simple_vocab_16e6.txt.gz.`,
    );
  }
  const byteSymbols = bytesToUnicode();
  const tokens = [
    ...byteSymbols,
    ...byteSymbols.map((s) => `${s}</w>`),
    ...merges.map((m) => m.replace(' ', '')),
    START_TOKEN,
    END_TOKEN,
  ];
  const vocab: Record<string, number> = {};
  tokens.forEach((token, id) => {
    vocab[token] = id;
  });
  const special = (id: number, content: string) => ({
    id,
    content,
    single_word: false,
    lstrip: false,
    rstrip: false,
    normalized: true,
    special: true,
  });
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: [special(vocab[START_TOKEN], START_TOKEN), special(vocab[END_TOKEN], END_TOKEN)],
    normalizer: {
      type: 'Sequence',
      normalizers: [
        { type: 'NFC' },
        { type: 'Replace', pattern: { Regex: '\\s+' }, content: ' ' },
        { type: 'Lowercase' },
      ],
    },
    pre_tokenizer: {
      type: 'Sequence',
      pretokenizers: [
        { type: 'Split', pattern: { Regex: CLIP_SPLIT_PATTERN }, behavior: 'Removed', invert: true },
        { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: false },
      ],
    },
    post_processor: {
      type: 'RobertaProcessing',
      sep: [END_TOKEN, vocab[END_TOKEN]],
      cls: [START_TOKEN, vocab[START_TOKEN]],
      trim_offsets: false,
      add_prefix_space: false,
    },
    decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: END_TOKEN,
      continuing_subword_prefix: '',
      end_of_word_suffix: '</w>',
      fuse_unk: false,
      byte_fallback: false,
      vocab,
      merges,
    },
  };
}

const NAMED_ENTITIES: Record<string, string> = {
  amp: '&',
  lt: '<',
  gt: '>',
  quot: '"',
  apos: "'",
  nbsp: '\u00a0',
};

// simple_tokenizer.py's basic_clean runs html.unescape twice; the common entities cover what
// concept lists contain. (ftfy's mojibake repair is not reproduced; its NFC step is, by the normalizer.)
function unescapeHtml(text: string): string {
  return text.replace(/&(#x[0-9a-f]+|#[0-9]+|[a-z]+);/gi, (match, body: string) => {
    if (body[0] === '#') {
      const code =
        body[1] === 'x' || body[1] === 'X' ? Number.parseInt(body.slice(2), 16) : Number(body.slice(1));
      return code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : match;
    }
    return NAMED_ENTITIES[body.toLowerCase()] ?? match;
  });
}

/** Options for {@link createClipTokenizer}. */
export interface ClipTokenizerOptions {
  /** A Hugging Face `tokenizer.json` object (parsed), e.g. from {@link clipTokenizerJsonFromBpe}. */
  tokenizerJson: Record<string, unknown>;
  /**
   * Sequence length of {@link ClipTokenizer.encodeBatch}.
   * @defaultValue 77
   */
  contextLength?: number;
  /**
   * Id written after `<|endoftext|>` to fill a sequence. CLIP's text encoders read the embedding
   * at the end token and attend causally, so the pad id does not change embeddings.
   * @defaultValue 0 (as OpenAI's `clip.tokenize` and OpenCLIP do)
   */
  padId?: number;
}

/** Token ids of a batch: `[N, contextLength]` ids and the matching attention mask (1 for real tokens). */
export interface ClipTokenBatch {
  readonly ids: Tensor<'int64'>;
  readonly attentionMask: Tensor<'int64'>;
}

/** CLIP's byte-level BPE tokenizer. */
export interface ClipTokenizer {
  readonly contextLength: number;
  readonly startOfTextId: number;
  readonly endOfTextId: number;
  readonly padId: number;
  /**
   * Ids of one text with `<|startoftext|>` and `<|endoftext|>`, neither padded nor truncated.
   */
  encode(text: string): number[];
  /**
   * Ids of one text as CLIP feeds them: truncated to `contextLength` (the last kept id replaced by
   * `<|endoftext|>`, as `clip.tokenize(truncate=True)` does) and padded with `padId`.
   */
  encodePadded(text: string): number[];
  /** Encodes a batch to `[N, contextLength]` int64 ids and an attention mask. */
  encodeBatch(texts: readonly string[]): ClipTokenBatch;
}

/**
 * Creates a CLIP tokenizer from a `tokenizer.json` structure (Hugging Face's, or one converted
 * from OpenAI's vocabulary with {@link clipTokenizerJsonFromBpe}).
 */
export function createClipTokenizer(options: ClipTokenizerOptions): ClipTokenizer {
  const contextLength = options.contextLength ?? CLIP_CONTEXT_LENGTH;
  if (!Number.isInteger(contextLength) || contextLength < 2) {
    throw new RangeError(`contextLength must be an integer ≥ 2, got ${contextLength}.`);
  }
  let tokenizer: Tokenizer;
  try {
    tokenizer = new Tokenizer(options.tokenizerJson, {});
  } catch (cause) {
    throw new NeurodissectError(
      ErrorCode.InvalidFormat,
      'The tokenizer.json could not be loaded; pass a CLIP tokenizer.json or OpenAI’s BPE vocabulary file.',
      { cause },
    );
  }
  const startOfTextId = tokenizer.token_to_id(START_TOKEN);
  const endOfTextId = tokenizer.token_to_id(END_TOKEN);
  if (startOfTextId === undefined || endOfTextId === undefined) {
    throw new NeurodissectError(
      ErrorCode.InvalidFormat,
      `The tokenizer has no ${START_TOKEN}/${END_TOKEN} tokens, so it is not CLIP's; pass a CLIP tokenizer.json.`,
    );
  }
  const padId = options.padId ?? 0;

  const encode = (text: string): number[] => {
    const cleaned = unescapeHtml(unescapeHtml(text)).trim();
    const { ids } = tokenizer.encode(cleaned, { add_special_tokens: true });
    return ids;
  };
  const encodePadded = (text: string): number[] => {
    const ids = encode(text);
    if (ids.length > contextLength) {
      ids.length = contextLength;
      ids[contextLength - 1] = endOfTextId;
    }
    while (ids.length < contextLength) ids.push(padId);
    return ids;
  };
  return {
    contextLength,
    startOfTextId,
    endOfTextId,
    padId,
    encode,
    encodePadded,
    encodeBatch(texts) {
      const n = texts.length;
      const ids = new BigInt64Array(n * contextLength);
      const mask = new BigInt64Array(n * contextLength);
      texts.forEach((text, row) => {
        const raw = encode(text);
        const kept = Math.min(raw.length, contextLength);
        const base = row * contextLength;
        for (let i = 0; i < contextLength; i++) {
          const id =
            i < kept ? (i === contextLength - 1 && raw.length > contextLength ? endOfTextId : raw[i]) : padId;
          ids[base + i] = BigInt(id);
          mask[base + i] = i < kept ? 1n : 0n;
        }
      });
      return {
        ids: { dtype: 'int64', dims: [n, contextLength], data: ids },
        attentionMask: { dtype: 'int64', dims: [n, contextLength], data: mask },
      };
    },
  };
}

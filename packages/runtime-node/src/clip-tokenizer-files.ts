import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { ErrorCode, NeurodissectError } from '@neurodissect/core';
import {
  type ClipTokenizer,
  type ClipTokenizerOptions,
  clipTokenizerJsonFromBpe,
  createClipTokenizer,
} from '@neurodissect/model-io';

/**
 * Path of OpenAI's `bpe_simple_vocab_16e6.txt.gz`, shipped inside this package (MIT, see
 * `assets/SOURCE.md`).
 */
export function bundledClipVocabPath(): string {
  // src/ and dist/ are both one level below the package root.
  return fileURLToPath(new URL('../assets/bpe_simple_vocab_16e6.txt.gz', import.meta.url));
}

/** Options for {@link loadClipTokenizer}. */
export type LoadClipTokenizerOptions = Omit<ClipTokenizerOptions, 'tokenizerJson'>;

/**
 * Loads CLIP's tokenizer from a Hugging Face `tokenizer.json`, or from OpenAI's BPE vocabulary
 * (`bpe_simple_vocab_16e6.txt.gz` or its decompressed `.txt`).
 * @param path The file; the vocabulary shipped with this package when omitted.
 */
export async function loadClipTokenizer(
  path: string = bundledClipVocabPath(),
  options: LoadClipTokenizerOptions = {},
): Promise<ClipTokenizer> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (cause) {
    throw new NeurodissectError(
      ErrorCode.FileNotFound,
      `The tokenizer file ${path} could not be read; pass a tokenizer.json or bpe_simple_vocab_16e6.txt.gz.`,
      { cause, details: { path } },
    );
  }
  const isGzip = bytes[0] === 0x1f && bytes[1] === 0x8b;
  let text: string;
  try {
    text = (isGzip ? gunzipSync(bytes) : bytes).toString('utf8');
  } catch (cause) {
    throw new NeurodissectError(ErrorCode.InvalidFormat, `The tokenizer file ${path} is not valid gzip.`, {
      cause,
      details: { path },
    });
  }
  let tokenizerJson: Record<string, unknown>;
  if (text.trimStart().startsWith('{')) {
    try {
      tokenizerJson = JSON.parse(text) as Record<string, unknown>;
    } catch (cause) {
      throw new NeurodissectError(ErrorCode.InvalidFormat, `The tokenizer file ${path} is not valid JSON.`, {
        cause,
        details: { path },
      });
    }
  } else {
    tokenizerJson = clipTokenizerJsonFromBpe(text);
  }
  return createClipTokenizer({ ...options, tokenizerJson });
}

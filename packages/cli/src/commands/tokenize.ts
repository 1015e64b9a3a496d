import { isNeurodissectError } from '@neurodissect/core';
import { type ClipTokenizer, loadClipTokenizer } from '@neurodissect/runtime-node';
import type { Command } from 'commander';
import { CliError } from '../cli-error';
import type { CliIo } from '../io';

/** Options of `neurodissect tokenize`, as parsed. */
export interface TokenizeCommandOptions {
  vocab?: string;
  raw?: boolean;
}

/** Yields the lines of a stream of text (`\n` or `\r\n`), the last one even without a newline. */
async function* readLines(input: AsyncIterable<string | Uint8Array>): AsyncGenerator<string> {
  const decoder = new TextDecoder();
  let pending = '';
  for await (const chunk of input) {
    pending += typeof chunk === 'string' ? chunk : decoder.decode(chunk, { stream: true });
    let end = pending.indexOf('\n');
    while (end !== -1) {
      yield pending.slice(0, end).replace(/\r$/, '');
      pending = pending.slice(end + 1);
      end = pending.indexOf('\n');
    }
  }
  pending += decoder.decode();
  if (pending !== '') yield pending.replace(/\r$/, '');
}

/** `neurodissect tokenize`: one JSON array of CLIP token ids per line of standard input. */
export async function tokenizeCommand(o: TokenizeCommandOptions, io: CliIo): Promise<void> {
  if (!io.stdin) throw new CliError('tokenize reads text from standard input, and there is none here');
  let tokenizer: ClipTokenizer;
  try {
    tokenizer = await loadClipTokenizer(o.vocab);
  } catch (error) {
    if (isNeurodissectError(error)) throw new CliError(`--vocab: ${error.message}`);
    throw error;
  }
  const encode = o.raw
    ? (text: string) => tokenizer.encode(text)
    : (text: string) => tokenizer.encodePadded(text);
  for await (const line of readLines(io.stdin)) {
    io.stdout.write(`${JSON.stringify(encode(line))}\n`);
  }
}

/** Adds `tokenize` to the program. */
export function registerTokenizeCommand(program: Command, io: CliIo): void {
  program
    .command('tokenize')
    .description(
      "Print CLIP's token ids of each line of standard input as a JSON array (77 ids, padded and truncated as CLIP does).",
    )
    .option(
      '--vocab <file>',
      "a tokenizer.json or OpenAI's bpe_simple_vocab_16e6.txt.gz (default: the bundled CLIP vocabulary)",
    )
    .option('--raw', 'the ids with <|startoftext|> and <|endoftext|>, neither padded nor truncated')
    .action(async (options: TokenizeCommandOptions) => {
      await tokenizeCommand(options, io);
    });
}

import type { NodeClipModel } from '@neurodissect/runtime-node';
import type { CliIo } from './io';

/** Says once that a text graph fixed at the context length runs every text at full length. */
export function noteFixedTextLength(model: NodeClipModel, asked: string | undefined, io: CliIo): void {
  if (model.textPadding === 'context' && asked !== 'context') {
    io.stderr.write(
      `note: ${model.files.text} takes a fixed ${model.tokenizer.contextLength} tokens, so every concept runs at full length; a text graph exported with a dynamic sequence axis embeds short concepts many times faster\n`,
    );
  }
}

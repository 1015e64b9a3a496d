/**
 * Iterates `source` one item ahead: the next item is asked for before the current one is handed
 * on, so producing it (decoding and preprocessing a batch of images) overlaps the consumer's work
 * on this one (inference, which runs off the main thread). At most two items are alive at once.
 * Ending early returns the source.
 */
export async function* prefetched<T>(source: AsyncIterable<T>): AsyncGenerator<T> {
  const iterator = source[Symbol.asyncIterator]();
  let next = iterator.next();
  // A failure is rethrown where it is awaited; until then it must not count as unhandled.
  next.catch(() => undefined);
  let finished = false;
  try {
    for (;;) {
      const result = await next;
      if (result.done) {
        finished = true;
        return;
      }
      next = iterator.next();
      next.catch(() => undefined);
      yield result.value;
    }
  } finally {
    if (!finished) {
      await next.catch(() => undefined);
      await iterator.return?.();
    }
  }
}

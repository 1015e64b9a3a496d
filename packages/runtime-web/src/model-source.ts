import { ErrorCode, NeurodissectError } from '@neurodissect/core';

/**
 * Where a model or model file comes from in a page: a URL (absolute, or relative to the page), a
 * `File`/`Blob` the user picked, or bytes already in memory.
 */
export type ModelSource = string | URL | Blob | ArrayBuffer | Uint8Array;

/** A readable name for a source, for messages. */
export function describeSource(source: ModelSource): string {
  if (typeof source === 'string') return source;
  if (source instanceof URL) return source.href;
  if (typeof File !== 'undefined' && source instanceof File) return source.name;
  if (source instanceof Blob) return 'blob';
  return 'model bytes';
}

/**
 * Reads a source's bytes. URLs are fetched (the caller chose them; nothing else is downloaded).
 * @throws `ND_FILE_NOT_FOUND` when a URL answers with an error status or cannot be fetched.
 */
export async function readSourceBytes(
  source: ModelSource,
  options: { signal?: AbortSignal; name?: string } = {},
): Promise<Uint8Array> {
  if (source instanceof Uint8Array) return source;
  if (source instanceof ArrayBuffer) return new Uint8Array(source);
  if (source instanceof Blob) return new Uint8Array(await source.arrayBuffer());
  const url = source instanceof URL ? source.href : source;
  const name = options.name ?? url;
  let response: Response;
  try {
    response = await fetch(url, options.signal ? { signal: options.signal } : {});
  } catch (cause) {
    throw new NeurodissectError(
      ErrorCode.FileNotFound,
      `${name} could not be fetched (${(cause as Error).message}); check the URL and that the server allows this page to read it (CORS).`,
      { cause, details: { path: name } },
    );
  }
  if (!response.ok) {
    throw new NeurodissectError(
      ErrorCode.FileNotFound,
      `${name} could not be fetched (HTTP ${response.status}); check the URL.`,
      { details: { path: name, status: response.status } },
    );
  }
  return new Uint8Array(await response.arrayBuffer());
}

/** Whether a URL answers (for optional files such as `preprocessor_config.json`). */
export async function fetchOptional(url: string, signal?: AbortSignal): Promise<Uint8Array | undefined> {
  let response: Response;
  try {
    response = await fetch(url, signal ? { signal } : {});
  } catch {
    return undefined;
  }
  if (!response.ok) return undefined;
  return new Uint8Array(await response.arrayBuffer());
}

// What the test page (page.ts, in Chromium) and the Node side (remote-runtime.ts) exchange through
// page.evaluate: numbers travel as base64 of their little-endian bytes, errors by code.

/** A float32 tensor in transit. */
export interface WireTensor {
  readonly dims: number[];
  readonly base64: string;
}

/** An 8-bit RGB image in transit. */
export interface WireImage {
  readonly width: number;
  readonly height: number;
  readonly base64: string;
}

/** A rejection in transit. */
export interface WireError {
  readonly code?: string;
  readonly message: string;
}

export type WireResult<T> = { readonly ok: T } | { readonly error: WireError };

/** The functions the page exposes as `window.harness`. */
export interface PageHarness {
  createRuntime(options: {
    executionProviders: string[];
    strict?: boolean;
    wasmPaths: string;
  }): Promise<WireResult<{ id: number; name: string; gpu: boolean; executionProviders: string[] }>>;
  disposeRuntime(id: number): Promise<WireResult<null>>;
  loadTargetModel(
    runtime: number,
    uri: string,
  ): Promise<
    WireResult<{
      id: number;
      layers: { name: string; tensor: string; shape?: (number | string)[] }[];
      executionProvider: string;
    }>
  >;
  runTargetModel(
    model: number,
    batch: WireTensor,
    layers: string[],
    aborted: boolean,
  ): Promise<WireResult<{ layer: string; tensor: WireTensor }[]>>;
  loadClipModel(
    runtime: number,
    uri: string,
  ): Promise<WireResult<{ id: number; dim: number; executionProvider: string }>>;
  embedImages(model: number, images: WireImage[], aborted: boolean): Promise<WireResult<WireTensor>>;
  embedTexts(model: number, texts: string[], aborted: boolean): Promise<WireResult<WireTensor>>;
  disposeModel(id: number): Promise<WireResult<null>>;
  /** Decodes an image URL in the page and preprocesses it with a preset. */
  preprocessUrl(url: string, preset: 'clip' | 'imagenet'): Promise<WireResult<WireTensor>>;
  /** Decodes an image URL in the page to RGB. */
  decodeUrl(url: string): Promise<WireResult<WireImage>>;
  /** Builds URL and File datasets of the golden images and round-trips a tensor through IndexedDB. */
  datasetsAndStore(imageUrls: string[]): Promise<
    WireResult<{
      url: { size: number; ids: string[]; firstSize: [number, number] };
      file: { name: string; size: number; ids: string[]; skipped: string[]; firstSize: [number, number] };
      store: { backing: string; roundTrip: number[]; dims: number[]; meta: unknown };
    }>
  >;
  /** Images per second of a target model and a CLIP image tower on `count` random inputs. */
  benchmark(
    runtime: number,
    options: {
      targetUri: string;
      layers: string[];
      clipUri: string;
      batch: number;
      rounds: number;
      size: number;
    },
  ): Promise<
    WireResult<{
      targetImagesPerSecond: number;
      clipImagesPerSecond: number;
      provider: string;
      targetWarmupSeconds: number;
      clipWarmupSeconds: number;
    }>
  >;
}

/** Base64 of bytes (in Node and browsers). */
export function toBase64(bytes: Uint8Array): string {
  let binary = '';
  const chunk = 0x8000;
  for (let i = 0; i < bytes.length; i += chunk) {
    binary += String.fromCharCode(...bytes.subarray(i, i + chunk));
  }
  return btoa(binary);
}

/** Bytes of base64 (in Node and browsers). */
export function fromBase64(text: string): Uint8Array {
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

export function floatsToWire(dims: readonly number[], data: Float32Array): WireTensor {
  return { dims: [...dims], base64: toBase64(new Uint8Array(data.buffer, data.byteOffset, data.byteLength)) };
}

export function floatsFromWire(tensor: WireTensor): Float32Array {
  const bytes = fromBase64(tensor.base64);
  return new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
}

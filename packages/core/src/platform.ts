// The web-standard globals core uses beyond ECMAScript: WebAssembly, performance and atob exist
// in Node ≥ 18 and in every browser. They are reached through `globalThis` with local types, so core
// compiles against neither the DOM nor Node's typings, and neither do packages that compile it.

/** A WebAssembly linear memory (the subset core uses). */
export interface WasmMemory {
  readonly buffer: ArrayBuffer;
}

interface WasmApi {
  Memory: new (descriptor: { initial: number; maximum?: number; shared?: boolean }) => WasmMemory;
  Module: new (bytes: Uint8Array) => object;
  Instance: new (
    module: object,
    imports: Record<string, Record<string, unknown>>,
  ) => { exports: Record<string, unknown> };
}

interface WebGlobals {
  WebAssembly: WasmApi;
  performance: { now(): number };
  atob(data: string): string;
}

const web = globalThis as unknown as WebGlobals;

/** The global WebAssembly API. */
export function webAssembly(): WasmApi {
  return web.WebAssembly;
}

/** Milliseconds from a monotonic clock. */
export function now(): number {
  return web.performance.now();
}

/** Decodes base64 to bytes. */
export function decodeBase64(text: string): Uint8Array {
  const binary = web.atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

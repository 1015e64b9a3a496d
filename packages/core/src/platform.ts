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

interface SubtleCrypto {
  digest(algorithm: string, data: Uint8Array): Promise<ArrayBuffer>;
}

/** `sha256:<hex>` of bytes or a string (UTF-8), through the Web Crypto API. */
export async function sha256(data: Uint8Array | string): Promise<string> {
  const bytes = typeof data === 'string' ? new TextEncoder().encode(data) : data;
  const subtle = (globalThis as unknown as { crypto: { subtle: SubtleCrypto } }).crypto.subtle;
  const digest = new Uint8Array(await subtle.digest('SHA-256', bytes));
  let hex = '';
  for (const byte of digest) hex += byte.toString(16).padStart(2, '0');
  return `sha256:${hex}`;
}

/** Encodes bytes as base64. */
export function encodeBase64(bytes: Uint8Array): string {
  let binary = '';
  for (let i = 0; i < bytes.length; i += 0x8000) {
    binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return (globalThis as unknown as { btoa(data: string): string }).btoa(binary);
}

import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ErrorCode, isNeurodissectError, type Tensor } from '@neurodissect/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createFileFeatureStore,
  type FileWarning,
  featureKey,
  hashFile,
  hashProbeManifest,
  sha256Hex,
} from '../src/index';

let scratch: string;
beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'nd-store-'));
});
afterAll(async () => {
  await rm(scratch, { recursive: true, force: true });
});

const tensor: Tensor<'float32'> = {
  dtype: 'float32',
  dims: [2, 3],
  data: Float32Array.from([1, 2.5, -3, 4, 5, 6e-8]),
};

describe('content hashes', () => {
  it('hashes files as SHA-256 (FIPS 180-2 test vectors)', async () => {
    await writeFile(join(scratch, 'abc.txt'), 'abc');
    expect(await hashFile(join(scratch, 'abc.txt'))).toBe(
      'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad',
    );
    // Larger than one read chunk, so the streaming path is exercised.
    await writeFile(join(scratch, 'million-a.txt'), 'a'.repeat(1_000_000));
    expect(await hashFile(join(scratch, 'million-a.txt'))).toBe(
      'cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0',
    );
    const error = await hashFile(join(scratch, 'nope.onnx')).catch((e: unknown) => e);
    expect(isNeurodissectError(error, ErrorCode.FileNotFound)).toBe(true);
  });

  it('keys features by every part, independent of field order', () => {
    const parts = {
      kind: 'activations',
      model: 'aa',
      layer: 'layer4',
      summary: 'mean',
      probeManifest: 'bb',
      preprocessing: 'imagenet',
    };
    const key = featureKey(parts);
    expect(key).toMatch(/^[0-9a-f]{64}$/);
    expect(
      featureKey({
        preprocessing: 'imagenet',
        probeManifest: 'bb',
        summary: 'mean',
        layer: 'layer4',
        model: 'aa',
        kind: 'activations',
      }),
    ).toBe(key);
    const changed = ['model', 'layer', 'summary', 'probeManifest', 'preprocessing'].map((field) =>
      featureKey({ ...parts, [field]: 'other' }),
    );
    expect(new Set([key, ...changed]).size).toBe(6);
    const manifest = hashProbeManifest([
      { id: 'a.png', uri: 'a.png' },
      { id: 'b.png', uri: 'b.png' },
    ]);
    expect(
      hashProbeManifest([
        { id: 'b.png', uri: 'b.png' },
        { id: 'a.png', uri: 'a.png' },
      ]),
    ).not.toBe(manifest);
    expect(
      hashProbeManifest(
        [
          { id: 'a.png', uri: 'a.png' },
          { id: 'b.png', uri: 'b.png' },
        ],
        ['x', 'y'],
      ),
    ).not.toBe(manifest);
    expect(sha256Hex('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  });
});

describe('file feature store', () => {
  it('round-trips tensors and meta through .npy + JSON files, atomically', async () => {
    const store = createFileFeatureStore({ directory: join(scratch, 'cache') });
    const key = featureKey({ kind: 'test', model: 'm' });
    expect(await store.get(key)).toBeUndefined();
    await store.put(key, tensor, { layer: 'layer4', images: 2 });
    const stored = await store.get(key);
    expect(stored?.tensor.dims).toEqual([2, 3]);
    expect(Array.from(stored!.tensor.data)).toEqual(Array.from(tensor.data));
    expect(stored?.meta).toEqual({ layer: 'layer4', images: 2 });
    const files = await readdir(join(scratch, 'cache', key.slice(0, 2)));
    expect(files.sort()).toEqual([`${key}.json`, `${key}.npy`]);
    // numpy's .npy header, so other tools can read the payload.
    const npy = await readFile(join(scratch, 'cache', key.slice(0, 2), `${key}.npy`));
    expect(npy.subarray(1, 6).toString('latin1')).toBe('NUMPY');
    await expect(store.get('../escape')).rejects.toThrow(TypeError);
  });

  it('drops truncated or altered entries and recomputes them', async () => {
    const warnings: FileWarning[] = [];
    const store = createFileFeatureStore({
      directory: join(scratch, 'cache2'),
      onWarning: (w) => warnings.push(w),
    });
    const key = featureKey({ kind: 'test', model: 'm2' });
    let computed = 0;
    const compute = async () => {
      computed++;
      return { tensor, meta: { run: computed } };
    };
    expect((await store.getOrCompute(key, compute)).cached).toBe(false);
    const again = await store.getOrCompute(key, compute);
    expect([again.cached, computed, again.meta]).toEqual([true, 1, { run: 1 }]);

    const npy = join(scratch, 'cache2', key.slice(0, 2), `${key}.npy`);
    const bytes = await readFile(npy);
    await writeFile(npy, bytes.subarray(0, bytes.length - 4));
    expect(await store.get(key)).toBeUndefined();
    expect(warnings.map((w) => w.code)).toEqual([ErrorCode.CorruptCacheEntry]);
    const recomputed = await store.getOrCompute(key, compute);
    expect([recomputed.cached, computed]).toEqual([false, 2]);

    // Same length, one value changed: caught by the checksum, not by the parser.
    const flipped = Buffer.from(await readFile(npy));
    flipped[flipped.length - 1] ^= 0x40;
    await writeFile(npy, flipped);
    expect(await store.get(key)).toBeUndefined();

    await store.put(key, tensor, {});
    await writeFile(npy.replace(/\.npy$/, '.json'), '{"format":');
    expect(await store.get(key)).toBeUndefined();
    expect(warnings).toHaveLength(3);
    await store.delete(key);
    expect(await store.get(key)).toBeUndefined();
  });

  it('drops an entry whose metadata was edited (a label, a parameter), as a corrupt one', async () => {
    const warnings: FileWarning[] = [];
    const directory = join(scratch, 'cache3');
    const store = createFileFeatureStore({ directory, onWarning: (w) => warnings.push(w) });
    const key = featureKey({ kind: 'labels', model: 'm3' });
    const meta = { labels: { netdissect: [{ unit: 0, label: 'dog', score: 0.12 }] }, lambda: 1 };
    await store.put(key, tensor, meta);
    const json = join(directory, key.slice(0, 2), `${key}.json`);
    const written = await readFile(json, 'utf8');
    expect((await store.get(key))?.meta).toEqual(meta);
    for (const [from, to] of [
      ['"dog"', '"PWNED"'],
      ['0.12', '0.99'],
      ['"lambda":1', '"lambda":10'],
    ] as const) {
      await writeFile(json, written.replace(from, to));
      expect(await store.get(key), `${from} → ${to}`).toBeUndefined();
      // Dropped: both files are gone, so the entry is recomputed.
      expect((await readdir(join(directory, key.slice(0, 2)))).filter((f) => f.startsWith(key))).toEqual([]);
      await store.put(key, tensor, meta);
    }
    expect(warnings.map((w) => w.message)).toEqual(
      Array(3).fill(
        `Dropped the corrupt cache entry ${key} (its metadata does not match its checksum); it will be recomputed.`,
      ),
    );
    // The checksum itself edited along with the metadata is caught too (it covers the payload's).
    const edited = JSON.parse(written.replace('"dog"', '"PWNED"'));
    edited.sidecarSha256 = sha256Hex('forged');
    await writeFile(json, JSON.stringify(edited));
    expect(await store.get(key)).toBeUndefined();

    // An entry of the first format (metadata without a checksum) is recomputed, without a warning.
    await store.put(key, tensor, meta);
    const old = JSON.parse(await readFile(json, 'utf8'));
    old.format = 'neurodissect-feature/1';
    delete old.sidecarSha256;
    await writeFile(json, JSON.stringify(old));
    warnings.length = 0;
    expect(await store.get(key)).toBeUndefined();
    expect(warnings).toEqual([]);
  });
});

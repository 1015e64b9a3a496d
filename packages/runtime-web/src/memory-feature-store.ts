import type { FeatureStore, StoredFeature, Tensor } from '@neurodissect/core';

/**
 * A {@link FeatureStore} in memory: the fallback where IndexedDB is unavailable, and for tests.
 * Stored tensors are copied, so later changes by the caller do not leak in.
 */
export function createMemoryFeatureStore(): FeatureStore & { readonly size: number; clear(): void } {
  const entries = new Map<string, StoredFeature>();
  return {
    get size() {
      return entries.size;
    },
    async get(key) {
      return entries.get(key);
    },
    async put(key, tensor: Tensor<'float32'>, meta) {
      entries.set(key, {
        tensor: { dtype: 'float32', dims: [...tensor.dims], data: tensor.data.slice() },
        meta: { ...meta },
      });
    },
    clear() {
      entries.clear();
    },
  };
}

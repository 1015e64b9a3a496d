import { describe, expect, it } from 'vitest';
import { isShapeFailure } from '../src/index';

describe('isShapeFailure', () => {
  it.each([
    // onnxruntime's own wording for inputs of the wrong shape
    ['Got invalid dimensions for input: input for the following indices index: 1 Got: 2 Expected: 3', true],
    [
      'Invalid rank for input: input Got: 3 Expected: 4 Please fix either the inputs/outputs or the model.',
      true,
    ],
    [
      "Non-zero status code returned while running Conv node. Name:'/conv1/Conv' Status Message: X num_dims does not match W num_dims.",
      false,
    ],
    ['[ShapeInferenceError] Incompatible dimensions', true],
    // failures that are not about the input's shape
    ['Failed to allocate memory for requested buffer of size 123456789', false],
    ['CUDA failure 2: out of memory', false],
  ])('%s → %s', (reason, shape) => {
    expect(isShapeFailure(reason)).toBe(shape);
  });
});

import { z } from 'zod';

const count = z.number().int().nonnegative();
const nullableNumber = z.number().nullable();

/** Table 1: top-k accuracy against the ground truth (top-3 counts include top-1, top-5 include top-3). */
export const AccuracySchema = z.object({
  top1: count,
  top3: count,
  top5: count,
  /** Interpretable, but the true label is not among the first 5 predictions. */
  incorrect: count,
  nonInterpretable: count,
  /** Neurons with both a ground truth and a prediction. */
  total: count,
  interpretable: count,
  /** `top5 / interpretable`; null when no neuron is interpretable. */
  top5AccuracyInterpretable: nullableNumber,
  /** Ground-truth neurons that the Results do not hold (not counted above). */
  missing: count,
});

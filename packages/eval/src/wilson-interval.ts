/** A proportion `successes / trials` with its confidence interval. */
export interface Proportion {
  successes: number;
  trials: number;
  /** `successes / trials`. */
  estimate: number;
  low: number;
  high: number;
}

/** z for a two-sided 95% interval. */
export const Z_95 = 1.96;

/**
 * The Wilson score interval of a proportion x/n: centre `(x + z²/2)/(n + z²)`, half-width
 * `z·sqrt(x(n−x)/n + z²/4)/(n + z²)`. Unlike the normal approximation it stays inside [0, 1]
 * and is honest for small samples and for proportions near 0 or 1. Null for no trials.
 * @param z @defaultValue {@link Z_95} (95%)
 */
export function wilsonInterval(successes: number, trials: number, z = Z_95): Proportion | null {
  if (!Number.isInteger(successes) || !Number.isInteger(trials) || successes < 0 || successes > trials)
    throw new RangeError(`expected whole counts 0 ≤ successes ≤ trials, got ${successes} of ${trials}`);
  if (trials === 0) return null;
  const z2 = z * z;
  const centre = (successes + z2 / 2) / (trials + z2);
  const half = (z * Math.sqrt((successes * (trials - successes)) / trials + z2 / 4)) / (trials + z2);
  return {
    successes,
    trials,
    estimate: successes / trials,
    low: Math.max(0, centre - half),
    high: Math.min(1, centre + half),
  };
}

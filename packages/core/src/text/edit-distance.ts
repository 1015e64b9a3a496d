/**
 * The optimal-string-alignment distance (Damerau-Levenshtein with adjacent transpositions, each
 * substring edited at most once) between `a` and `b`, computed only as far as `max`: returns the
 * distance when it is at most `max`, otherwise `max + 1`. Bounding keeps a scan of a label
 * vocabulary cheap: most pairs are rejected by their length difference or after a few rows.
 */
export function boundedEditDistance(a: string, b: string, max: number): number {
  if (!Number.isInteger(max) || max < 0)
    throw new RangeError(`max must be a non-negative integer, got ${max}`);
  if (a === b) return 0;
  if (Math.abs(a.length - b.length) > max) return max + 1;
  if (a.length === 0 || b.length === 0) return Math.max(a.length, b.length);
  const width = b.length + 1;
  // Three rows: two back (for transpositions), one back, and the current one.
  let twoBack = new Int32Array(width);
  let previous = new Int32Array(width);
  let current = new Int32Array(width);
  for (let j = 0; j < width; j++) previous[j] = j;
  for (let i = 1; i <= a.length; i++) {
    current[0] = i;
    let rowMin = i;
    const ai = a.charCodeAt(i - 1);
    for (let j = 1; j < width; j++) {
      const bj = b.charCodeAt(j - 1);
      const cost = ai === bj ? 0 : 1;
      let value = Math.min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost);
      if (i > 1 && j > 1 && ai === b.charCodeAt(j - 2) && a.charCodeAt(i - 2) === bj) {
        value = Math.min(value, twoBack[j - 2] + 1);
      }
      current[j] = value;
      if (value < rowMin) rowMin = value;
    }
    if (rowMin > max) return max + 1;
    const recycled = twoBack;
    twoBack = previous;
    previous = current;
    current = recycled;
  }
  const distance = previous[width - 1];
  return distance > max ? max + 1 : distance;
}

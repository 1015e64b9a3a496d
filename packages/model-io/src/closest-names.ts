// Levenshtein distance; small inputs only (names of layers), so the O(n·m) table is fine.
function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(
        previous[j] + 1,
        current[j - 1] + 1,
        previous[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
    }
    previous = current;
  }
  return previous[b.length];
}

/** The `count` candidates closest to `name` by edit distance (ties keep candidate order). */
export function closestNames(name: string, candidates: Iterable<string>, count: number): string[] {
  return [...new Set(candidates)]
    .map((candidate, index) => ({ candidate, index, distance: editDistance(name, candidate) }))
    .sort((x, y) => x.distance - y.distance || x.index - y.index)
    .slice(0, count)
    .map((x) => x.candidate);
}

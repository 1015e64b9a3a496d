import { boundedEditDistance } from './edit-distance';

/**
 * Up to `limit` of `candidates` closest to `name` by edit distance (case-insensitive), closest
 * first; at the same distance, candidates that contain the name (or are contained in it) come
 * first, then those whose first differing character is nearest in code point (so `layer5` is
 * closest to `layer4`, not `layer1`). For "did you mean" messages.
 */
export function closestNames(name: string, candidates: readonly string[], limit = 3): string[] {
  const query = name.toLowerCase();
  const scored = candidates.map((candidate, order) => {
    const lower = candidate.toLowerCase();
    const cap = Math.max(query.length, lower.length);
    const distance = boundedEditDistance(query, lower, cap);
    const contains = lower.includes(query) || query.includes(lower) ? 0 : 1;
    let at = 0;
    while (at < query.length && at < lower.length && query[at] === lower[at]) at++;
    const gap =
      at < query.length && at < lower.length ? Math.abs(query.charCodeAt(at) - lower.charCodeAt(at)) : 0;
    return { candidate, distance, contains, gap, order };
  });
  scored.sort(
    (x, y) => x.distance - y.distance || x.contains - y.contains || x.gap - y.gap || x.order - y.order,
  );
  return scored.slice(0, limit).map((s) => s.candidate);
}

/**
 * "a, b, c" listing every name when there are at most `all`, otherwise the closest ones and how
 * many exist: the tail of a one-line "unknown X" message.
 */
export function describeChoices(name: string, candidates: readonly string[], all = 12): string {
  if (candidates.length === 0) return 'there are none';
  if (candidates.length <= all) {
    const closest = closestNames(name, candidates, 1)[0];
    return `use one of ${candidates.join(', ')} (closest: ${closest})`;
  }
  return `closest: ${closestNames(name, candidates, 5).join(', ')} (${candidates.length} in all)`;
}

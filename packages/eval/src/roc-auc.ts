/**
 * ROC-AUC of `scores` as a predictor of `positive`: the probability that a random positive scores
 * above a random negative, ties counting half (the Mann-Whitney U statistic, with average ranks).
 * Returns null when all examples are of one class.
 */
export function rocAuc(scores: readonly number[], positive: readonly boolean[]): number | null {
  if (scores.length !== positive.length)
    throw new RangeError('rocAuc: scores and positive must have the same length');
  const order = scores.map((_, i) => i).sort((a, b) => scores[a] - scores[b]);
  const ranks = new Float64Array(scores.length);
  for (let i = 0; i < order.length; ) {
    let j = i;
    while (j + 1 < order.length && scores[order[j + 1]] === scores[order[i]]) j++;
    const averageRank = (i + j) / 2 + 1;
    for (let k = i; k <= j; k++) ranks[order[k]] = averageRank;
    i = j + 1;
  }
  let positives = 0;
  let rankSum = 0;
  positive.forEach((p, i) => {
    if (p) {
      positives++;
      rankSum += ranks[i];
    }
  });
  const negatives = scores.length - positives;
  if (positives === 0 || negatives === 0) return null;
  return (rankSum - (positives * (positives + 1)) / 2) / (positives * negatives);
}

import type { LabelTrust, LayerTrust } from '@neurodissect/core';
import { SIGNIFICANCE_LEVEL } from '@neurodissect/search';
import type { SiteLayerEntry, SiteManifest } from '../site-data';

// The trust figures of docs/trust.md in words a newcomer reads. Pure functions of the figures, so
// the pages only place them.

/** Where the figures are explained, named as plain text (the site carries no copy of the docs). */
export const TRUST_DOCS = 'docs/trust.md';

/** A p- or q-value to two significant digits: 0.002, 0.01, 0.35, 1. */
export function formatProbability(value: number): string {
  return String(Number(value.toPrecision(2)));
}

/** A count with thousands separators: 1,000. */
export function formatCount(value: number): string {
  return value.toLocaleString('en-US');
}

/** A correlation to two decimals. */
function formatCorrelation(value: number): string {
  return value.toFixed(2);
}

/** `q < 0.05`, the level every significance count and verdict uses. */
export const SIGNIFICANCE_RULE = `q < ${SIGNIFICANCE_LEVEL}`;

/** "12 of 64 significant (q < 0.05)", or undefined when the layer's figures hold no count. */
export function layerSignificanceText(trust: LayerTrust | undefined): string | undefined {
  if (trust?.significant === undefined) return undefined;
  const of = trust.tested === undefined ? '' : ` of ${formatCount(trust.tested)}`;
  return `${formatCount(trust.significant)}${of} significant (${SIGNIFICANCE_RULE})`;
}

/** "mean held-out correlation 0.41 (random labels: 0.05)", or undefined without the figure. */
export function layerHeldOutText(trust: LayerTrust | undefined): string | undefined {
  const heldOut = trust?.heldOut;
  if (heldOut === undefined) return undefined;
  return `mean held-out correlation ${formatCorrelation(heldOut.correlation)} (random labels: ${formatCorrelation(heldOut.baseline)})`;
}

/**
 * "better than 999 of 1,000 random image sets (p = 0.002, q = 0.01)". The count undoes
 * `p = (1 + #{null ≥ s}) / (1 + R)`; without the layer's R only p and q are given.
 */
export function significanceText(
  significance: NonNullable<LabelTrust['significance']>,
  permutations?: number,
): string {
  const values = `p = ${formatProbability(significance.p)}, q = ${formatProbability(significance.q)}`;
  if (permutations === undefined) return values;
  const atLeast = Math.round(significance.p * (permutations + 1)) - 1;
  const beaten = Math.min(permutations, Math.max(0, permutations - atLeast));
  return `better than ${formatCount(beaten)} of ${formatCount(permutations)} random image sets (${values})`;
}

/** "significant (q < 0.05)" or "not significant (q ≥ 0.05)". */
export function significanceVerdict(significance: NonNullable<LabelTrust['significance']>): string {
  return significance.q < SIGNIFICANCE_LEVEL
    ? `significant (${SIGNIFICANCE_RULE})`
    : `not significant (q ≥ ${SIGNIFICANCE_LEVEL})`;
}

/** "same best label in 18 of 20 resamples; in the top 5 in 20". */
export function stabilityText(stability: NonNullable<LabelTrust['stability']>): string {
  const { resamples } = stability;
  const top1 = Math.round(stability.top1 * resamples);
  const top5 = Math.round(stability.top5 * resamples);
  return `same best label in ${formatCount(top1)} of ${formatCount(resamples)} resamples; in the top 5 in ${formatCount(top5)}`;
}

/**
 * "held-out correlation 0.41 (random labels: 0.05)"; the baseline is the layer's, when known.
 * Where the label is an annotation label: "; against the annotations: correlation 0.52, average
 * precision 0.61".
 */
export function heldOutText(heldOut: NonNullable<LabelTrust['heldOut']>, baseline?: number): string {
  const random = baseline === undefined ? '' : ` (random labels: ${formatCorrelation(baseline)})`;
  const masks = [
    heldOut.maskCorrelation === undefined
      ? undefined
      : `correlation ${formatCorrelation(heldOut.maskCorrelation)}`,
    heldOut.auprc === undefined ? undefined : `average precision ${formatCorrelation(heldOut.auprc)}`,
  ].filter((part) => part !== undefined);
  const annotations = masks.length === 0 ? '' : `; against the annotations: ${masks.join(', ')}`;
  return `held-out correlation ${formatCorrelation(heldOut.correlation)}${random}${annotations}`;
}

/** Whether a labeler's label trust holds any figure the neuron page shows. */
export function hasLabelTrust(trust: LabelTrust | undefined): trust is LabelTrust {
  return (
    trust !== undefined &&
    (trust.significance !== undefined || trust.stability !== undefined || trust.heldOut !== undefined)
  );
}

/** Whether some layer of the site has a significance count for `labeler` (any labeler when absent). */
export function hasSignificance(layers: readonly SiteLayerEntry[], labeler?: string): boolean {
  return layers.some((layer) =>
    Object.entries(layer.trust ?? {}).some(
      ([id, trust]) => (labeler === undefined || id === labeler) && trust.significant !== undefined,
    ),
  );
}

/** Whether the site has any significance count, so the overview and search offer them. */
export function siteHasSignificance(manifest: Pick<SiteManifest, 'layers'>): boolean {
  return hasSignificance(manifest.layers);
}

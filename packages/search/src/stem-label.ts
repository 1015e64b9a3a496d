import { normalizeLabel } from '@neurodissect/core';
import { stemmer } from 'stemmer';

/**
 * The stem key of a label: its normalised form ({@link normalizeLabel}) with each word reduced by
 * the Porter stemmer, so `stripe`, `stripes`, `striped` and `striping` share the key `stripe`.
 */
export function stemLabel(label: string): string {
  const normalized = normalizeLabel(label);
  if (normalized === '') return '';
  return normalized
    .split(' ')
    .map((word) => stemmer(word))
    .join(' ');
}

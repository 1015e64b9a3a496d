/**
 * The default typo allowance for a query of `length` characters: none below 4 characters (short
 * words have too many neighbours), 1 up to 7, 2 from 8.
 */
export function defaultMaxDistance(length: number): number {
  if (length < 4) return 0;
  if (length < 8) return 1;
  return 2;
}

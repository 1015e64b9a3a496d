import { InvalidArgumentError } from 'commander';

/** Parses a finite number option. */
export function number(value: string): number {
  const parsed = Number(value);
  if (value.trim() === '' || !Number.isFinite(parsed))
    throw new InvalidArgumentError(`"${value}" is not a number.`);
  return parsed;
}

/** Parses an integer option. */
export function integer(value: string): number {
  const parsed = number(value);
  if (!Number.isInteger(parsed)) throw new InvalidArgumentError(`"${value}" is not an integer.`);
  return parsed;
}

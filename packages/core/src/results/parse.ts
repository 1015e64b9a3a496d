import { z } from 'zod';
import { ErrorCode, NeurodissectError } from '../errors';
import { RESULTS_FORMAT, RESULTS_VERSION, type Results, ResultsSchema } from './schema';

/** One problem found in a Results document. */
export interface ResultsIssue {
  /** JSON path, e.g. `layers[0].neurons[3].labels.clip-dissect[0].score`. */
  path: string;
  message: string;
}

/** The outcome of {@link validateResults}. */
export type ResultsValidation =
  | { ok: true; version: number; results: Results; migratedFrom?: number }
  | { ok: false; version?: number; issues: ResultsIssue[] };

/**
 * Migrations from each older version to the next, keyed by the version they read. Version 1 is
 * the first published version, so the chain is empty; a future version 2 adds `1: v1 → v2` here
 * and every reader keeps accepting version-1 files.
 */
const MIGRATIONS: Readonly<Record<number, (doc: Record<string, unknown>) => Record<string, unknown>>> = {};

function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else out += out === '' ? String(key) : `.${String(key)}`;
  }
  return out === '' ? '(root)' : out;
}

/** Checks a parsed JSON value against the Results schema (any known version), migrating older ones. */
export function validateResults(value: unknown): ResultsValidation {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { ok: false, issues: [{ path: '(root)', message: 'expected a JSON object' }] };
  }
  let doc = value as Record<string, unknown>;
  if (doc.format !== RESULTS_FORMAT) {
    return {
      ok: false,
      issues: [
        { path: 'format', message: `expected "${RESULTS_FORMAT}", found ${JSON.stringify(doc.format)}` },
      ],
    };
  }
  const version = doc.version;
  if (typeof version !== 'number' || !Number.isInteger(version) || version < 1) {
    return {
      ok: false,
      issues: [{ path: 'version', message: `expected a positive integer, found ${JSON.stringify(version)}` }],
    };
  }
  if (version > RESULTS_VERSION) {
    return {
      ok: false,
      version,
      issues: [
        {
          path: 'version',
          message: `version ${version} is newer than this reader (${RESULTS_VERSION}); upgrade @neurodissect/core`,
        },
      ],
    };
  }
  for (let v = version; v < RESULTS_VERSION; v++) {
    const migrate = MIGRATIONS[v];
    if (!migrate)
      return { ok: false, version, issues: [{ path: 'version', message: `no migration from version ${v}` }] };
    doc = migrate(doc);
  }
  const parsed = ResultsSchema.safeParse(doc);
  if (!parsed.success) {
    return {
      ok: false,
      version,
      issues: parsed.error.issues.map((issue) => ({ path: formatPath(issue.path), message: issue.message })),
    };
  }
  return version === RESULTS_VERSION
    ? { ok: true, version, results: parsed.data }
    : { ok: true, version: RESULTS_VERSION, results: parsed.data, migratedFrom: version };
}

/**
 * Parses a Results document (a JSON string or an already-parsed value), migrating older versions.
 * Throws an {@link ErrorCode.InvalidResults} (or {@link ErrorCode.UnsupportedVersion}) error whose
 * message lists each problem as `path: problem`.
 */
export function parseResults(input: string | unknown, source = 'Results document'): Results {
  let value: unknown = input;
  if (typeof input === 'string') {
    try {
      value = JSON.parse(input);
    } catch (cause) {
      throw new NeurodissectError(
        ErrorCode.InvalidResults,
        `${source} is not valid JSON: ${(cause as Error).message}`,
        {
          cause,
        },
      );
    }
  }
  const validation = validateResults(value);
  if (validation.ok) return validation.results;
  const newer = validation.version !== undefined && validation.version > RESULTS_VERSION;
  const shown = validation.issues.slice(0, 20).map((i) => `  ${i.path}: ${i.message}`);
  if (validation.issues.length > 20) shown.push(`  … and ${validation.issues.length - 20} more`);
  throw new NeurodissectError(
    newer ? ErrorCode.UnsupportedVersion : ErrorCode.InvalidResults,
    `${source} is not a valid Results document:\n${shown.join('\n')}`,
    { details: { issues: validation.issues, version: validation.version } },
  );
}

/**
 * The Results schema as JSON Schema (draft 2020-12), for other languages and editors; its `$id`
 * names the version. The same schema ships as `@neurodissect/core/schema/results-v1.json`.
 */
export function resultsJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(ResultsSchema, { target: 'draft-2020-12', unrepresentable: 'any' }) as Record<
    string,
    unknown
  >;
  return {
    $schema: schema.$schema,
    $id: `urn:neurodissect:schema:results-v${RESULTS_VERSION}`,
    title: `neurodissect Results document, version ${RESULTS_VERSION}`,
    ...schema,
  };
}

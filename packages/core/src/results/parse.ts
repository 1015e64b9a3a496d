import { z } from 'zod';
import { ErrorCode, NeurodissectError } from '../errors';
import { RESULTS_FORMAT, RESULTS_VERSION, type Results, ResultsSchema, ResultsV1Schema } from './schema';

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
 * Migrations from each older version to the next, keyed by the version they read, so every reader
 * keeps accepting older files. 1 → 2: version 1 is checked as it was written, then carried over
 * unchanged but for its version (version 2 only adds the optional `trust` figures and neuron
 * `relations`; a version-1 document holds neither, and one that claims them is not a valid
 * version-1 document).
 */
const MIGRATIONS: Readonly<Record<number, (doc: Record<string, unknown>) => Record<string, unknown>>> = {
  1: (doc) => {
    const checked = ResultsV1Schema.safeParse(doc);
    if (!checked.success) throw new MigrationError(checked.error.issues);
    const layers = (doc.layers as unknown[] | undefined) ?? [];
    const claimsTrust = layers.some((layer) => {
      const l = layer as { trust?: unknown; neurons?: { trust?: unknown }[] };
      return l.trust !== undefined || (l.neurons ?? []).some((n) => n.trust !== undefined);
    });
    if (claimsTrust) {
      throw new MigrationError([
        { path: ['version'], message: 'a version-1 document has no "trust" figures; write version 2' },
      ]);
    }
    const claimsRelations = layers.some((layer) =>
      ((layer as { neurons?: { relations?: unknown }[] }).neurons ?? []).some(
        (n) => n.relations !== undefined,
      ),
    );
    if (claimsRelations) {
      throw new MigrationError([
        { path: ['version'], message: 'a version-1 document has no "relations"; write version 2' },
      ]);
    }
    return { ...doc, version: 2 };
  },
};

/** A migration found the older document invalid. */
class MigrationError extends Error {
  constructor(readonly issues: readonly { path: readonly PropertyKey[]; message: string }[]) {
    super('invalid document');
  }
}

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
    try {
      doc = migrate(doc);
    } catch (error) {
      if (!(error instanceof MigrationError)) throw error;
      return {
        ok: false,
        version,
        issues: error.issues.map((issue) => ({ path: formatPath(issue.path), message: issue.message })),
      };
    }
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
 * names the version. The same schema ships as `@neurodissect/core/schema/results-v2.json` (and version 1's as `results-v1.json`).
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

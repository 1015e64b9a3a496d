import { ErrorCode, NeurodissectError } from './errors';

/** A concept that appeared more than once. */
export interface DuplicateConcept {
  concept: string;
  /** 1-based line of the repeat. */
  line: number;
  /** 1-based line where the concept was first seen (the one kept). */
  firstLine: number;
}

/** A normalised concept set: what every stage of the pipeline uses. */
export interface ConceptSet {
  /** Concepts in file order, trimmed, without blanks or repeats. Index = concept id. */
  readonly concepts: readonly string[];
  /** 1-based line of each concept in the source. */
  readonly lines: readonly number[];
  /** Repeats that were dropped. */
  readonly duplicates: readonly DuplicateConcept[];
  /** 1-based lines that were blank (dropped). */
  readonly blankLines: readonly number[];
  /** Whether the text started with a byte-order mark (stripped). */
  readonly hadBom: boolean;
  /** Where the set came from, for messages. */
  readonly source?: string;
  /** 1-based lines whose bytes were not valid UTF-8 (their bad bytes became U+FFFD); see {@link parseConceptSetBytes}. */
  readonly invalidUtf8Lines?: readonly number[];
  /** The encoding a file was read in when it was not UTF-8 (detected by {@link parseConceptSetBytes}). */
  readonly encoding?: 'utf-16le' | 'utf-16be';
}

/** The longest concept a concept list may hold, in characters, by default. */
export const MAX_CONCEPT_LENGTH = 1000;

/** `text` as a message quotes it: at most 80 characters (the rest elided), in double quotes. */
function quoteForMessage(text: string, max = 80): string {
  return JSON.stringify(text.length > max ? `${text.slice(0, max - 1)}…` : text);
}

/** The code of the first control character in `text` other than tab, or `undefined`. */
function firstControlCharacter(text: string): number | undefined {
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if ((code < 0x20 && code !== 0x09) || code === 0x7f) return code;
  }
  return undefined;
}

/** Options of {@link parseConceptSet}. */
export interface ParseConceptSetOptions {
  /** A name for the source (a file path) used in messages. */
  source?: string;
  /** Allow a set with no concepts (otherwise an {@link ErrorCode.EmptyConceptSet} error). @defaultValue false */
  allowEmpty?: boolean;
  /**
   * The longest concept allowed, in characters: a longer line is refused (`ND_INVALID_FORMAT`
   * naming the line) before anything is embedded. @defaultValue {@link MAX_CONCEPT_LENGTH}
   */
  maxLength?: number;
}

/**
 * Parses a concept list (one concept per line) and normalises it once: strips a BOM, trims each
 * line, drops blank lines and repeated concepts (reporting them with their lines). Every stage uses
 * the returned list, so concept ids never shift (the reference's blank-line defect cannot happen).
 */
export function parseConceptSet(text: string, options: ParseConceptSetOptions = {}): ConceptSet {
  const hadBom = text.charCodeAt(0) === 0xfeff;
  const body = hadBom ? text.slice(1) : text;
  const rawLines = body.split(/\r\n|\n|\r/);
  if (rawLines.length > 0 && rawLines[rawLines.length - 1] === '') rawLines.pop();
  const concepts: string[] = [];
  const lines: number[] = [];
  const duplicates: DuplicateConcept[] = [];
  const blankLines: number[] = [];
  const firstSeen = new Map<string, number>();
  const maxLength = options.maxLength ?? MAX_CONCEPT_LENGTH;
  const where = options.source ? `${options.source} line` : 'line';
  rawLines.forEach((raw, i) => {
    const line = i + 1;
    const concept = raw.trim();
    if (concept.length > maxLength) {
      throw new NeurodissectError(
        ErrorCode.InvalidFormat,
        `${where} ${line} is ${concept.length} characters long (it starts ${quoteForMessage(concept, 40)}); a concept may have at most ${maxLength}: is this a concept list, one concept per line?`,
        { details: { path: options.source, line } },
      );
    }
    // Control characters (NUL from a UTF-16 file read as UTF-8, escape codes) make no word.
    const control = firstControlCharacter(concept);
    if (control !== undefined) {
      throw new NeurodissectError(
        ErrorCode.InvalidFormat,
        `${where} ${line} holds the control character U+${control.toString(16).toUpperCase().padStart(4, '0')}; save the concept list as plain UTF-8 text, one concept per line.`,
        { details: { path: options.source, line } },
      );
    }
    if (concept === '') {
      blankLines.push(line);
      return;
    }
    const first = firstSeen.get(concept);
    if (first !== undefined) {
      duplicates.push({ concept, line, firstLine: first });
      return;
    }
    firstSeen.set(concept, line);
    concepts.push(concept);
    lines.push(line);
  });
  if (concepts.length === 0 && !options.allowEmpty) {
    throw new NeurodissectError(
      ErrorCode.EmptyConceptSet,
      `The concept set${options.source ? ` ${options.source}` : ''} has no concepts; put one concept per line.`,
      { details: { source: options.source } },
    );
  }
  return { concepts, lines, duplicates, blankLines, hadBom, source: options.source };
}

/**
 * {@link parseConceptSet} on a file's bytes, decoded as UTF-8. Bytes that are not valid UTF-8
 * become U+FFFD, and the lines that held them are listed in `invalidUtf8Lines` (and said by
 * {@link describeConceptSetChanges}) rather than passing silently as other concepts. A UTF-16
 * file (by its byte-order mark, or its zero bytes) is read as UTF-16, and `encoding` says so.
 */
export function parseConceptSetBytes(bytes: Uint8Array, options: ParseConceptSetOptions = {}): ConceptSet {
  const utf16 = utf16Encoding(bytes);
  if (utf16) {
    const text = new TextDecoder(utf16).decode(bytes);
    return { ...parseConceptSet(text, options), encoding: utf16 };
  }
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    text = new TextDecoder('utf-8').decode(bytes);
    const set = parseConceptSet(text, options);
    const body = set.hadBom ? text.slice(1) : text;
    const invalidUtf8Lines = body
      .split(/\r\n|\n|\r/)
      .map((line, i) => (line.includes('\ufffd') ? i + 1 : 0))
      .filter((line) => line > 0);
    return { ...set, invalidUtf8Lines };
  }
  return parseConceptSet(text, options);
}

/**
 * UTF-16 by its byte-order mark, or (without one) by its zero bytes: text in UTF-16 has a zero
 * byte in every other place for Latin letters, which UTF-8 text never has.
 */
function utf16Encoding(bytes: Uint8Array): 'utf-16le' | 'utf-16be' | undefined {
  if (bytes.length >= 2 && bytes[0] === 0xff && bytes[1] === 0xfe) return 'utf-16le';
  if (bytes.length >= 2 && bytes[0] === 0xfe && bytes[1] === 0xff) return 'utf-16be';
  const sample = Math.min(bytes.length - (bytes.length % 2), 4096);
  if (sample < 4) return undefined;
  let evenZeros = 0;
  let oddZeros = 0;
  for (let i = 0; i < sample; i += 2) {
    if (bytes[i] === 0) evenZeros++;
    if (bytes[i + 1] === 0) oddZeros++;
  }
  const pairs = sample / 2;
  if (oddZeros >= pairs * 0.7 && evenZeros < pairs * 0.05) return 'utf-16le';
  if (evenZeros >= pairs * 0.7 && oddZeros < pairs * 0.05) return 'utf-16be';
  return undefined;
}

/** Builds a {@link ConceptSet} from an array (normalised the same way as a file). */
export function conceptSetFromList(
  list: readonly string[],
  options: ParseConceptSetOptions = {},
): ConceptSet {
  // A list made in code (labels of a Results document, say) is not bounded as a file is.
  return parseConceptSet(list.join('\n'), { maxLength: Number.POSITIVE_INFINITY, ...options });
}

/** One-line summary of what normalisation changed, or `undefined` when nothing did. */
export function describeConceptSetChanges(set: ConceptSet): string | undefined {
  const parts: string[] = [];
  if (set.encoding) parts.push(`read as ${set.encoding.toUpperCase()} (save it as UTF-8)`);
  if (set.hadBom) parts.push('stripped a byte-order mark');
  const invalid = set.invalidUtf8Lines ?? [];
  if (invalid.length > 0) {
    parts.push(
      `${invalid.length} line(s) are not valid UTF-8 (line ${invalid.slice(0, 5).join(', ')}${invalid.length > 5 ? ', …' : ''}): their bad bytes became U+FFFD; save the file as UTF-8`,
    );
  }
  if (set.blankLines.length > 0) parts.push(`dropped ${set.blankLines.length} blank line(s)`);
  if (set.duplicates.length > 0) {
    const shown = set.duplicates
      .slice(0, 3)
      .map((d) => `${quoteForMessage(d.concept)} (line ${d.line}, first on line ${d.firstLine})`)
      .join(', ');
    parts.push(
      `dropped ${set.duplicates.length} duplicate(s): ${shown}${set.duplicates.length > 3 ? ', …' : ''}`,
    );
  }
  return parts.length > 0 ? `${set.source ?? 'concept set'}: ${parts.join('; ')}` : undefined;
}

/**
 * The form used to compare labels (case-insensitive, whitespace collapsed, `_` as space): how eval
 * and search match a predicted label to a ground-truth one.
 */
export function normalizeLabel(label: string): string {
  return label.normalize('NFKC').replace(/_/g, ' ').trim().replace(/\s+/g, ' ').toLowerCase();
}

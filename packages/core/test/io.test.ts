import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  ErrorCode,
  formatCsv,
  formatDescriptionsCsv,
  parseCsv,
  parseDescriptionsCsv,
  parseNpy,
  serializeNpy,
} from '../src/index';

const fixture = (name: string) =>
  new Uint8Array(readFileSync(new URL(`./fixtures/npy/${name}`, import.meta.url)));

describe('.npy', () => {
  it('reads float64 and int64 arrays written by numpy', () => {
    const f64 = parseNpy(fixture('f64.npy'));
    expect(f64.dtype).toBe('float64');
    expect(f64.dims).toEqual([3, 2]);
    expect(Array.from(f64.data as Float64Array)).toEqual([1.5, -2, 3.25, 4, 5, 6]);
    const i64 = parseNpy(fixture('i64.npy'));
    expect(i64.dtype).toBe('int64');
    expect(Array.from(i64.data as BigInt64Array)).toEqual([7n, -8n, 9n]);
  });

  it('round-trips float32 through its own writer and aligns data to 64 bytes', () => {
    const data = Float32Array.from([0.5, -1, 2, Math.PI]);
    const bytes = serializeNpy({ dtype: 'float32', dims: [2, 2], data });
    expect((new DataView(bytes.buffer).getUint16(8, true) + 10) % 64).toBe(0);
    const back = parseNpy(bytes);
    expect(back.dims).toEqual([2, 2]);
    expect(Array.from(back.data as Float32Array)).toEqual(Array.from(data));
  });

  it('reads from a view into a larger buffer (as Node Buffers are)', () => {
    const bytes = serializeNpy({ dtype: 'float32', dims: [2], data: Float32Array.from([1, 2]) });
    const padded = new Uint8Array(bytes.length + 3);
    padded.set(bytes, 3);
    expect(Array.from(parseNpy(padded.subarray(3)).data as Float32Array)).toEqual([1, 2]);
  });

  it('rejects unsupported dtypes, Fortran order, big-endian and truncation with a fix', () => {
    expect(() => parseNpy(fixture('f16.npy'), 'f16.npy')).toThrow(
      /f16.npy: dtype '<f2' is not supported.*astype\('float32'\)/,
    );
    expect(() => parseNpy(fixture('fort.npy'))).toThrow(/Fortran order.*ascontiguousarray/);
    expect(() => parseNpy(fixture('be.npy'))).toThrow(
      expect.objectContaining({ code: ErrorCode.UnsupportedDtype }),
    );
    const whole = fixture('f64.npy');
    expect(() => parseNpy(whole.subarray(0, whole.length - 8), 'x.npy')).toThrow(
      /x.npy: the file is truncated/,
    );
    expect(() => parseNpy(new TextEncoder().encode('hello world'), 'a.txt')).toThrow(/not a .npy file/);
  });
});

describe('CSV', () => {
  it('parses quotes, embedded commas, quotes and newlines, CRLF and a BOM, with line numbers', () => {
    const text = '\ufeffa,b\r\n"x, y","say ""hi"""\r\n\r\n"multi\nline",z\n';
    expect(parseCsv(text)).toEqual([
      { line: 1, fields: ['a', 'b'] },
      { line: 2, fields: ['x, y', 'say "hi"'] },
      { line: 4, fields: ['multi\nline', 'z'] },
    ]);
  });
  it('keeps empty fields', () => {
    expect(parseCsv('a,,c\n,\n')).toEqual([
      { line: 1, fields: ['a', '', 'c'] },
      { line: 2, fields: ['', ''] },
    ]);
  });
  it('reports an unclosed quote with its line', () => {
    expect(() => parseCsv('a\n"open,b\n', 'f.csv')).toThrow('f.csv:2: a quoted field is never closed.');
  });
  it('round-trips through formatCsv', () => {
    const rows = [
      ['a', 'b, c', 'd "e"'],
      ['1', ' padded ', 'line\nbreak'],
    ];
    expect(parseCsv(formatCsv(rows)).map((r) => r.fields)).toEqual(rows);
  });
});

describe("CLIP-Dissect's descriptions.csv", () => {
  it('parses the published file format', () => {
    const text = readFileSync(new URL('./fixtures/descriptions-head.csv', import.meta.url), 'utf8');
    const rows = parseDescriptionsCsv(text);
    expect(rows[0]).toEqual({ layer: 'conv1', unit: 0, description: 'red', similarity: 0.25616455 });
    expect(rows).toHaveLength(8);
  });
  it('round-trips', () => {
    const rows = [{ layer: 'layer4', unit: 3, description: 'a, b', similarity: 0.5 }];
    expect(parseDescriptionsCsv(formatDescriptionsCsv(rows))).toEqual(rows);
  });
  it('names file, line and problem for malformed rows', () => {
    expect(() =>
      parseDescriptionsCsv('layer,unit,description,similarity\nl,1,x,0.1\nl,one,x,0.2\n', 'd.csv'),
    ).toThrow('d.csv:3: unit "one" is not a non-negative integer.');
    expect(() => parseDescriptionsCsv('layer,unit,description,similarity\nl,1,x\n', 'd.csv')).toThrow(
      'd.csv:2: expected 4 fields, found 3.',
    );
    expect(() => parseDescriptionsCsv('a,b\n', 'd.csv')).toThrow(/d.csv:1: expected the header/);
  });
});

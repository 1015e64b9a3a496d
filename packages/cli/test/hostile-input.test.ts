import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fixturePath } from '../../../scripts/test-setup/fixtures';
import { pathForDocument } from '../src/files';
import { runCli } from '../src/program';
import { terminalSafe } from '../src/terminal';
import { cli, tempDir } from './helpers';

describe('terminal output', () => {
  it('escapes control characters but keeps text, tabs and newlines', () => {
    const esc = String.fromCharCode(27);
    expect(terminalSafe(`red${esc}[31m\tok\nline\r${String.fromCharCode(0x9b)}2J`)).toBe(
      'red\\u001b[31m\tok\nline\\u000d\\u009b2J',
    );
    expect(terminalSafe('plain ünïcode ✓')).toBe('plain ünïcode ✓');
    // The escapes are valid JSON string escapes.
    expect(JSON.parse(`"${terminalSafe(`a${esc}b`)}"`)).toBe(`a${esc}b`);
  });

  it('never lets an input file’s control characters reach the terminal through an error', async () => {
    const dir = tempDir();
    const bad = join(dir, `evil${String.fromCharCode(27)}[2J.npy`);
    writeFileSync(bad, 'not npy');
    const result = await cli('score', '--activations', bad, '--clip-sim', bad, '--out', join(dir, 'x.npy'));
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('evil\\u001b[2J.npy');
    expect(result.stderr.includes(String.fromCharCode(27))).toBe(false);
  });
});

describe('outputs of the wrong kind', () => {
  it('are refused up front with one line, leaving nothing behind', async () => {
    const dir = tempDir();
    const file = join(dir, 'a-file');
    writeFileSync(file, 'x');
    for (const args of [
      ['activations', '--model', 'm.onnx', '--layers', 'layer1', '--images', dir, '--out', file],
      ['eval', '--results', 'r.json', '--out', file],
      ['site', '--results', 'r.json', '--out', file],
      ['import', 'clip-search', dir, '--out', dir],
    ]) {
      const result = await cli(...args);
      expect(result.code).toBe(2);
      expect(result.stderr).toMatch(/^neurodissect: --out: .* is a (file|folder)/);
      expect(result.stderr.trim().split('\n')).toHaveLength(1);
    }
    expect(readdirSync(dir).sort()).toEqual(['a-file']);
  });
});

describe('paths recorded in documents', () => {
  it('are relative to the document, with forward slashes', () => {
    expect(pathForDocument('/home/me/models/resnet50.onnx', '/home/me/runs/results.json')).toBe(
      '../models/resnet50.onnx',
    );
    // Sharing only the root, a relative path would spell out the machine's layout: the name only.
    expect(pathForDocument('/data/models/resnet50.onnx', '/home/me/runs/results.json')).toBe('resnet50.onnx');
    expect(pathForDocument('/home/me/runs/gt.csv', '/home/me/runs/report/report.json')).toBe('../gt.csv');
    expect(pathForDocument('/home/me/runs/results.json', '/home/me/runs/results.json')).toBe('results.json');
  });
});

describe('an error no command expected', () => {
  const model = fixturePath('runtime-node', 'resnet', 'narrow-resnet.onnx');
  // Standard output that fails on write, as a closed pipe can.
  const brokenOut = () => {
    let stderr = '';
    return {
      io: {
        stdout: {
          write: () => {
            throw new Error('the pipe broke');
          },
        },
        stderr: { write: (text: string) => (stderr += text) },
      },
      stderr: () => stderr,
    };
  };

  it('is one line with exit 70 and a pointer to --debug, never a stack trace', async () => {
    const run = brokenOut();
    expect(await runCli(['layers', '--model', model], run.io)).toBe(70);
    expect(run.stderr()).toBe(
      'neurodissect: unexpected error: the pipe broke (run with --debug for details)\n',
    );
  });

  it('shows its details with --debug, wherever the flag is', async () => {
    const run = brokenOut();
    expect(await runCli(['layers', '--debug', '--model', model], run.io)).toBe(70);
    const lines = run.stderr().split('\n');
    expect(lines[0]).toBe('neurodissect: unexpected error: the pipe broke (run with --debug for details)');
    expect(lines[1]).toBe('Error: the pipe broke');
    expect(lines.some((line) => /^\s+at /.test(line))).toBe(true);
  });
});

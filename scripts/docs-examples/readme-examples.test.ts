import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ts from 'typescript';
import { afterAll, describe, expect, it } from 'vitest';
import { parseResults } from '../../packages/core/src/index';

// Every package's README is its npm page: it must say how to install the package and show it in
// use, and every TypeScript example in the READMEs and docs must compile against the packages as
// they are, so a renamed API breaks this test rather than a reader's first try.
const root = new URL('../../', import.meta.url).pathname;
const packages = readdirSync(join(root, 'packages')).filter((name) => {
  try {
    readFileSync(join(root, 'packages', name, 'package.json'));
    return true;
  } catch {
    return false;
  }
});

function tsBlocks(markdown: string): string[] {
  return [...markdown.matchAll(/^```ts\n([\s\S]*?)^```$/gm)].map((m) => m[1]);
}

// Each block is compiled as a module of the package whose README (or, for docs/, of core) holds it,
// so that the workspace's packages resolve as they do for that package.
const checkFolders: string[] = [];
afterAll(() => {
  for (const folder of checkFolders) rmSync(folder, { recursive: true, force: true });
});

describe('package READMEs', () => {
  it.each(packages)('%s has an install line and a TypeScript example', (name) => {
    const readme = readFileSync(join(root, 'packages', name, 'README.md'), 'utf8');
    const manifest = JSON.parse(readFileSync(join(root, 'packages', name, 'package.json'), 'utf8'));
    expect(readme).toMatch(new RegExp(`^# ${manifest.name.replace('/', '\\/')}$`, 'm'));
    expect(readme).toMatch(new RegExp(`npm install [^\\n]*${manifest.name.replace('/', '\\/')}`));
    expect(tsBlocks(readme).length).toBeGreaterThan(0);
  });

  it('every TypeScript block of the READMEs and docs type-checks', { timeout: 120_000 }, () => {
    const files: string[] = [];
    const origin = new Map<string, string>();
    const add = (owner: string, source: string, markdown: string) => {
      tsBlocks(markdown).forEach((block, i) => {
        // Browser examples compile where runtime-web resolves (the viewer, which uses it).
        const folder = join(
          root,
          'packages',
          block.includes('@neurodissect/runtime-web') ? 'viewer' : owner,
          '.docs-examples',
        );
        mkdirSync(folder, { recursive: true });
        if (!checkFolders.includes(folder)) checkFolders.push(folder);
        const file = join(folder, `${source.replace(/[^A-Za-z0-9]/g, '_')}-${i + 1}.ts`);
        // A block is a module (top-level await allowed) even when it imports nothing.
        writeFileSync(file, `${block}\nexport {};\n`);
        files.push(file);
        origin.set(file, `${source}, TypeScript block ${i + 1}`);
      });
    };
    for (const name of packages) {
      add(
        name,
        `packages/${name}/README.md`,
        readFileSync(join(root, 'packages', name, 'README.md'), 'utf8'),
      );
    }
    add('cli', 'README.md', readFileSync(join(root, 'README.md'), 'utf8'));
    for (const doc of readdirSync(join(root, 'docs')).filter((f) => f.endsWith('.md'))) {
      add('cli', `docs/${doc}`, readFileSync(join(root, 'docs', doc), 'utf8'));
    }
    expect(files.length).toBeGreaterThan(packages.length);
    const program = ts.createProgram(files, {
      target: ts.ScriptTarget.ES2022,
      module: ts.ModuleKind.ESNext,
      moduleResolution: ts.ModuleResolutionKind.Bundler,
      lib: ['lib.es2023.d.ts', 'lib.dom.d.ts'],
      strict: true,
      skipLibCheck: true,
      noEmit: true,
      esModuleInterop: true,
      resolveJsonModule: true,
      customConditions: ['@neurodissect/source'],
      types: ['node'],
      typeRoots: [join(root, 'packages', 'cli', 'node_modules', '@types')],
    });
    const problems = ts
      .getPreEmitDiagnostics(program)
      .filter((d) => d.file && files.includes(d.file.fileName))
      .map((d) => {
        const { line } = d.file!.getLineAndCharacterOfPosition(d.start ?? 0);
        return `${origin.get(d.file!.fileName)}, line ${line + 1}: ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`;
      });
    expect(problems).toEqual([]);
  });
});

describe("the root README's library quick start", () => {
  it('runs as written and writes a valid Results document', { timeout: 180_000 }, async () => {
    const readme = readFileSync(join(root, 'README.md'), 'utf8');
    const section = readme.slice(readme.indexOf('## As a library'));
    const [block] = tsBlocks(section);
    expect(block).toContain('createDissection');
    const folder = join(root, 'packages', 'cli', '.docs-examples');
    mkdirSync(folder, { recursive: true });
    if (!checkFolders.includes(folder)) checkFolders.push(folder);
    const file = join(folder, 'quick-start-run.ts');
    writeFileSync(file, `${block}\nexport {};\n`);
    const work = mkdtempSync(join(tmpdir(), 'neurodissect-quick-start-'));
    const cwd = process.cwd();
    process.chdir(work);
    try {
      await import(file);
    } finally {
      process.chdir(cwd);
    }
    const results = parseResults(readFileSync(join(work, 'results.json'), 'utf8'));
    expect(results.layers.map((l) => [l.name, l.units])).toEqual([['layer4', 128]]);
    expect(results.labelers.map((l) => l.id)).toEqual(['clip-dissect', 'netdissect']);
    expect(results.failures).toEqual([]);
    rmSync(work, { recursive: true, force: true });
  });
});

import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  type Comparison,
  createRandom,
  parseResults,
  type Results,
  randomPermutation,
} from '@neurodissect/core';
import { TOYWORLD_LABELS } from '@neurodissect/toyworld';
import { toyWorldModelPaths, writeToyWorld } from '@neurodissect/toyworld/node';
import { beforeAll, describe, expect, it } from 'vitest';
import { gatherChannels } from '../../../scripts/test-setup/channel-gather';
import { cli, tempDir } from './helpers';

// The toy world's target against copies of itself: one whose layer4 units come out in another
// order (a Gather after layer4), one whose units 〈perturbed〉 give other units' activations.
describe('neurodissect compare', () => {
  const work = tempDir();
  const models = toyWorldModelPaths();
  const cache = join(work, 'cache');
  const concepts = join(work, 'concepts.txt');
  const layer4Units = 128;
  const permutation = randomPermutation(layer4Units, createRandom(31));
  let original: Results;

  const dissect = async (model: string, out: string, probe = join(work, 'probe')) => {
    const result = await cli(
      'dissect',
      '--model',
      model,
      '--layers',
      'layer3,layer4',
      '--clip',
      models.clipDir,
      '--probe',
      `broden:${probe}`,
      '--concepts',
      concepts,
      '--input-size',
      '64',
      '--batch-size',
      '100',
      '--null',
      '0',
      '--held-out',
      '0',
      '--cache',
      cache,
      '--out',
      out,
    );
    expect(result.stderr.replace(/^note: .*\n/gm, '')).toBe('');
    expect(result.code).toBe(0);
    return parseResults(readFileSync(out, 'utf8'));
  };
  const compare = async (a: string, b: string, out: string, ...more: string[]) => {
    const result = await cli('compare', a, b, '--cache', cache, '--out', out, ...more);
    return {
      ...result,
      comparison:
        result.code === 0
          ? (JSON.parse(readFileSync(join(out, 'compare.json'), 'utf8')) as Comparison)
          : undefined,
    };
  };

  beforeAll(async () => {
    await writeToyWorld(join(work, 'probe'), { seed: 3, count: 300 });
    writeFileSync(concepts, TOYWORLD_LABELS.map((l) => l.name).join('\n'));
    original = await dissect(models.targetModel, join(work, 'a.json'));
    const bytes = readFileSync(models.targetModel);
    writeFileSync(join(work, 'permuted.onnx'), gatherChannels(bytes, 'layer4', [...permutation]));
  }, 300_000);

  it('recovers a permutation of layer4 as mutual best matches with r = 1, with no label drift', {
    timeout: 300_000,
  }, async () => {
    await dissect(join(work, 'permuted.onnx'), join(work, 'permuted.json'));
    const { code, stdout, stderr, comparison } = await compare(
      join(work, 'a.json'),
      join(work, 'permuted.json'),
      join(work, 'cmp-permuted'),
    );
    expect(stderr).toBe('');
    expect(code).toBe(0);
    const c = comparison!;
    expect(c.sameArchitecture).toBe(true);
    expect(c.layers.map((p) => [p.a, p.b])).toEqual([
      ['layer3', 'layer3'],
      ['layer3', 'layer4'],
      ['layer4', 'layer3'],
      ['layer4', 'layer4'],
    ]);
    const layer4 = c.layers.find((p) => p.a === 'layer4' && p.b === 'layer4')!;
    // Unit c of the copy is unit permutation[c] of the original.
    const expected = new Map([...permutation].map((a, c) => [a, c]));
    const live = original.layers[1].neurons.filter((n) => n.topImages.some((t) => (t.activation ?? 0) > 0));
    expect(live.length).toBeGreaterThan(100);
    for (const neuron of live) {
      const match = layer4.matches.find((m) => m.unitA === neuron.unit)!;
      expect(match, `unit ${neuron.unit}`).toMatchObject({
        unitB: expected.get(neuron.unit),
        r: 1,
        mutual: true,
      });
    }
    expect(layer4.cka).toBeCloseTo(1, 4);
    // layer3 is untouched: every unit is its own match.
    const layer3 = c.layers.find((p) => p.a === 'layer3' && p.b === 'layer3')!;
    expect(layer3.matches.every((m) => m.unitA === m.unitB && m.r === 1)).toBe(true);
    expect(c.drift).toEqual([]);
    expect(c.units.filter((u) => u.layer === 'layer4' && u.counterpart !== u.unit).length).toBeGreaterThan(
      100,
    );
    expect(stdout).toMatch(/label drift on 0 of 192 units/);
    const markdown = readFileSync(join(work, 'cmp-permuted', 'compare.md'), 'utf8');
    expect(markdown).toMatch(/No unit changed its label\./);
    expect(readFileSync(join(work, 'cmp-permuted', 'compare.html'), 'utf8')).toMatch(/<h2>Label drift/);
  });

  it('reports drift on exactly the perturbed units of a checkpoint', { timeout: 300_000 }, async () => {
    // Three units of layer4 now give the activations of units whose best label differs.
    const labelOf = (unit: number) => original.layers[1].neurons[unit].labels['clip-dissect']?.[0]?.label;
    const indices = Array.from({ length: layer4Units }, (_, i) => i);
    const perturbed: number[] = [];
    for (const unit of [5, 40, 97]) {
      const source = indices.find(
        (j) => j !== unit && labelOf(j) !== undefined && labelOf(j) !== labelOf(unit),
      )!;
      indices[unit] = source;
      perturbed.push(unit);
    }
    writeFileSync(
      join(work, 'perturbed.onnx'),
      gatherChannels(readFileSync(models.targetModel), 'layer4', indices),
    );
    await dissect(join(work, 'perturbed.onnx'), join(work, 'perturbed.json'));
    const { code, stdout, comparison } = await compare(
      join(work, 'a.json'),
      join(work, 'perturbed.json'),
      join(work, 'cmp-perturbed'),
    );
    expect(code).toBe(0);
    const c = comparison!;
    expect(c.drift.map((u) => [u.layer, u.unit])).toEqual(perturbed.map((u) => ['layer4', u]));
    for (const u of c.drift) {
      expect(u.labels['clip-dissect'].a).toBe(labelOf(u.unit));
      expect(u.labels['clip-dissect'].b).not.toBe(labelOf(u.unit));
      expect(u.r).toBeLessThan(0.999);
    }
    expect(stdout).toContain(
      `layer4 #5 was ${labelOf(5)}, is now ${c.drift[0].labels['clip-dissect'].b}, r = ${c.drift[0].r.toFixed(2)}`,
    );
    // Unchanged units whose label moved with the layer's other units are told apart from drift.
    for (const u of c.units.filter((x) => x.labelChanged && !x.drift))
      expect(u.r).toBeGreaterThanOrEqual(0.999);
  });

  it('refuses, in one line naming both hashes, dissections of different probe sets', {
    timeout: 300_000,
  }, async () => {
    await writeToyWorld(join(work, 'other'), { seed: 4, count: 60 });
    const other = await dissect(models.targetModel, join(work, 'other.json'), join(work, 'other'));
    const { code, stderr } = await compare(
      join(work, 'a.json'),
      join(work, 'other.json'),
      join(work, 'cmp-other'),
    );
    expect(code).toBe(2);
    expect(stderr.trim().split('\n')).toHaveLength(1);
    expect(stderr).toContain(original.probe.hash!);
    expect(stderr).toContain(other.probe.hash!);
  });

  it('recomputes what the cache lacks when given the probe set, and says so', {
    timeout: 300_000,
  }, async () => {
    const empty = join(work, 'empty-cache');
    const refused = await cli(
      'compare',
      join(work, 'a.json'),
      join(work, 'a.json'),
      '--cache',
      empty,
      '--out',
      join(work, 'cmp-self'),
    );
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/lacks the summaries of A's layer3, layer4; .*--probe DIR/);
    const result = await cli(
      'compare',
      join(work, 'a.json'),
      join(work, 'a.json'),
      '--cache',
      empty,
      '--probe',
      `broden:${join(work, 'probe')}`,
      '--model-a',
      models.targetModel,
      '--out',
      join(work, 'cmp-self'),
    );
    expect(result.stderr).toContain("recomputing the summaries of A's layer3, layer4");
    // B's are A's: recomputed once, then read from the cache.
    expect(result.stderr).not.toContain("of B's");
    expect(result.code).toBe(0);
    const c = JSON.parse(readFileSync(join(work, 'cmp-self', 'compare.json'), 'utf8')) as Comparison;
    expect(c.drift).toEqual([]);
  });
});

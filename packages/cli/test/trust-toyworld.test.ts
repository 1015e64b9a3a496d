import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseResults } from '@neurodissect/core';
import { parseGroundTruth } from '@neurodissect/eval';
import { toyWorldModelPaths } from '@neurodissect/toyworld/node';
import { describe, expect, it } from 'vitest';
import { cli, tempDir } from './helpers';

// The trust figures on a world the models never saw (seed 4; the ground truth holds for any seed):
// the units the ground truth names must stand out from the permutation null, and labels chosen on
// one half of the images must predict the neurons' activations on the other half better than
// labels of random other neurons do.
describe('trust in the labels of the toy world', () => {
  it('finds the known units significant and their held-out labels above random ones', {
    timeout: 300_000,
  }, async () => {
    const out = join(tempDir(), 'demo');
    const result = await cli(
      'demo',
      '--out',
      out,
      '--seed',
      '4',
      '--count',
      '600',
      '--labelers',
      'clip-dissect',
      '--stability',
      '4',
    );
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const results = parseResults(readFileSync(join(out, 'results.json'), 'utf8'));
    const truth = parseGroundTruth(readFileSync(toyWorldModelPaths().groundTruth, 'utf8'));
    const layer4 = results.layers.find((l) => l.name === 'layer4')!;
    const known = truth.entries.filter((e) => e.layer === 'layer4' && e.label !== null);
    expect(known.length).toBeGreaterThan(20);
    const significant = known.filter((e) => {
      const neuron = layer4.neurons.find((n) => n.unit === e.unit)!;
      return neuron.trust!['clip-dissect'].significance!.q < 0.05;
    });
    expect(significant.length / known.length).toBeGreaterThanOrEqual(0.9);
    // Every neuron carries its figures, stability from 4 resamples among them.
    for (const neuron of layer4.neurons) {
      const trust = neuron.trust!['clip-dissect'];
      expect(trust.significance!.p).toBeGreaterThanOrEqual(1 / 1001);
      expect(trust.stability!.resamples).toBe(4);
      expect(trust.heldOut!.correlation).toBeGreaterThanOrEqual(-1);
    }

    const report = JSON.parse(readFileSync(join(out, 'report', 'report.json'), 'utf8'));
    const clipDissect = report.labelers.find((l: { id: string }) => l.id === 'clip-dissect');
    for (const layer of clipDissect.layers) {
      if (!(layer.accuracy.interpretable > 0)) continue;
      expect(layer.heldOut.correlation, layer.layer).toBeGreaterThan(layer.heldOut.baseline);
      expect(layer.significant).toBe(
        results.layers.find((l) => l.name === layer.layer)!.trust!['clip-dissect'].significant,
      );
    }
    // The demo says it per layer.
    expect(result.stdout).toMatch(/ {2}layer4: 128 neurons, .*, \d+ significant \(q < 0\.05\), held-out r /);
  });
});

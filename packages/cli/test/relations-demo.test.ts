import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { validateResults } from '@neurodissect/core';
import { describe, expect, it } from 'vitest';
import { cli, tempDir } from './helpers';

// The demo's Results relate each layer4 unit to its most correlated layer3 units; they validate as
// version 2, and `neurodissect neuron` prints those units with their labels.
describe('relations on the demo', () => {
  it('lists a layer4 unit’s most correlated layer3 units with their labels', {
    timeout: 300_000,
  }, async () => {
    const out = join(tempDir(), 'demo');
    const demo = await cli(
      'demo',
      '--out',
      out,
      '--count',
      '200',
      '--labelers',
      'clip-dissect',
      '--null',
      '0',
    );
    expect(demo.code).toBe(0);
    const json = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8'));
    const checked = validateResults(json);
    expect(checked).toMatchObject({ ok: true, version: 2 });
    if (!checked.ok) return;
    const results = checked.results;
    const layer3 = results.layers.find((l) => l.name === 'layer3')!;
    const layer4 = results.layers.find((l) => l.name === 'layer4')!;
    for (const neuron of layer4.neurons.filter((n) => !n.issues)) {
      const from = neuron.relations?.find((r) => r.layer === 'layer3' && r.direction === 'from');
      expect(from?.units.length, `layer4 #${neuron.unit}`).toBe(10);
      const rs = from!.units.map((u) => u.r);
      expect([...rs].sort((a, b) => b - a)).toEqual(rs);
    }
    const unit = layer4.neurons.find((n) => n.relations?.length)!.unit;
    const shown = await cli(
      'neuron',
      '--results',
      join(out, 'results.json'),
      '--layer',
      'layer4',
      '--unit',
      String(unit),
    );
    expect(shown.code).toBe(0);
    const lines = shown.stdout.split('\n');
    const at = lines.indexOf('driven with layer3:');
    expect(at).toBeGreaterThan(0);
    const first = layer4.neurons.find((n) => n.unit === unit)!.relations!.find((r) => r.layer === 'layer3')!
      .units[0];
    const label = layer3.neurons.find((n) => n.unit === first.unit)!.labels['clip-dissect'][0].label;
    expect(lines[at + 1]).toBe(`   1. layer3 #${first.unit} ${label}  r = ${first.r.toFixed(2)}`);
  });
});

import { resultsFixture } from '@neurodissect/core/testing';
import { describe, expect, it } from 'vitest';
import { assembleResults, siteContentFromResults } from '../src/index';

// The layer's trust figures travel into the site's manifest and back into the Results the site's
// search reads; the neurons' figures travel with the neurons.

function results(withTrust: boolean) {
  const doc = resultsFixture({
    layers: [
      {
        name: 'conv',
        neurons: [
          {
            unit: 0,
            labels: { a: [{ label: 'dog', score: 0.3 }] },
            ...(withTrust ? { trust: { a: { significance: { p: 0.002, q: 0.01 } } } } : {}),
          },
        ],
      },
    ],
  });
  if (withTrust) doc.layers[0].trust = { a: { significant: 1, tested: 1 } };
  return doc;
}

describe('trust figures in the site data', () => {
  it('copies each layer’s figures into the manifest and back for search', async () => {
    const content = await siteContentFromResults(results(true), { image: () => ({ uri: '' }) });
    expect(content.manifest.layers[0].trust).toEqual({ a: { significant: 1, tested: 1 } });
    expect(content.layers[0].neurons[0].trust).toEqual({ a: { significance: { p: 0.002, q: 0.01 } } });
    const back = assembleResults(content.manifest, content.layers);
    expect(back.layers[0].trust).toEqual({ a: { significant: 1, tested: 1 } });
    expect(back.layers[0].neurons[0].trust).toEqual({ a: { significance: { p: 0.002, q: 0.01 } } });
  });

  it('adds no trust field for Results without figures', async () => {
    const content = await siteContentFromResults(results(false), { image: () => ({ uri: '' }) });
    expect('trust' in content.manifest.layers[0]).toBe(false);
    expect('trust' in assembleResults(content.manifest, content.layers).layers[0]).toBe(false);
  });
});

import { describe, expect, it } from 'vitest';
import {
  formatRoute,
  formatRunHash,
  layerRoute,
  parseRoute,
  type Route,
  searchRoute,
  splitRunHash,
} from '../src/route';

describe('parseRoute', () => {
  it('reads every page kind', () => {
    expect(parseRoute('')).toEqual({ kind: 'overview' });
    expect(parseRoute('#/')).toEqual({ kind: 'overview' });
    expect(parseRoute('#/neuron/layer4/1802')).toEqual({ kind: 'neuron', layer: 'layer4', unit: 1802 });
    expect(parseRoute('#/dissect')).toEqual({ kind: 'dissect' });
    expect(parseRoute('#/dissect/more')).toEqual({ kind: 'not-found', hash: '#/dissect/more' });
    expect(parseRoute('#/label')).toEqual({ kind: 'label', blind: false });
    expect(parseRoute('#/label/layer2?blind=1')).toEqual({ kind: 'label', layer: 'layer2', blind: true });
    expect(parseRoute('#/label/layer2/3')).toEqual({ kind: 'not-found', hash: '#/label/layer2/3' });
    expect(parseRoute('#/layer/layer4?sort=score&filter=dog&page=2')).toEqual({
      kind: 'layer',
      layer: 'layer4',
      sort: 'score',
      order: 'desc',
      filter: 'dog',
      page: 2,
    });
    expect(parseRoute('#/search?q=striped&match=stem&layer=layer3&all=1')).toEqual({
      kind: 'search',
      query: 'striped',
      match: 'stem',
      layer: 'layer3',
      all: true,
    });
  });

  it('decodes layer names and queries with reserved characters', () => {
    expect(parseRoute('#/neuron/features.10%2Fconv%20a/3')).toEqual({
      kind: 'neuron',
      layer: 'features.10/conv a',
      unit: 3,
    });
    expect(parseRoute('#/search?q=%3Cimg+src%3Dx%3E')).toMatchObject({ query: '<img src=x>' });
  });

  it('falls back to defaults for unknown parameter values', () => {
    expect(parseRoute('#/layer/l?sort=bogus&order=sideways&page=-3')).toEqual(layerRoute('l'));
    expect(parseRoute('#/search?q=a&match=semantic')).toEqual(searchRoute('a'));
  });

  it('answers not-found, never throws, for what it does not know', () => {
    for (const hash of [
      '#/nope',
      '#/neuron/layer4',
      '#/neuron/layer4/abc',
      '#/neuron/layer4/-1',
      '#/layer/%E0%A4%A',
      '#/search/extra',
    ]) {
      expect(parseRoute(hash)).toEqual({ kind: 'not-found', hash });
    }
  });
});

describe('formatRoute', () => {
  it('leaves defaults out', () => {
    expect(formatRoute({ kind: 'overview' })).toBe('#/');
    expect(formatRoute(layerRoute('layer4'))).toBe('#/layer/layer4');
    expect(formatRoute(layerRoute('layer4', { sort: 'score' }))).toBe('#/layer/layer4?sort=score');
    expect(formatRoute(layerRoute('layer4', { sort: 'score', order: 'asc' }))).toBe(
      '#/layer/layer4?sort=score&order=asc',
    );
    expect(formatRoute(searchRoute('dog'))).toBe('#/search?q=dog');
    expect(formatRoute(searchRoute(''))).toBe('#/search');
    expect(formatRoute(searchRoute('dog', { significant: false }))).toBe('#/search?q=dog');
    expect(formatRoute(searchRoute('dog', { significant: true }))).toBe('#/search?q=dog&significant=1');
    expect(formatRoute(searchRoute('dog', { order: 'score' }))).toBe('#/search?q=dog');
    expect(formatRoute(searchRoute('dog', { order: 'rank' }))).toBe('#/search?q=dog&order=rank');
  });

  it('reads the search order, score unless rank is asked for', () => {
    expect(parseRoute('#/search?q=dog&order=rank')).toMatchObject({ order: 'rank' });
    expect(parseRoute('#/search?q=dog&order=sideways')).toEqual(searchRoute('dog'));
  });

  it('splits the pages of an in-browser run from the site’s own', () => {
    expect(splitRunHash('#/run/r-17ab/neuron/layer4/0')).toEqual({
      run: 'r-17ab',
      hash: '#/neuron/layer4/0',
    });
    expect(splitRunHash('#/run/r1')).toEqual({ run: 'r1', hash: '#/' });
    expect(splitRunHash('#/run/r1?x=1')).toEqual({ run: 'r1', hash: '#/?x=1' });
    expect(splitRunHash('#/neuron/layer4/0')).toEqual({ hash: '#/neuron/layer4/0' });
    expect(splitRunHash('#/run/bad%20id/x')).toEqual({ hash: '#/run/bad%20id/x' });
    expect(formatRunHash('r1', '#/neuron/layer4/0')).toBe('#/run/r1/neuron/layer4/0');
    expect(formatRunHash('r1', '#/')).toBe('#/run/r1');
    expect(formatRunHash(undefined, '#/layer/a')).toBe('#/layer/a');
    for (const hash of ['#/search?q=dog', '#/', '#/layer/a%2Fb?sort=score']) {
      expect(splitRunHash(formatRunHash('abc', hash))).toEqual({ run: 'abc', hash });
    }
    expect(() => formatRunHash('../x', '#/')).toThrow(RangeError);
  });

  it('round-trips through parseRoute', () => {
    const routes: Route[] = [
      { kind: 'dissect' },
      { kind: 'overview' },
      { kind: 'neuron', layer: 'layer4.2/conv#1 ?x', unit: 0 },
      layerRoute('a&b=c', {
        sort: 'label',
        order: 'desc',
        filter: 'red & blue?',
        page: 4,
        labeler: 'clip-dissect',
      }),
      searchRoute('<img src=x onerror=alert(1)>', { match: 'fuzzy', layer: 'layer 1', all: true }),
      searchRoute('café / naïve #2', { match: 'stem' }),
      searchRoute('triangle', { labeler: 'clip-avg' }),
      searchRoute('dog', { labeler: 'clip-avg', significant: true }),
      { kind: 'label', blind: true },
      { kind: 'label', layer: 'features.4/conv ?a', blind: false },
    ];
    for (const route of routes) expect(parseRoute(formatRoute(route))).toEqual(route);
  });
});

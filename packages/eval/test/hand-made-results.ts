import type { Results, ScoredLabel } from '@neurodissect/core';
import { resultsFixture } from '@neurodissect/core/testing';

const l = (label: string, score: number): ScoredLabel => ({ label, score });

/**
 * A small hand-made Results document for Tables 1-3. Layer `L`, labeler `a` (scored) and `b`
 * (unscored, as MILAN imports are). Expected values are worked out by hand in the tests.
 */
export function handMadeResults(): Results {
  const a: ScoredLabel[][] = [
    [l('cat', 0.5), l('dog', 0.4), l('car', 0.1)],
    [l('dog', 0.35), l('Cat', 0.3), l('sky', 0.2)],
    [l('sky', 0.25), l('sea', 0.2), l('tree', 0.15), l('grass', 0.12), l('road_sign', 0.11)],
    [l('car', 0.15), l('bus', 0.1)],
    [l('wall', 0.05)],
    [l('kitten', 0.22), l('dog', 0.21)],
  ];
  const b = ['cat', 'cat', 'sea', 'boat', 'wall', 'dog'];
  return resultsFixture({
    labelers: ['a', { id: 'b', version: '1', options: { scores: false } }],
    layers: [
      { name: 'L', neurons: a.map((labels, unit) => ({ unit, labels: { a: labels, b: [l(b[unit], 0)] } })) },
    ],
  });
}

/** Ground truth for {@link handMadeResults}: unit 4 non-interpretable (empty), unit 9 absent from the Results. */
export const HAND_MADE_GROUND_TRUTH_CSV = `layer,unit,label
L,0,cat
L,1,cat
L,2,road sign
L,3,boat
L,4,
L,5,cat
L,9,tree
`;

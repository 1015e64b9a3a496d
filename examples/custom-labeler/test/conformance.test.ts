import { describeLabelerConformance } from '@neurodissect/core/testing';
import { dominantColour } from '../src/dominant-colour';
// @ts-expect-error: plain JavaScript, no declarations (the point of the example)
import topImageCentroid from '../src/top-image-centroid.mjs';

describeLabelerConformance('dominant-colour', (world) => dominantColour({ read: world.probe.read }));
describeLabelerConformance('top-image-centroid (plain JavaScript)', () => topImageCentroid({ topImages: 4 }));

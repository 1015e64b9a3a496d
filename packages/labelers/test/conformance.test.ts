import { describeLabelerConformance } from '@neurodissect/core/testing';
import { brodenLabel, clipAvg, clipDissect, netDissect, samGroundingDino } from '../src/index';

// The fixture world has 30 images (10 per colour), so CLIP-Dissect's top-K and NetDissect's
// quantile are set to what such a small world can support; the other labelers run on defaults.
describeLabelerConformance('clip-dissect', () => clipDissect({ similarityOptions: { topK: 10 } }));
describeLabelerConformance('clip-dissect (wpmi)', () =>
  clipDissect({ similarity: 'wpmi', similarityOptions: { topK: 10 } }),
);
describeLabelerConformance('clip-dissect (cos)', () => clipDissect({ similarity: 'cos' }));
describeLabelerConformance('clip-avg', () => clipAvg());
describeLabelerConformance('broden-label', () => brodenLabel());
describeLabelerConformance('netdissect', () => netDissect({ quantile: 0.1 }));
// The world's detector and segmenter are pure-TypeScript stand-ins (not models): see
// sam-grounding-dino.test.ts for the ONNX wrappers' stand-in models.
describeLabelerConformance('sam-grounding-dino', (world) =>
  samGroundingDino({
    detector: world.detector,
    segmenter: world.segmenter,
    read: world.probe.read,
    quantile: 0.1,
  }),
);

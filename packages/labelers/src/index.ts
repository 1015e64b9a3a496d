export { type BrodenLabelOptions, brodenLabel } from './broden-label';
export {
  createLabelersByName,
  LABELER_NAMES,
  LABELER_TITLES,
  type LabelerName,
  type LabelersByNameOptions,
  labelerRequirements,
} from './by-name';
export { type ClipAvgOptions, clipAvg } from './clip-avg';
export { type ClipDissectOptions, clipDissect } from './clip-dissect';
export { type NetDissectOptions, netDissect } from './netdissect';
export { chunkPrompts, type SamGroundingDinoOptions, samGroundingDino } from './sam-grounding-dino';

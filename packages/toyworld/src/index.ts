export {
  BRODEN_INDEX_COLUMNS,
  type BrodenFile,
  decodeLabelMaskPng,
  encodeLabelMaskPng,
  encodeRgbPng,
  type ToyWorldBrodenOptions,
  toyWorldBrodenFiles,
} from './broden-format';
export {
  TOYWORLD_CATEGORIES,
  TOYWORLD_COLORS,
  TOYWORLD_DISTRACTORS,
  TOYWORLD_LABELS,
  TOYWORLD_NEAR_WORDS,
  TOYWORLD_OBJECTS,
  TOYWORLD_TEXTURES,
  type ToyWorldCategory,
  type ToyWorldColor,
  type ToyWorldLabel,
  type ToyWorldObjectName,
  type ToyWorldTexture,
  toyWorldConceptList,
  toyWorldLabel,
  toyWorldVocabulary,
} from './concepts';
export { createToyWorldDataset, type ToyWorldDataset } from './dataset';
export {
  generateToyWorld,
  generateToyWorldImage,
  resolveToyWorldOptions,
  type ToyWorld,
  type ToyWorldImage,
  type ToyWorldObject,
  type ToyWorldOptions,
  toyWorldCaption,
  toyWorldImageId,
} from './generate';
export {
  insideUnitShape,
  patternAt,
  rasterizeShape,
  type ShapePlacement,
  type TexturePattern,
} from './rasterize';
export { COMMON_ENGLISH_WORDS } from './vocabulary.gen';

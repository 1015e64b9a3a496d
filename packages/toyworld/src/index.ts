export * from './broden-format';
export * from './concepts';
export * from './dataset';
export * from './generate';
export {
  insideUnitShape,
  patternAt,
  rasterizeShape,
  type ShapePlacement,
  type TexturePattern,
} from './rasterize';
export { COMMON_ENGLISH_WORDS } from './vocabulary.gen';

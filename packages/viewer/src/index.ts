export { escapeHtml } from './escape-html';
export {
  type DissectRoute,
  defaultOrder,
  formatRoute,
  type LayerRoute,
  type LayerSort,
  layerRoute,
  type NeuronRoute,
  type NotFoundRoute,
  type OverviewRoute,
  parseRoute,
  type Route,
  type SearchRoute,
  SITE_MATCH_MODES,
  type SiteMatchMode,
  searchRoute,
} from './route';
export {
  type SiteContent,
  type SiteContentOptions,
  shownImages,
  siteContentFromResults,
} from './site-content';
export {
  assembleResults,
  MISSING_IMAGE_REASONS,
  type MissingImageReason,
  missingImageText,
  SITE_DATA_CALLBACK,
  SITE_FORMAT,
  SITE_VERSION,
  type SiteImage,
  type SiteInBrowser,
  type SiteLayerData,
  type SiteLayerEntry,
  type SiteManifest,
  siteDataScript,
} from './site-data';

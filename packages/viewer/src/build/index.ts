export { APP_FILES, defaultAppDir } from './app-dir';
export { type BuildSiteOptions, buildSite, type SiteBuildReport, type Thumbnailer } from './build-site';
export { indexHtml } from './index-html';

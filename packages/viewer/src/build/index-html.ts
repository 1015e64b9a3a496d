import { escapeHtml } from '../escape-html';

/**
 * The site's `index.html`. Only the title comes from the data, escaped; the content security
 * policy allows scripts and styles from the site folder only, so even a label that got into
 * markup could not run.
 */
export function indexHtml(title: string, options: { inBrowser?: boolean; report?: string } = {}): string {
  // The in-browser page shows picked images through blob: URLs.
  const images = options.inBrowser ? "'self' data: blob: http: https:" : "'self' data: http: https:";
  const dissect = options.inBrowser ? '<li><a href="#/dissect">Dissect in your browser</a></li>' : '';
  const report =
    options.report === undefined
      ? ''
      : `<li><a href="${escapeHtml(options.report)}">Evaluation report</a></li>`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'self'; style-src 'self'; img-src ${images}; base-uri 'none'; form-action 'none'">
<title>${escapeHtml(title)}</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="app.css">
<script src="app.js" defer></script>
</head>
<body>
<a class="skip-link" href="#main" data-skip-link>Skip to content</a>
<header class="site-header">
<a class="site-title" href="#/">${escapeHtml(title)}</a>
<nav aria-label="Site"><ul><li><a href="#/">Overview</a></li><li><a href="#/search">Concept search</a></li><li><a href="#/label">Label neurons</a></li>${report}${dissect}</ul></nav>
</header>
<main id="main" tabindex="-1"><p>Loading…</p></main>
<noscript><p>This site needs JavaScript to show the neurons.</p></noscript>
</body>
</html>
`;
}

import { formatRoute, formatRunHash, parseRoute, type Route, searchRoute, splitRunHash } from '../route';
import { type AppContext, createAppContext } from './context';
import { createDataLoader, createMemoryLoader } from './data-loader';
import { h } from './dom';
import { createIndexedDbLabelStore } from './label-store';
import { renderDissect } from './pages/dissect';
import { createDissectController, type DissectController } from './pages/dissect-controller';
import { renderLabel } from './pages/label';
import { renderLayer } from './pages/layer';
import { neighbours, renderNeuron } from './pages/neuron';
import { renderNotFound } from './pages/not-found';
import { renderOverview } from './pages/overview';
import { renderSearch } from './pages/search';
import { createIndexedDbRunStore, type RunContent } from './run-store';

type Page = {
  title: string;
  content: Node;
  /** The page's own keys (outside text fields); true when the page took the key. */
  onKeyDown?: (event: KeyboardEvent) => boolean;
};

function render(ctx: AppContext, route: Route, dissect: DissectController | undefined): Page | Promise<Page> {
  switch (route.kind) {
    case 'overview':
      return renderOverview(ctx);
    case 'layer':
      return renderLayer(ctx, route);
    case 'neuron':
      return renderNeuron(ctx, route);
    case 'search':
      return renderSearch(ctx, route);
    case 'dissect':
      return renderDissect(ctx, dissect);
    case 'label':
      return renderLabel(ctx, route);
    case 'not-found':
      return renderNotFound(`There is no page at "${route.hash}".`);
  }
}

/** Whether two routes show the same page (so focus can stay where it was). */
function samePage(a: Route | undefined, b: Route): boolean {
  if (a === undefined || a.kind !== b.kind) return false;
  if (a.kind === 'layer' && b.kind === 'layer') return a.layer === b.layer;
  if (a.kind === 'label' && b.kind === 'label') return a.layer === b.layer;
  return a.kind === 'search' || a.kind === 'overview' || a.kind === 'neuron' || a.kind === 'dissect';
}

/** Inputs that take no typed text: the site's keys work while one has the focus. */
const KEYLESS_INPUTS = ['checkbox', 'radio', 'button', 'submit', 'reset', 'file'];

function isTyping(target: EventTarget | null): boolean {
  const element = target as HTMLElement | null;
  if (element === null) return false;
  if (element.tagName === 'INPUT') return !KEYLESS_INPUTS.includes((element as HTMLInputElement).type);
  return element.isContentEditable || ['SELECT', 'TEXTAREA'].includes(element.tagName);
}

async function start(): Promise<void> {
  const main = document.getElementById('main')!;
  const loader = createDataLoader();
  let current: Route | undefined;
  let currentPage: Page | undefined;
  let generation = 0;
  const labelStore = createIndexedDbLabelStore();
  const runStore = createIndexedDbRunStore();
  // Runs this page made, also when the browser would not keep them.
  const madeHere = new Map<string, RunContent>();
  // Why a run made here could not be kept (a reload loses it).
  const notKept = new Map<string, string>();
  /** The in-browser run the current page belongs to; undefined for the site's own pages. */
  let runId: string | undefined;

  const navigate: AppContext['navigate'] = (route, options = {}) => {
    const hash = formatRunHash(runId, formatRoute(route));
    if (options.replace) {
      history.replaceState(null, '', hash);
      void show();
    } else if (location.hash === hash) {
      void show();
    } else {
      location.hash = hash;
    }
  };

  let ctx: AppContext;
  let siteCtx: AppContext;
  const runContext = (content: RunContent): AppContext => {
    const inBrowser = siteCtx.inBrowser;
    const manifest = { ...content.manifest, ...(inBrowser === undefined ? {} : { inBrowser }) };
    return createAppContext(
      manifest,
      createMemoryLoader({ ...content, manifest }),
      navigate,
      open,
      labelStore,
    );
  };
  // Results dissected in this page get their own address, #/run/ID, kept in IndexedDB so that it
  // survives a reload; the site's own addresses keep showing the site's data.
  const open: AppContext['open'] = (content) => {
    const id = `${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
    madeHere.set(id, content);
    const go = () => {
      location.hash = formatRunHash(id, '#/');
    };
    runStore.save(id, content).then(go, (error: unknown) => {
      notKept.set(id, error instanceof Error ? error.message : String(error));
      go();
    });
  };
  // The in-browser page's runs outlive its view: one controller for the whole visit.
  let dissect: DissectController | undefined;
  try {
    siteCtx = createAppContext(await loader.manifest(), loader, navigate, open, labelStore);
    ctx = siteCtx;
    const inBrowser = ctx.inBrowser;
    if (inBrowser !== undefined)
      dissect = createDissectController({
        createWorker: () => new Worker(inBrowser.worker, { type: 'module' }),
      });
  } catch (error) {
    main.replaceChildren(
      h('h1', {}, 'The site data could not be loaded'),
      h('p', { role: 'alert' }, (error as Error).message),
    );
    return;
  }

  const siteTitle = document.querySelector<HTMLAnchorElement>('.site-title');
  const siteTitleText = siteTitle?.textContent ?? '';
  /** Switches to the run of the address (or back to the site); false when the run is not kept here. */
  async function enterRun(id: string | undefined): Promise<boolean> {
    if (id === runId) return true;
    if (id === undefined) {
      ctx = siteCtx;
    } else {
      const content = madeHere.get(id) ?? (await runStore.load(id).catch(() => undefined));
      if (content === undefined) return false;
      madeHere.set(id, content);
      ctx = runContext(content);
    }
    runId = id;
    current = undefined;
    if (siteTitle) {
      siteTitle.textContent = id === undefined ? siteTitleText : ctx.manifest.title;
      siteTitle.href = formatRunHash(id, '#/');
    }
    return true;
  }

  /** Keeps the links of a run's pages inside the run (`#/layer/x` → `#/run/ID/layer/x`). */
  const prefixLinks = (root: ParentNode) => {
    if (runId === undefined) return;
    for (const link of root.querySelectorAll<HTMLAnchorElement>('a[href^="#/"]')) {
      const href = link.getAttribute('href')!;
      if (link.dataset.siteLink === undefined && splitRunHash(href).run === undefined)
        link.setAttribute('href', formatRunHash(runId, href));
    }
  };
  new MutationObserver((records) => {
    for (const record of records)
      for (const node of record.addedNodes) if (node instanceof Element) prefixLinks(node.parentNode ?? node);
  }).observe(main, { childList: true, subtree: true });

  function runBanner(id: string): HTMLElement {
    return h(
      'p',
      { class: 'run-banner', role: 'note' },
      notKept.has(id)
        ? `Results dissected in this browser; they could not be kept (${notKept.get(id)}), so a reload loses them. `
        : 'Results dissected in this browser, kept here until removed. ',
      h('a', { href: '#/', 'data-site-link': 'true' }, 'The site’s own results'),
      ' · ',
      h(
        'button',
        {
          type: 'button',
          class: 'link-button',
          onclick: () => {
            madeHere.delete(id);
            void runStore.remove(id).finally(() => {
              location.hash = '#/';
            });
          },
        },
        'Remove this run',
      ),
    );
  }

  async function show(): Promise<void> {
    const { run, hash } = splitRunHash(location.hash);
    const route = parseRoute(hash);
    const mine = ++generation;
    if (!(await enterRun(run))) {
      if (mine !== generation) return;
      main.replaceChildren(
        renderNotFound(
          `No run "${run}" is kept in this browser: runs dissected in the page live in the browser that ran them, until removed.`,
        ).content,
      );
      return;
    }
    const focusKey = (document.activeElement as HTMLElement | null)?.dataset?.focusKey;
    const keepFocus = samePage(current, route);
    // Keys pressed while the next page loads must not act on the one it replaces.
    currentPage = undefined;
    main.setAttribute('aria-busy', 'true');
    let page: Page;
    try {
      page = await render(ctx, route, dissect);
    } catch (error) {
      page = {
        title: 'Error',
        content: h(
          'div',
          { class: 'page' },
          h('h1', { tabindex: '-1' }, 'Something went wrong'),
          h('p', { role: 'alert' }, (error as Error).message),
        ),
      };
    }
    if (mine !== generation) return;
    const first = current === undefined;
    current = route;
    currentPage = page;
    main.replaceChildren(...(runId === undefined ? [] : [runBanner(runId)]), page.content);
    prefixLinks(main);
    main.removeAttribute('aria-busy');
    document.title = page.title;
    const again =
      focusKey === undefined
        ? null
        : main.querySelector<HTMLElement>(`[data-focus-key="${CSS.escape(focusKey)}"]`);
    const wanted = main.querySelector<HTMLElement>('[autofocus]');
    if (keepFocus && again) again.focus();
    else if (wanted) wanted.focus();
    else if (!first) main.querySelector<HTMLElement>('h1')?.focus();
    if (!keepFocus) window.scrollTo(0, 0);
  }

  window.addEventListener('hashchange', () => void show());
  document.addEventListener('click', (event) => {
    const link = (event.target as HTMLElement | null)?.closest?.('[data-skip-link]');
    if (link) {
      event.preventDefault();
      main.focus();
    }
  });
  document.addEventListener('keydown', (event) => {
    if (event.altKey || event.ctrlKey || event.metaKey || isTyping(event.target)) return;
    if (currentPage?.onKeyDown?.(event)) {
      event.preventDefault();
      return;
    }
    if (event.key === '/') {
      event.preventDefault();
      const input = document.getElementById('concept-query');
      if (input) input.focus();
      else navigate(searchRoute(''));
      return;
    }
    if (current?.kind === 'neuron' && (event.key === 'ArrowLeft' || event.key === 'ArrowRight')) {
      const entry = ctx.layer(current.layer);
      if (entry === undefined) return;
      const { previous, next } = neighbours(entry.unitList, current.unit);
      const unit = event.key === 'ArrowLeft' ? previous : next;
      if (unit === undefined) return;
      event.preventDefault();
      navigate({ kind: 'neuron', layer: current.layer, unit });
    }
  });
  await show();
}

if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', () => void start());
else void start();

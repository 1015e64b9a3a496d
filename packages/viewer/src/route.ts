/** How the neuron table of a layer page is sorted. */
export type LayerSort = 'unit' | 'score' | 'label';

/** The match modes the site offers (the search library's, less `semantic`, which needs embeddings). */
export type SiteMatchMode = 'exact' | 'stem' | 'fuzzy';

/** The site's match modes, in the order the search form lists them. */
export const SITE_MATCH_MODES: readonly SiteMatchMode[] = ['exact', 'stem', 'fuzzy'];

/** The overview: model, layers, interpretability, search box. */
export interface OverviewRoute {
  kind: 'overview';
}

/** One layer: histogram, label chart, neuron table. */
export interface LayerRoute {
  kind: 'layer';
  layer: string;
  /** The labeler whose labels the page shows. @defaultValue the first labeler */
  labeler?: string;
  /** @defaultValue 'unit' */
  sort: LayerSort;
  /** @defaultValue 'asc' for `unit` and `label`, 'desc' for `score` */
  order: 'asc' | 'desc';
  /** Keeps the neurons whose labels contain this text (case-insensitive); '' keeps all. */
  filter: string;
  /** 0-based page of the neuron table. */
  page: number;
}

/** One neuron: top images, labels, similar neurons. */
export interface NeuronRoute {
  kind: 'neuron';
  layer: string;
  unit: number;
}

/** A concept search across layers. */
export interface SearchRoute {
  kind: 'search';
  /** The concept; '' shows the empty form. */
  query: string;
  match: SiteMatchMode;
  /** Only this layer. @defaultValue every layer */
  layer?: string;
  /** Whose labels are searched (one labeler at a time). @defaultValue the run's primary labeler */
  labeler?: string;
  /** Show every hit of each layer instead of the first page. */
  all: boolean;
  /** Keep only neurons whose best label from the labeler is significant (q < 0.05). @defaultValue false */
  significant?: boolean;
  /**
   * How hits are ordered: by the matching label's score (as the CLIP-Dissect report lists them)
   * or by its rank among the neuron's labels, then score. @defaultValue 'score'
   */
  order?: 'score' | 'rank';
}

/** "Dissect in your browser": run a dissection in the page and open its results. */
export interface DissectRoute {
  kind: 'dissect';
}

/**
 * Label mode: ground truth by hand. Without a layer, the annotator, the sample and every layer's
 * progress; with one, its neurons one at a time.
 */
export interface LabelRoute {
  kind: 'label';
  /** The layer being labelled; absent on the overview of label mode. */
  layer?: string;
  /** Blind mode: no labeler's labels or scores are shown. */
  blind: boolean;
}

/** A URL the site does not know. */
export interface NotFoundRoute {
  kind: 'not-found';
  /** The hash as given, for the message. */
  hash: string;
}

/** Every page of the site, as a value: parsed from and formatted to the URL's hash. */
export type Route =
  | OverviewRoute
  | LayerRoute
  | NeuronRoute
  | SearchRoute
  | DissectRoute
  | LabelRoute
  | NotFoundRoute;

const LAYER_SORTS: readonly LayerSort[] = ['unit', 'score', 'label'];

/** The default order of a sort key: scores best first, the rest ascending. */
export function defaultOrder(sort: LayerSort): 'asc' | 'desc' {
  return sort === 'score' ? 'desc' : 'asc';
}

/** A layer route with the defaults filled in. */
export function layerRoute(
  layer: string,
  options: Partial<Omit<LayerRoute, 'kind' | 'layer'>> = {},
): LayerRoute {
  const sort = options.sort ?? 'unit';
  const route: LayerRoute = {
    kind: 'layer',
    layer,
    sort,
    order: options.order ?? defaultOrder(sort),
    filter: options.filter ?? '',
    page: options.page ?? 0,
  };
  if (options.labeler !== undefined) route.labeler = options.labeler;
  return route;
}

/** A search route with the defaults filled in. */
export function searchRoute(
  query: string,
  options: Partial<Omit<SearchRoute, 'kind' | 'query'>> = {},
): SearchRoute {
  const route: SearchRoute = {
    kind: 'search',
    query,
    match: options.match ?? 'exact',
    all: options.all ?? false,
  };
  if (options.layer !== undefined) route.layer = options.layer;
  if (options.labeler !== undefined) route.labeler = options.labeler;
  if (options.significant) route.significant = true;
  if (options.order === 'rank') route.order = 'rank';
  return route;
}

function decode(part: string): string | undefined {
  try {
    return decodeURIComponent(part);
  } catch {
    return undefined;
  }
}

/**
 * Parses a location hash (`#/neuron/layer4/1802`, with or without the `#`) into a {@link Route}.
 * Never throws: anything it does not understand is a `not-found` route.
 *
 * Formats: `#/` (overview), `#/layer/NAME?sort=score&order=desc&filter=dog&page=2&labeler=ID`,
 * `#/neuron/NAME/UNIT`, `#/search?q=TEXT&match=stem&layer=NAME&labeler=ID&all=1&significant=1&order=rank`,
 * `#/label`, `#/label/NAME?blind=1`; NAME and TEXT are URI-component encoded.
 */
export function parseRoute(hash: string): Route {
  const raw = hash.startsWith('#') ? hash.slice(1) : hash;
  const notFound: NotFoundRoute = { kind: 'not-found', hash };
  const queryAt = raw.indexOf('?');
  const path = queryAt === -1 ? raw : raw.slice(0, queryAt);
  const params = new URLSearchParams(queryAt === -1 ? '' : raw.slice(queryAt + 1));
  const parts = path.split('/').filter((p) => p !== '');
  if (parts.length === 0) return { kind: 'overview' };
  const segments = parts.map(decode);
  if (segments.some((s) => s === undefined)) return notFound;
  const [head, ...rest] = segments as string[];

  if (head === 'layer' && rest.length === 1 && rest[0] !== '') {
    const sortParam = params.get('sort');
    const sort = LAYER_SORTS.find((s) => s === sortParam) ?? 'unit';
    const orderParam = params.get('order');
    const order = orderParam === 'asc' || orderParam === 'desc' ? orderParam : defaultOrder(sort);
    const page = Number(params.get('page') ?? '0');
    const labeler = params.get('labeler');
    return layerRoute(rest[0], {
      sort,
      order,
      filter: params.get('filter') ?? '',
      page: Number.isInteger(page) && page >= 0 ? page : 0,
      ...(labeler === null || labeler === '' ? {} : { labeler }),
    });
  }
  if (head === 'neuron' && rest.length === 2 && rest[0] !== '' && /^\d{1,9}$/.test(rest[1])) {
    return { kind: 'neuron', layer: rest[0], unit: Number(rest[1]) };
  }
  if (head === 'search' && rest.length === 0) {
    const matchParam = params.get('match');
    const layer = params.get('layer');
    const labeler = params.get('labeler');
    return searchRoute(params.get('q') ?? '', {
      match: SITE_MATCH_MODES.find((m) => m === matchParam) ?? 'exact',
      all: params.get('all') === '1',
      significant: params.get('significant') === '1',
      ...(params.get('order') === 'rank' ? { order: 'rank' as const } : {}),
      ...(layer === null || layer === '' ? {} : { layer }),
      ...(labeler === null || labeler === '' ? {} : { labeler }),
    });
  }
  if (head === 'dissect' && rest.length === 0) return { kind: 'dissect' };
  if (head === 'label' && rest.length <= 1 && rest[0] !== '') {
    const blind = params.get('blind') === '1';
    return rest.length === 1 ? { kind: 'label', layer: rest[0], blind } : { kind: 'label', blind };
  }
  return notFound;
}

function query(entries: [string, string | undefined][]): string {
  const params = new URLSearchParams();
  for (const [key, value] of entries) if (value !== undefined) params.set(key, value);
  const text = params.toString();
  return text === '' ? '' : `?${text}`;
}

/** Formats a {@link Route} as a location hash (`#/…`); defaults are left out so URLs stay short. */
export function formatRoute(route: Route): string {
  switch (route.kind) {
    case 'overview':
      return '#/';
    case 'layer':
      return `#/layer/${encodeURIComponent(route.layer)}${query([
        ['labeler', route.labeler],
        ['sort', route.sort === 'unit' ? undefined : route.sort],
        ['order', route.order === defaultOrder(route.sort) ? undefined : route.order],
        ['filter', route.filter === '' ? undefined : route.filter],
        ['page', route.page === 0 ? undefined : String(route.page)],
      ])}`;
    case 'neuron':
      return `#/neuron/${encodeURIComponent(route.layer)}/${route.unit}`;
    case 'search':
      return `#/search${query([
        ['q', route.query === '' ? undefined : route.query],
        ['match', route.match === 'exact' ? undefined : route.match],
        ['layer', route.layer],
        ['labeler', route.labeler],
        ['all', route.all ? '1' : undefined],
        ['significant', route.significant ? '1' : undefined],
        ['order', route.order === 'rank' ? 'rank' : undefined],
      ])}`;
    case 'dissect':
      return '#/dissect';
    case 'label':
      return `#/label${route.layer === undefined ? '' : `/${encodeURIComponent(route.layer)}`}${route.blind ? '?blind=1' : ''}`;
    case 'not-found':
      return route.hash.startsWith('#') ? route.hash : `#${route.hash}`;
  }
}

/** A location hash split into the in-browser run it belongs to (if any) and the page's own hash. */
export interface RunHash {
  /** The run's id, for `#/run/ID/…`; absent for the site's own pages. */
  run?: string;
  /** The page within the run (or the site), e.g. `#/neuron/layer4/0`. */
  hash: string;
}

const RUN_ID = /^[A-Za-z0-9_-]{1,64}$/;

/**
 * Splits `#/run/ID/neuron/layer4/0` into `{ run: 'ID', hash: '#/neuron/layer4/0' }`: the pages of
 * a run dissected in the browser live under `#/run/ID`, so they survive a reload and can be shared
 * on the same browser; every other hash is the site's own (`run` absent).
 */
export function splitRunHash(hash: string): RunHash {
  const raw = hash.startsWith('#') ? hash.slice(1) : hash;
  const match = /^\/run\/([^/?]+)(.*)$/.exec(raw);
  if (match === null || !RUN_ID.test(match[1])) return { hash: hash.startsWith('#') ? hash : `#${hash}` };
  const rest = match[2] === '' || match[2].startsWith('?') ? `/${match[2]}` : match[2];
  return { run: match[1], hash: `#${rest}` };
}

/** The hash of a page of run `run` (see {@link splitRunHash}); without a run, the page's own hash. */
export function formatRunHash(run: string | undefined, hash: string): string {
  const raw = hash.startsWith('#') ? hash.slice(1) : hash;
  if (run === undefined) return `#${raw}`;
  if (!RUN_ID.test(run)) throw new RangeError(`A run id is 1 to 64 letters, digits, - or _, got "${run}"`);
  return `#/run/${run}${raw === '/' ? '' : raw}`;
}

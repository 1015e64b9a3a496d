import type { ScoredLabel } from '@neurodissect/core';
import { formatGroundTruthCsv, parseGroundTruthCsv } from '@neurodissect/eval';
import { formatRoute, type LabelRoute } from '../../route';
import type { SiteLayerEntry } from '../../site-data';
import type { AppContext } from '../context';
import { append, h } from '../dom';
import {
  decide,
  drawSample,
  exportRows,
  importGroundTruth,
  type LabelDecision,
  type LabelSession,
  labelledCount,
  labelOrder,
  neuronKey,
  nextUnlabelled,
  primaryLabeler,
  resultsIdentity,
  undo,
} from '../label-session';
import type { LabelStore } from '../label-store';
import { topImagesView } from '../top-images';
import { renderNotFound } from './not-found';

/** What a page renderer returns; label mode also takes the page's keys. */
export interface LabelPage {
  title: string;
  content: Node;
  /** Handles a key pressed outside a text field; true when it was label mode's. */
  onKeyDown(event: KeyboardEvent): boolean;
}

/** Top images shown per neuron: the report's annotators saw the top 10. */
const TOP_IMAGES = 10;

/** Suggestions shown under the own-label field. */
const SUGGESTIONS = 8;

/** The keys label mode lists, as the page shows them. */
const KEYS: [string, string][] = [
  ['1 2 3', 'accept that label'],
  ['o', 'write an own label (↓ or Tab takes a suggestion; Enter saves what is typed)'],
  ['n', 'non-interpretable'],
  ['j or →', 'next neuron'],
  ['k or ←', 'previous neuron'],
  ['u', 'undo the last decision'],
];

function keyList(blind: boolean): HTMLElement {
  return h(
    'dl',
    { class: 'keys', 'aria-label': 'Keys' },
    KEYS.filter(([key]) => !(blind && key === '1 2 3')).map(([key, what]) => [
      h(
        'dt',
        {},
        key.split(' ').map((k, i) => [i > 0 ? ' ' : '', k === 'or' ? k : h('kbd', {}, k)]),
      ),
      h('dd', {}, what),
    ]),
  );
}

function describeDecision(decision: LabelDecision | undefined): string {
  if (decision === undefined) return 'Not labelled yet.';
  return decision.label === null ? 'Your decision: non-interpretable.' : `Your label: ${decision.label}.`;
}

function download(name: string, text: string): void {
  const url = URL.createObjectURL(new Blob([text], { type: 'text/csv;charset=utf-8' }));
  const a = h('a', { href: url, download: name, hidden: true });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

/** The annotator's name form; `onName` gets the trimmed name. */
function annotatorForm(current: string | undefined, onName: (name: string) => void): HTMLElement {
  const input = h('input', {
    id: 'annotator',
    type: 'text',
    autocomplete: 'name',
    required: true,
    autofocus: current === undefined,
    value: current ?? '',
    'data-focus-key': 'annotator',
  });
  return h(
    'form',
    {
      class: 'annotator-form',
      onsubmit: (event: Event) => {
        event.preventDefault();
        const name = input.value.trim();
        if (name !== '') onName(name);
      },
    },
    h('label', { for: 'annotator' }, 'Annotator'),
    ' ',
    input,
    ' ',
    h('button', { type: 'submit' }, current ? 'Switch annotator' : 'Start labelling'),
    h(
      'p',
      { class: 'hint' },
      'Your labels are kept in this browser under this name, for these results only.',
    ),
  );
}

function blindToggle(ctx: AppContext, route: LabelRoute): HTMLElement {
  return h(
    'label',
    { class: 'toggle' },
    h('input', {
      type: 'checkbox',
      id: 'blind-mode',
      checked: route.blind,
      'data-focus-key': 'blind-mode',
      onchange: (event: Event) =>
        ctx.navigate({ ...route, blind: (event.target as HTMLInputElement).checked }, { replace: true }),
    }),
    " Blind mode: show no labeler's labels or scores",
  );
}

/** The export and import buttons, with the message line they report in. */
function transferControls(
  ctx: AppContext,
  store: LabelStore,
  getSession: () => LabelSession,
  onImported: (session: LabelSession) => void,
): HTMLElement {
  const message = h('p', { class: 'transfer-status', role: 'status', 'aria-live': 'polite' });
  const file = h('input', { type: 'file', accept: '.csv,text/csv', hidden: true, id: 'import-file' });
  file.addEventListener('change', async () => {
    const picked = file.files?.[0];
    file.value = '';
    if (!picked) return;
    try {
      const truth = parseGroundTruthCsv(await picked.text(), { source: picked.name });
      const result = importGroundTruth(getSession(), truth, ctx.manifest);
      await store.save(result.session);
      onImported(result.session);
      message.textContent = `Imported ${result.imported} decision${result.imported === 1 ? '' : 's'} from ${picked.name}${result.unknown > 0 ? `; ${result.unknown} row(s) name neurons these results do not have and were left out` : ''}.`;
    } catch (error) {
      message.setAttribute('role', 'alert');
      message.textContent = (error as Error).message;
    }
  });
  return h(
    'div',
    { class: 'transfer' },
    h(
      'button',
      {
        type: 'button',
        id: 'export-ground-truth',
        onclick: () => {
          const { rows, annotation } = exportRows(getSession(), ctx.manifest);
          download('ground-truth.csv', formatGroundTruthCsv(rows, annotation));
          message.setAttribute('role', 'status');
          message.textContent = `Exported ${rows.length} labelled neuron${rows.length === 1 ? '' : 's'} as ground-truth.csv.`;
        },
      },
      'Export ground truth',
    ),
    ' ',
    h(
      'button',
      { type: 'button', id: 'import-ground-truth', onclick: () => file.click() },
      'Import ground truth',
    ),
    file,
    message,
  );
}

/** Label mode: `#/label` (annotator, sample, progress per layer) and `#/label/LAYER` (one neuron at a time). */
export async function renderLabel(ctx: AppContext, route: LabelRoute): Promise<LabelPage> {
  const store = ctx.labelStore;
  const none = (page: { title: string; content: Node }): LabelPage => ({ ...page, onKeyDown: () => false });
  if (store === undefined)
    return none(renderNotFound('Label mode needs the browser storage this page lacks.'));
  if (route.layer !== undefined && ctx.layer(route.layer) === undefined)
    return none(renderNotFound(`The site has no layer "${route.layer}".`));
  const identity = resultsIdentity(ctx.manifest);
  const annotator = await store.lastAnnotator(identity);
  const breadcrumbs = h(
    'nav',
    { class: 'breadcrumbs', 'aria-label': 'Breadcrumbs' },
    h('a', { href: '#/' }, 'Overview'),
    route.layer === undefined
      ? null
      : [' › ', h('a', { href: formatRoute({ kind: 'label', blind: route.blind }) }, 'Label neurons')],
  );
  const title = `${route.layer === undefined ? 'Label neurons' : `Label ${route.layer}`} — ${ctx.manifest.title}`;
  const switchTo = async (name: string) => {
    await store.setLastAnnotator(identity, name);
    ctx.navigate(route, { replace: true });
  };
  if (annotator === undefined) {
    const content = h(
      'div',
      { class: 'page label-mode' },
      breadcrumbs,
      h('h1', { tabindex: '-1' }, 'Label neurons'),
      intro(ctx, route.blind),
      annotatorForm(undefined, (name) => void switchTo(name)),
    );
    return { title, content, onKeyDown: () => false };
  }
  const session = await store.load(identity, annotator);
  return route.layer === undefined
    ? renderLabelOverview(ctx, route, store, session, breadcrumbs, title, switchTo)
    : renderLabelLayer(ctx, route, ctx.layer(route.layer)!, store, session, breadcrumbs, title);
}

function intro(ctx: AppContext, blind: boolean): HTMLElement {
  const labeler = primaryLabeler(ctx.manifest);
  return h(
    'p',
    {},
    blind || labeler === undefined
      ? 'Ground truth by hand: for each neuron, its top activating images; write what they show, or mark the neuron non-interpretable.'
      : `Ground truth by hand, as the report made it: for each neuron, its top activating images and ${labeler}'s top 3 labels; accept one, write your own, or mark the neuron non-interpretable.`,
    ' Every decision is saved in this browser at once; export the ground truth for "neurodissect eval --ground-truth".',
  );
}

function renderLabelOverview(
  ctx: AppContext,
  route: LabelRoute,
  store: LabelStore,
  start: LabelSession,
  breadcrumbs: HTMLElement,
  title: string,
  switchTo: (name: string) => Promise<void>,
): LabelPage {
  let session = start;
  const layers = ctx.manifest.layers;
  const tbody = h('tbody');
  const sampleStatus = h('p', { class: 'sample-status', role: 'status', 'aria-live': 'polite' });
  const drawTable = () => {
    sampleStatus.textContent = session.sample
      ? `Labelling a random sample of ${session.sample.perLayer} neurons per layer (seed ${session.sample.seed}).`
      : 'Labelling every neuron, layer by layer.';
    tbody.replaceChildren(
      ...layers.map((layer) => {
        const order = labelOrder(session, layer);
        return h(
          'tr',
          { 'data-layer': layer.name },
          h(
            'th',
            { scope: 'row' },
            h(
              'a',
              { href: formatRoute({ kind: 'label', layer: layer.name, blind: route.blind }) },
              layer.name,
            ),
          ),
          h(
            'td',
            { class: 'num' },
            `${labelledCount(session, layer.name, order)} of ${order.length} labelled`,
          ),
        );
      }),
    );
  };
  drawTable();
  const size = h('input', {
    id: 'sample-size',
    type: 'number',
    min: 1,
    step: 1,
    value: session.sample?.perLayer ?? 50,
  });
  const seed = h('input', { id: 'sample-seed', type: 'number', step: 1, value: session.sample?.seed ?? 1 });
  const sampleForm = h(
    'form',
    {
      class: 'sample-form',
      onsubmit: async (event: Event) => {
        event.preventDefault();
        try {
          session = { ...session, sample: drawSample(layers, Number(size.value), Number(seed.value)) };
        } catch (error) {
          sampleStatus.textContent = (error as Error).message;
          return;
        }
        await store.save(session);
        drawTable();
      },
    },
    h('h2', {}, 'Label a random sample'),
    h(
      'p',
      {},
      "A seeded random sample of n neurons per layer gives the report's Table 1 with honest error bars (95% Wilson intervals) from far fewer decisions; the export records the sample.",
    ),
    h('label', { for: 'sample-size' }, 'Neurons per layer'),
    ' ',
    size,
    ' ',
    h('label', { for: 'sample-seed' }, 'Seed'),
    ' ',
    seed,
    ' ',
    h('button', { type: 'submit', id: 'draw-sample' }, 'Draw sample'),
    ' ',
    h(
      'button',
      {
        type: 'button',
        id: 'label-every-neuron',
        onclick: async () => {
          const { sample: _, ...rest } = session;
          session = rest;
          await store.save(session);
          drawTable();
        },
      },
      'Label every neuron',
    ),
  );
  const content = h(
    'div',
    { class: 'page label-mode' },
    breadcrumbs,
    h('h1', { tabindex: '-1' }, 'Label neurons'),
    intro(ctx, route.blind),
    annotatorForm(session.annotator, (name) => void switchTo(name)),
    blindToggle(ctx, route),
    sampleForm,
    sampleStatus,
    h(
      'section',
      { 'aria-labelledby': 'label-layers-heading' },
      h('h2', { id: 'label-layers-heading' }, 'Layers'),
      h(
        'table',
        { class: 'data-table label-layers' },
        h('caption', {}, `Progress of ${session.annotator}`),
        h(
          'thead',
          {},
          h('tr', {}, h('th', { scope: 'col' }, 'Layer'), h('th', { scope: 'col' }, 'Progress')),
        ),
        tbody,
      ),
    ),
    transferControls(
      ctx,
      store,
      () => session,
      (next) => {
        session = next;
        drawTable();
      },
    ),
    h(
      'section',
      { 'aria-labelledby': 'keys-heading' },
      h('h2', { id: 'keys-heading' }, 'Keys'),
      keyList(route.blind),
    ),
  );
  return { title, content, onKeyDown: () => false };
}

async function renderLabelLayer(
  ctx: AppContext,
  route: LabelRoute,
  entry: SiteLayerEntry,
  store: LabelStore,
  start: LabelSession,
  breadcrumbs: HTMLElement,
  title: string,
): Promise<LabelPage> {
  let session = start;
  const layer = entry.name;
  const blind = route.blind;
  const labeler = primaryLabeler(ctx.manifest);
  const order = labelOrder(session, entry);
  const dataPromise = ctx.layerData(layer);
  const conceptPromise = ctx.conceptWords().catch(() => [] as string[]);
  let concepts: string[] = [];
  let conceptSet = new Set<string>();
  void conceptPromise.then((words) => {
    concepts = words;
    conceptSet = new Set(words.map((w) => w.toLowerCase()));
  });

  const progress = h('p', { class: 'label-progress', role: 'status', 'aria-live': 'polite' });
  const saved = h('p', { class: 'label-saved', 'aria-live': 'polite' });
  const neuronView = h('section', { class: 'label-neuron', 'aria-labelledby': 'label-unit-heading' });
  let unit: number | undefined =
    session.current[layer] !== undefined && order.includes(session.current[layer])
      ? session.current[layer]
      : (nextUnlabelled(session, layer, order) ?? order[0]);

  const drawProgress = () => {
    const done = labelledCount(session, layer, order);
    progress.textContent = `${layer}: ${done} of ${order.length} labelled${session.sample ? ` (a random sample of ${order.length} of ${entry.unitList.length} neurons, seed ${session.sample.seed})` : ''}${done === order.length && order.length > 0 ? ' — every neuron is labelled' : ''}`;
  };

  async function persist(): Promise<void> {
    await store.save(session);
  }

  // The own-label field and its suggestions.
  const ownInput = h('input', {
    id: 'own-label',
    type: 'text',
    role: 'combobox',
    autocomplete: 'off',
    'aria-autocomplete': 'list',
    'aria-expanded': 'false',
    'aria-controls': 'own-suggestions',
    'data-focus-key': 'own-label',
  });
  const suggestionList = h('ul', {
    id: 'own-suggestions',
    role: 'listbox',
    class: 'suggestions',
    'aria-label': 'Suggestions',
  });
  const confirmation = h('p', { class: 'own-confirm', role: 'alert', hidden: true });
  let suggestions: string[] = [];
  let active = -1;
  let pending: string | undefined;
  const drawSuggestions = () => {
    suggestionList.replaceChildren(
      ...suggestions.map((word, i) =>
        h(
          'li',
          {
            role: 'option',
            id: `own-suggestion-${i}`,
            'aria-selected': i === active ? 'true' : 'false',
            onmousedown: (event: Event) => {
              event.preventDefault();
              ownInput.value = word;
              suggestions = [];
              drawSuggestions();
            },
          },
          word,
        ),
      ),
    );
    ownInput.setAttribute('aria-expanded', suggestions.length > 0 ? 'true' : 'false');
    if (active >= 0) ownInput.setAttribute('aria-activedescendant', `own-suggestion-${active}`);
    else ownInput.removeAttribute('aria-activedescendant');
  };
  const suggest = (text: string) => {
    const query = text.trim().toLowerCase();
    active = -1;
    if (query === '') suggestions = [];
    else {
      const starts: string[] = [];
      const contains: string[] = [];
      for (const word of concepts) {
        const lower = word.toLowerCase();
        if (lower.startsWith(query)) starts.push(word);
        else if (lower.includes(query)) contains.push(word);
        if (starts.length >= SUGGESTIONS) break;
      }
      suggestions = [...starts, ...contains].slice(0, SUGGESTIONS);
    }
    drawSuggestions();
  };
  const leaveField = () => {
    suggestions = [];
    drawSuggestions();
    confirmation.hidden = true;
    pending = undefined;
    neuronView.querySelector<HTMLElement>('h2')?.focus();
  };
  ownInput.addEventListener('input', () => {
    pending = undefined;
    confirmation.hidden = true;
    suggest(ownInput.value);
  });
  ownInput.addEventListener('keydown', (event) => {
    if (event.key === 'ArrowDown' || event.key === 'ArrowUp') {
      if (suggestions.length === 0) return;
      event.preventDefault();
      const step = event.key === 'ArrowDown' ? 1 : -1;
      active = (active + step + suggestions.length) % suggestions.length;
      ownInput.value = suggestions[active];
      drawSuggestions();
    } else if (event.key === 'Tab' && !event.shiftKey && suggestions.length > 0) {
      event.preventDefault();
      ownInput.value = suggestions[Math.max(active, 0)];
      suggestions = [];
      active = -1;
      drawSuggestions();
    } else if (event.key === 'Enter') {
      event.preventDefault();
      const text = ownInput.value.trim();
      if (text === '') return;
      if (!conceptSet.has(text.toLowerCase()) && pending !== text) {
        pending = text;
        confirmation.hidden = false;
        confirmation.textContent = `"${text}" is not in the concept set (${ctx.manifest.concepts.name}). Press Enter again to save it as typed, or change it.`;
        return;
      }
      enqueue(() => record({ label: text, how: 'own', blind }));
    } else if (event.key === 'Escape') {
      event.preventDefault();
      leaveField();
    }
  });

  async function record(decision: LabelDecision): Promise<void> {
    if (unit === undefined) return;
    const decided = unit;
    session = decide(session, layer, decided, decision);
    const next = nextUnlabelled(session, layer, order, decided);
    session = { ...session, current: { ...session.current, [layer]: next ?? decided } };
    await persist();
    saved.textContent = `Saved ${layer} unit ${decided}: ${decision.label === null ? 'non-interpretable' : decision.label}.`;
    await show(next ?? decided);
  }

  async function show(target: number | undefined): Promise<void> {
    unit = target;
    drawProgress();
    ownInput.value = '';
    pending = undefined;
    confirmation.hidden = true;
    suggestions = [];
    drawSuggestions();
    if (unit === undefined) {
      neuronView.replaceChildren(
        h('h2', { id: 'label-unit-heading', tabindex: '-1' }, 'This layer has no neurons to label.'),
      );
      return;
    }
    if (session.current[layer] !== unit) {
      session = { ...session, current: { ...session.current, [layer]: unit } };
      void persist();
    }
    const data = await dataPromise;
    if (unit !== target) return;
    const neuron = data.neurons.find((n) => n.unit === unit);
    const position = order.indexOf(unit);
    const decision = session.decisions[neuronKey(layer, unit)];
    const offered: ScoredLabel[] =
      blind || labeler === undefined ? [] : (neuron?.labels[labeler] ?? []).slice(0, 3);
    const { grid, heatmapToggle } = neuron
      ? topImagesView(neuron, data, { activations: !blind, limit: TOP_IMAGES })
      : { grid: h('p', {}, 'This neuron has no top images.'), heatmapToggle: null };
    neuronView.replaceChildren();
    append(neuronView, [
      h('h2', { id: 'label-unit-heading', tabindex: '-1', 'data-unit': unit }, `Unit ${unit}`),
      h(
        'p',
        { class: 'label-position' },
        `Neuron ${position + 1} of ${order.length} in ${session.sample ? "the sample's" : 'unit'} order.`,
      ),
      h(
        'p',
        { class: 'label-decision', 'data-decided': decision === undefined ? 'no' : 'yes' },
        describeDecision(decision),
      ),
      offered.length > 0
        ? h(
            'ol',
            {
              class: 'offered',
              'aria-label': `${labeler}'s top ${offered.length} labels`,
              'data-labeler': labeler ?? '',
            },
            offered.map((label, i) =>
              h(
                'li',
                {},
                h(
                  'button',
                  {
                    type: 'button',
                    'data-offered': i + 1,
                    onclick: () => enqueue(() => record({ label: label.label, how: 'offered', blind })),
                  },
                  h('kbd', {}, String(i + 1)),
                  ` ${label.label} `,
                  h('span', { class: 'score' }, label.score.toFixed(3)),
                ),
              ),
            ),
          )
        : null,
      h(
        'div',
        { class: 'own-label' },
        h('label', { for: 'own-label' }, 'Own label '),
        ownInput,
        suggestionList,
        confirmation,
      ),
      h(
        'div',
        { class: 'label-actions' },
        h(
          'button',
          {
            type: 'button',
            id: 'non-interpretable',
            onclick: () => enqueue(() => record({ label: null, how: 'non-interpretable', blind })),
          },
          'Non-interpretable (n)',
        ),
        ' ',
        h(
          'button',
          { type: 'button', id: 'label-previous', onclick: () => enqueue(() => step(-1)) },
          '← Previous (k)',
        ),
        ' ',
        h(
          'button',
          { type: 'button', id: 'label-next', onclick: () => enqueue(() => step(1)) },
          'Next (j) →',
        ),
        ' ',
        h('button', { type: 'button', id: 'label-undo', onclick: () => enqueue(undoLast) }, 'Undo (u)'),
      ),
      h('h3', {}, `Top ${Math.min(TOP_IMAGES, neuron?.topImages.length ?? 0)} activating images`),
      heatmapToggle,
      grid,
    ]);
  }

  async function step(delta: number): Promise<void> {
    if (unit === undefined || order.length === 0) return;
    const i = order.indexOf(unit) + delta;
    if (i < 0 || i >= order.length) return;
    await show(order[i]);
    neuronView.querySelector<HTMLElement>('h2')?.focus();
  }

  async function undoLast(): Promise<void> {
    const undone = undo(session);
    if (undone === undefined) {
      saved.textContent = 'Nothing to undo.';
      return;
    }
    session = { ...undone.session, current: { ...undone.session.current, [undone.layer]: undone.unit } };
    await persist();
    saved.textContent = `Undid the decision on ${undone.layer} unit ${undone.unit}.`;
    if (undone.layer !== layer) ctx.navigate({ kind: 'label', layer: undone.layer, blind });
    else await show(undone.unit);
  }

  // Keys act one after another, each on the neuron the one before it left shown.
  let queue: Promise<void> = Promise.resolve();
  const enqueue = (action: () => Promise<void>) => {
    queue = queue.then(action).catch((error: Error) => {
      saved.textContent = error.message;
    });
  };
  const acceptOffered = async (index: number) => {
    if (blind || labeler === undefined || unit === undefined) return;
    const data = await dataPromise;
    const label = data.neurons.find((n) => n.unit === unit)?.labels[labeler]?.[index];
    if (label) await record({ label: label.label, how: 'offered', blind });
  };

  const onKeyDown = (event: KeyboardEvent): boolean => {
    switch (event.key) {
      case '1':
      case '2':
      case '3':
        if (blind) return false;
        enqueue(() => acceptOffered(Number(event.key) - 1));
        return true;
      case 'o':
        ownInput.focus();
        return true;
      case 'n':
        enqueue(() => record({ label: null, how: 'non-interpretable', blind }));
        return true;
      case 'j':
      case 'ArrowRight':
        enqueue(() => step(1));
        return true;
      case 'k':
      case 'ArrowLeft':
        enqueue(() => step(-1));
        return true;
      case 'u':
        enqueue(undoLast);
        return true;
      default:
        return false;
    }
  };

  drawProgress();
  const content = h(
    'div',
    { class: 'page label-mode', 'data-layer': layer, 'data-blind': blind ? 'yes' : 'no' },
    breadcrumbs,
    h('h1', { tabindex: '-1' }, `Label ${layer}`),
    progress,
    h(
      'p',
      { class: 'label-annotator' },
      `Annotator: ${session.annotator} `,
      h('a', { href: formatRoute({ kind: 'label', blind }) }, '(change, or draw a sample)'),
    ),
    blindToggle(ctx, route),
    neuronView,
    saved,
    transferControls(
      ctx,
      store,
      () => session,
      (next) => {
        session = next;
        ctx.navigate(route, { replace: true });
      },
    ),
    h(
      'section',
      { 'aria-labelledby': 'keys-heading' },
      h('h2', { id: 'keys-heading' }, 'Keys'),
      keyList(blind),
    ),
  );
  await show(unit);
  return { title, content, onKeyDown };
}

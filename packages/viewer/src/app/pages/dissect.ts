import { type ProgressEvent, type Results, SIMILARITY_NAMES, type SimilarityName } from '@neurodissect/core';
import { LABELER_NAMES, type LabelerName } from '@neurodissect/labelers';
import { createFileDataset } from '@neurodissect/runtime-web';
import { createToyWorldDataset, encodeRgbPng, toyWorldConceptList } from '@neurodissect/toyworld';
import type { FromWorker, InBrowserJob, ToWorker } from '../../in-browser/protocol';
import { shownImages, siteContentFromResults } from '../../site-content';
import type { SiteImage } from '../../site-data';
import type { AppContext } from '../context';
import { h } from '../dom';

type Picked = { path: string; file: File };

/** One run of the page, kept while the user browses elsewhere in the site. */
interface RunState {
  worker?: Worker;
  running: boolean;
  status: string;
  progress?: ProgressEvent;
  startedAt?: number;
  seconds?: number;
  /** Finished layers so far (from the worker's `layer` messages), and their Results. */
  layersDone: string[];
  partial?: Results;
  results?: Results;
  error?: string;
  /** What the run's images were, to show them once the results open. */
  probe?: InBrowserJob['probe'];
  downloadUrl?: string;
  /** The target model's layers, once listed. */
  layerList?: { name: string; shape?: (number | string)[] }[];
}

const state: RunState = { running: false, status: 'Not started.', layersDone: [] };
/** The page's live elements while it is shown (updated by worker messages). */
let view:
  | {
      layerList: HTMLElement;
      layersInput: HTMLInputElement;
      status: HTMLElement;
      progress: HTMLProgressElement;
      detail: HTMLElement;
      outcome: HTMLElement;
      run: HTMLButtonElement;
      cancel: HTMLButtonElement;
    }
  | undefined;
let appContext: AppContext | undefined;

const LABELER_TEXT: Record<LabelerName, string> = {
  'clip-dissect': 'CLIP-Dissect (needs CLIP)',
  'clip-avg': 'CLIP-avg (needs CLIP)',
  'broden-label': 'Broden-label (needs annotated probe images: the toy world)',
  netdissect: 'NetDissect IoU (needs annotated probe images: the toy world)',
};

function picked(input: HTMLInputElement): Picked[] {
  return Array.from(input.files ?? [], (file) => ({
    path: (file as File & { webkitRelativePath?: string }).webkitRelativePath || file.name,
    file,
  }));
}

function absolute(path: string): string {
  return new URL(path, location.href).href;
}

function radio(name: string, value: string, text: string, checked: boolean, disabled = false): HTMLElement {
  const id = `${name}-${value}`;
  return h(
    'div',
    { class: 'choice' },
    h('input', { type: 'radio', name, value, id, checked, disabled }),
    h('label', { for: id }, text),
  );
}

function fileField(id: string, text: string, folder: boolean, accept?: string): HTMLElement {
  const input = h('input', { type: 'file', id, ...(accept ? { accept } : {}) });
  if (folder) {
    input.setAttribute('webkitdirectory', '');
    input.multiple = true;
  }
  return h('div', { class: 'field' }, h('label', { for: id }, text), input);
}

function selected(form: HTMLFormElement, name: string): string {
  return (form.querySelector<HTMLInputElement>(`input[name="${name}"]:checked`)?.value ?? '').trim();
}

function value(form: HTMLFormElement, id: string): string {
  return (
    form.querySelector<HTMLInputElement | HTMLTextAreaElement | HTMLSelectElement>(`#${id}`)?.value ?? ''
  ).trim();
}

function urlsOf(ctx: AppContext): InBrowserJob['urls'] {
  const inBrowser = ctx.inBrowser!;
  return {
    ort: absolute(inBrowser.ort),
    ...(inBrowser.toyWorld === undefined ? {} : { toyWorld: absolute(inBrowser.toyWorld) }),
  };
}

function targetFromForm(form: HTMLFormElement): InBrowserJob['target'] {
  if (selected(form, 'target') === 'toyworld') return { kind: 'toyworld' };
  const file = form.querySelector<HTMLInputElement>('#target-model-file')!.files?.[0];
  if (!file) throw new Error('Pick the target model: an .onnx file.');
  return { kind: 'file', file, name: file.name };
}

/** Reads the form into a job, or says what is missing. */
function jobFromForm(form: HTMLFormElement, ctx: AppContext): InBrowserJob {
  const urls = urlsOf(ctx);
  const fileInput = (id: string) => form.querySelector<HTMLInputElement>(`#${id}`)!;
  const target = targetFromForm(form);
  let clip: InBrowserJob['clip'];
  if (selected(form, 'clip') === 'toyworld') clip = { kind: 'toyworld' };
  else {
    const files = picked(fileInput('clip-folder'));
    if (files.length) clip = { kind: 'files', files };
  }
  let probe: InBrowserJob['probe'];
  if (selected(form, 'probe') === 'toyworld') {
    const seed = Number(value(form, 'probe-seed'));
    const count = Number(value(form, 'probe-count'));
    if (!Number.isInteger(seed) || seed < 0)
      throw new Error('The toy world seed must be a whole number ≥ 0.');
    if (!Number.isInteger(count) || count < 1 || count > 20000)
      throw new Error('The number of toy-world images must be a whole number from 1 to 20,000.');
    probe = { kind: 'toyworld', seed, count };
  } else {
    const files = picked(fileInput('probe-folder'));
    if (!files.length) throw new Error('Pick a folder of probe images.');
    probe = { kind: 'files', files };
  }
  const layers = value(form, 'layers')
    .split(',')
    .map((l) => l.trim())
    .filter(Boolean);
  if (!layers.length) throw new Error('Name at least one layer, e.g. layer4.');
  const labelers = LABELER_NAMES.filter(
    (id) => form.querySelector<HTMLInputElement>(`#labeler-${id}`)?.checked,
  );
  if (!labelers.length) throw new Error('Choose at least one labeler.');
  const concepts = value(form, 'concepts');
  if (!concepts) throw new Error('The concept list is empty; write one concept per line.');
  const inputSize = value(form, 'input-size');
  const providers = value(form, 'providers');
  return {
    target,
    ...(clip === undefined ? {} : { clip }),
    probe,
    concepts,
    conceptsName: 'concepts (typed in the page)',
    layers,
    labelers,
    similarity: value(form, 'similarity') as SimilarityName,
    preset: value(form, 'preset') === 'clip' ? 'clip' : 'imagenet',
    ...(inputSize === '' ? {} : { inputSize: Number(inputSize) }),
    executionProviders:
      providers === 'wasm' ? ['wasm'] : providers === 'webgpu' ? ['webgpu'] : ['webgpu', 'wasm'],
    strict: providers === 'webgpu',
    batchSize: 16,
    heatmaps: true,
    cache: form.querySelector<HTMLInputElement>('#cache-features')?.checked ?? true,
    urls,
  };
}

function progressText(event: ProgressEvent | undefined): string {
  if (event === undefined) return '';
  const total = event.total === undefined ? '' : ` of ${event.total}`;
  return `${event.stage}: ${event.done}${total}`;
}

/** Brings the live elements in line with {@link state}. */
function update(): void {
  if (!view) return;
  view.status.textContent = state.status;
  const event = state.progress;
  if (state.running && event?.total) {
    view.progress.max = event.total;
    view.progress.value = event.done;
  } else if (state.running) {
    view.progress.removeAttribute('value');
  } else {
    view.progress.max = 1;
    view.progress.value = state.results ? 1 : 0;
  }
  view.detail.textContent = [
    state.running ? progressText(event) : '',
    state.layersDone.length ? `Finished layers: ${state.layersDone.join(', ')}.` : '',
  ]
    .filter(Boolean)
    .join(' ');
  view.run.disabled = state.running;
  view.layerList.replaceChildren(...layerButtons(view.layersInput));
  view.cancel.disabled = !state.running;
  view.outcome.replaceChildren(...outcome());
}

function outcome(): Node[] {
  const nodes: Node[] = [];
  if (state.error) nodes.push(h('p', { role: 'alert', class: 'error' }, state.error));
  if (state.results) {
    const r = state.results;
    nodes.push(
      h(
        'p',
        {},
        `${r.layers.length} layer(s), ${r.layers.reduce((n, l) => n + l.neurons.length, 0)} neurons, ${r.probe.images.length} images, ${r.concepts.size} concepts, on ${r.run.runtime?.executionProvider ?? '?'}${state.seconds === undefined ? '' : ` in ${state.seconds.toFixed(1)} s`}.`,
      ),
      h(
        'div',
        { class: 'actions' },
        h(
          'button',
          { type: 'button', id: 'open-results', onclick: () => void openResults().catch(showOpenError) },
          'Open in the viewer',
        ),
        h(
          'a',
          { id: 'download-results', href: state.downloadUrl, download: 'results.json' },
          'Download results.json',
        ),
      ),
    );
  }
  return nodes;
}

/** The listed layers, each a button that adds it to the layers field. */
function layerButtons(input: HTMLInputElement): Node[] {
  if (!state.layerList) return [];
  return [
    h('span', {}, `${state.layerList.length} layers (click to add): `),
    ...state.layerList.map((layer) =>
      h(
        'button',
        {
          type: 'button',
          class: 'layer-chip',
          title: layer.shape ? `shape [${layer.shape.join(', ')}]` : undefined,
          onclick: () => {
            const names = input.value
              .split(',')
              .map((n) => n.trim())
              .filter(Boolean);
            if (!names.includes(layer.name)) input.value = [...names, layer.name].join(',');
          },
        },
        layer.name,
      ),
    ),
  ];
}

/** Keeps a run's Results and its download link (one object URL per Results, the old one released). */
function setResults(results: Results): void {
  state.results = results;
  if (state.downloadUrl) URL.revokeObjectURL(state.downloadUrl);
  state.downloadUrl = URL.createObjectURL(new Blob([JSON.stringify(results)], { type: 'application/json' }));
}

function onMessage(message: FromWorker): void {
  switch (message.type) {
    case 'layers':
      state.layerList = message.layers;
      state.status = state.running ? state.status : 'Not started.';
      break;
    case 'status':
      state.status = `${message.message}…`;
      break;
    case 'progress':
      state.progress = message.event;
      break;
    case 'layer':
      state.layersDone = message.results.layers.map((l) => l.name);
      state.partial = message.results;
      break;
    case 'done':
      state.running = false;
      setResults(message.results);
      state.seconds = message.seconds;
      state.status = 'Done.';
      break;
    case 'error':
      state.running = false;
      state.status = message.cancelled ? 'Cancelled.' : 'Failed.';
      state.error = message.cancelled
        ? `Cancelled${message.partial ? `; the finished layers (${message.partial.layers.map((l) => l.name).join(', ')}) can still be opened or downloaded` : ''}.`
        : message.message;
      if (message.partial) setResults(message.partial);
      break;
  }
  update();
}

function worker(ctx: AppContext): Worker {
  state.worker ??= (() => {
    const worker = new Worker(ctx.inBrowser!.worker, { type: 'module' });
    worker.addEventListener('message', (event: MessageEvent<FromWorker>) => onMessage(event.data));
    worker.addEventListener('error', (event) => {
      state.running = false;
      state.status = 'Failed.';
      state.error = `The dissection worker failed to start or crashed: ${event.message || 'no details'}. Serve the site over http (neurodissect serve DIR); pages opened from file:// cannot start workers.`;
      state.worker = undefined;
      update();
    });
    return worker;
  })();
  return state.worker;
}

function start(job: InBrowserJob, ctx: AppContext): void {
  const w = worker(ctx);
  Object.assign(state, {
    running: true,
    status: 'Starting…',
    progress: undefined,
    layersDone: [],
    partial: undefined,
    results: undefined,
    error: undefined,
    seconds: undefined,
    probe: job.probe,
    startedAt: performance.now(),
  });
  update();
  w.postMessage({ type: 'run', job } satisfies ToWorker);
}

/** How long a cancelled run may take to stop before its worker is terminated. */
const CANCEL_GRACE_MS = 5000;

/** Asks the worker to stop; a worker stuck in a long computation is terminated after a grace period. */
function cancelRun(): void {
  const worker = state.worker;
  if (!state.running || !worker) return;
  state.status = 'Cancelling…';
  update();
  worker.postMessage({ type: 'cancel' } satisfies ToWorker);
  setTimeout(() => {
    if (!state.running || state.worker !== worker) return;
    worker.terminate();
    state.worker = undefined;
    onMessage({
      type: 'error',
      message: 'cancelled',
      cancelled: true,
      ...(state.partial === undefined ? {} : { partial: state.partial }),
    });
  }, CANCEL_GRACE_MS);
}

/** A PNG object URL of an RGB image (encoded in JavaScript: a canvas round trip is far slower). */
function pngUrl(image: { width: number; height: number; data: Uint8Array }): string {
  return URL.createObjectURL(new Blob([encodeRgbPng(image) as BlobPart], { type: 'image/png' }));
}

function showOpenError(error: unknown): void {
  state.error = `The results could not be opened: ${error instanceof Error ? error.message : String(error)}`;
  update();
}

/** Shows the run's results in the viewer: thumbnails from the generated or picked images. */
async function openResults(): Promise<void> {
  const results = state.results;
  const ctx = appContext;
  if (!results || !ctx) return;
  state.status = 'Opening the results…';
  update();
  const probe = state.probe;
  const thumbs = new Map<number, string>();
  const shown = shownImages(results);
  if (probe?.kind === 'toyworld') {
    const world = createToyWorldDataset({ seed: probe.seed, count: probe.count });
    for (const index of shown) thumbs.set(index, pngUrl(world.image(index).image));
  } else if (probe?.kind === 'files') {
    // The worker's dataset, rebuilt here (no decoding): item i is files[i].
    const { files } = createFileDataset(probe.files);
    for (const index of shown) thumbs.set(index, URL.createObjectURL(files[index].file));
  }
  const content = await siteContentFromResults(results, {
    title: `${results.model.name}, dissected in this browser`,
    image: (index): SiteImage => {
      const entry = results.probe.images[index];
      const thumb = thumbs.get(index);
      return {
        uri: entry.uri,
        ...(entry.id === entry.uri ? {} : { id: entry.id }),
        ...(thumb === undefined ? { missing: 'not-found' as const } : { thumb }),
      };
    },
  });
  state.status = 'Done.';
  ctx.open(content);
}

/** "Dissect in your browser": pick a model, images and concepts; run in a worker; open the results. */
export function renderDissect(ctx: AppContext): { title: string; content: Node } {
  appContext = ctx;
  const title = 'Dissect in your browser';
  if (ctx.inBrowser === undefined) {
    return {
      title,
      content: h(
        'div',
        { class: 'page' },
        h('h1', { tabindex: '-1' }, title),
        h(
          'p',
          { role: 'alert' },
          'This site was built without the in-browser page; build it with "neurodissect site --dissect-page" (add --toyworld-models to carry the toy world).',
        ),
      ),
    };
  }
  const toy = ctx.inBrowser.toyWorld !== undefined;
  const layersInput = h('input', { id: 'layers', value: toy ? 'layer1,layer2,layer3,layer4' : 'layer4' });
  const layerList = h('div', { id: 'layer-list', class: 'layer-list' });
  const conceptsArea = h(
    'textarea',
    { id: 'concepts', rows: 8, spellcheck: 'false' },
    toy ? toyWorldConceptList().join('\n') : '',
  );
  const listLayers = h(
    'button',
    {
      type: 'button',
      id: 'list-layers',
      onclick: () => {
        try {
          const target = targetFromForm(form);
          state.error = undefined;
          state.status = 'Reading the model’s layers…';
          update();
          worker(ctx).postMessage({ type: 'list-layers', target, urls: urlsOf(ctx) } satisfies ToWorker);
        } catch (error) {
          state.error = (error as Error).message;
          update();
        }
      },
    },
    'List the model’s layers',
  );
  const form = h(
    'form',
    { class: 'dissect-form', 'aria-label': 'Dissection' },
    h(
      'fieldset',
      {},
      h('legend', {}, 'Target model'),
      radio('target', 'toyworld', "The toy world's CNN", toy, !toy),
      radio('target', 'file', 'An ONNX file', !toy),
      fileField('target-model-file', 'Model file (.onnx)', false, '.onnx'),
    ),
    h(
      'fieldset',
      {},
      h('legend', {}, 'CLIP model'),
      radio('clip', 'toyworld', "The toy world's CLIP", toy, !toy),
      radio('clip', 'files', 'A CLIP folder (Hugging Face ONNX layout)', !toy),
      fileField('clip-folder', 'CLIP folder', true),
    ),
    h(
      'fieldset',
      {},
      h('legend', {}, 'Probe images'),
      radio('probe', 'toyworld', 'The toy world, generated in this page', true),
      h(
        'div',
        { class: 'inline-fields' },
        h(
          'div',
          { class: 'field' },
          h('label', { for: 'probe-seed' }, 'Seed'),
          h('input', { id: 'probe-seed', type: 'number', min: 0, value: 0 }),
        ),
        h(
          'div',
          { class: 'field' },
          h('label', { for: 'probe-count' }, 'Images'),
          h('input', { id: 'probe-count', type: 'number', min: 1, max: 20000, value: 1000 }),
        ),
      ),
      radio('probe', 'files', 'A folder of images', false),
      fileField('probe-folder', 'Image folder', true),
    ),
    h('div', { class: 'field' }, h('label', { for: 'concepts' }, 'Concepts, one per line'), conceptsArea),
    h(
      'div',
      { class: 'field' },
      h('label', { for: 'concepts-file' }, 'Or load a concept list (.txt, one per line)'),
      h('input', {
        type: 'file',
        id: 'concepts-file',
        accept: '.txt,text/plain',
        onchange: (event: Event) => {
          const file = (event.target as HTMLInputElement).files?.[0];
          if (!file) return;
          file.text().then(
            (text) => {
              conceptsArea.value = text;
            },
            (error: unknown) => {
              state.error = `${file.name} could not be read: ${(error as Error).message}`;
              update();
            },
          );
        },
      }),
    ),
    h(
      'div',
      { class: 'inline-fields' },
      h('div', { class: 'field' }, h('label', { for: 'layers' }, 'Layers (comma-separated)'), layersInput),
      h(
        'div',
        { class: 'field' },
        h('label', { for: 'preset' }, 'Preprocessing'),
        h(
          'select',
          { id: 'preset' },
          h('option', { value: 'imagenet' }, 'ImageNet (torchvision)'),
          h('option', { value: 'clip' }, 'CLIP'),
        ),
      ),
      h(
        'div',
        { class: 'field' },
        h('label', { for: 'input-size' }, 'Input size (px)'),
        h('input', { id: 'input-size', type: 'number', min: 8, value: toy ? 64 : '' }),
      ),
      h(
        'div',
        { class: 'field' },
        h('label', { for: 'providers' }, 'Execution provider'),
        h(
          'select',
          { id: 'providers' },
          h('option', { value: 'auto' }, 'WebGPU, else WebAssembly'),
          h('option', { value: 'wasm' }, 'WebAssembly'),
          h('option', { value: 'webgpu' }, 'WebGPU only'),
        ),
      ),
    ),
    h('div', { class: 'actions' }, listLayers),
    h(
      'div',
      { class: 'choice' },
      h('input', { type: 'checkbox', id: 'cache-features', checked: true }),
      h(
        'label',
        { for: 'cache-features' },
        'Keep features in this browser (IndexedDB) so re-runs skip inference',
      ),
    ),
    layerList,
    h(
      'div',
      { class: 'field' },
      h('label', { for: 'similarity' }, "CLIP-Dissect's similarity function"),
      h(
        'select',
        { id: 'similarity' },
        SIMILARITY_NAMES.map((name) =>
          h('option', { value: name, selected: name === (toy ? 'wpmi' : 'soft_wpmi') }, name),
        ),
      ),
      h(
        'p',
        { class: 'hint' },
        'soft_wpmi is built for thousands of concepts; for a short list such as the toy world’s, wpmi.',
      ),
    ),
    h(
      'fieldset',
      {},
      h('legend', {}, 'Labelers'),
      LABELER_NAMES.map((id) =>
        h(
          'div',
          { class: 'choice' },
          h('input', { type: 'checkbox', id: `labeler-${id}`, checked: id === 'clip-dissect' }),
          h('label', { for: `labeler-${id}` }, LABELER_TEXT[id]),
        ),
      ),
    ),
  );
  const run = h('button', { type: 'submit', id: 'run-dissection' }, 'Run');
  const cancel = h(
    'button',
    {
      type: 'button',
      id: 'cancel-dissection',
      onclick: cancelRun,
    },
    'Cancel',
  );
  form.append(h('div', { class: 'actions' }, run, cancel));
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    if (state.running) return;
    try {
      start(jobFromForm(form, ctx), ctx);
    } catch (error) {
      state.error = (error as Error).message;
      state.status = 'Not started.';
      update();
    }
  });
  const status = h('p', { id: 'dissect-status' });
  const progress = h('progress', { id: 'dissect-progress', max: 1, value: 0 }) as HTMLProgressElement;
  const detail = h('p', { id: 'dissect-detail', class: 'hint' });
  const outcomeBox = h('div', { id: 'dissect-outcome' });
  view = { layerList, layersInput, status, progress, detail, outcome: outcomeBox, run, cancel };
  const content = h(
    'div',
    { class: 'page dissect' },
    h('h1', { tabindex: '-1' }, title),
    h(
      'p',
      {},
      'Everything runs in this page, with onnxruntime-web (WebGPU or WebAssembly) in a background worker: your model and images never leave this machine.',
    ),
    form,
    h(
      'section',
      { 'aria-labelledby': 'run-heading' },
      h('h2', { id: 'run-heading' }, 'Run'),
      h('div', { role: 'status', 'aria-live': 'polite' }, status, detail),
      progress,
      outcomeBox,
    ),
  );
  update();
  return { title, content };
}

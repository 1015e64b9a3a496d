import { type ProgressEvent, SIMILARITY_NAMES, type SimilarityName } from '@neurodissect/core';
import { LABELER_NAMES, LABELER_TITLES, type LabelerName, labelerRequirements } from '@neurodissect/labelers';
import { createFileDataset } from '@neurodissect/runtime-web';
import { createToyWorldDataset, encodeRgbPng, toyWorldVocabulary } from '@neurodissect/toyworld';
import type { InBrowserJob } from '../../in-browser/protocol';
import { shownImages, siteContentFromResults } from '../../site-content';
import type { SiteImage } from '../../site-data';
import type { AppContext } from '../context';
import { h } from '../dom';
import type { DissectController, DissectRunState } from './dissect-controller';
import { type DissectFormValues, jobFromValues, type PickedFile, targetFromValues } from './dissect-form';

/** A labeler's line in the form: its title and what it needs, from the labeler itself. */
function labelerText(id: LabelerName): string {
  const requires = labelerRequirements(id);
  const needs = [
    requires.includes('clip') ? 'CLIP' : undefined,
    requires.includes('annotations') ? 'annotated probe images: the toy world' : undefined,
  ].filter(Boolean);
  return needs.length ? `${LABELER_TITLES[id]} (needs ${needs.join(' and ')})` : LABELER_TITLES[id];
}

function picked(input: HTMLInputElement): PickedFile[] {
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

/** The form's values, read from its elements. */
function readForm(form: HTMLFormElement): DissectFormValues {
  const selected = (name: string) =>
    (form.querySelector<HTMLInputElement>(`input[name="${name}"]:checked`)?.value ?? '').trim();
  const value = (id: string) =>
    (
      form.querySelector<HTMLInputElement | HTMLTextAreaElement | HTMLSelectElement>(`#${id}`)?.value ?? ''
    ).trim();
  const input = (id: string) => form.querySelector<HTMLInputElement>(`#${id}`)!;
  const targetFile = input('target-model-file').files?.[0];
  const providers = value('providers');
  return {
    target: selected('target') === 'toyworld' ? 'toyworld' : 'file',
    ...(targetFile ? { targetFile: { file: targetFile, name: targetFile.name } } : {}),
    clip: selected('clip') === 'toyworld' ? 'toyworld' : 'files',
    clipFiles: picked(input('clip-folder')),
    probe: selected('probe') === 'toyworld' ? 'toyworld' : 'files',
    probeSeed: value('probe-seed'),
    probeCount: value('probe-count'),
    probeFiles: picked(input('probe-folder')),
    concepts: value('concepts'),
    layers: value('layers'),
    labelers: LABELER_NAMES.filter((id) => input(`labeler-${id}`)?.checked),
    similarity: value('similarity') as SimilarityName,
    preset: value('preset') === 'clip' ? 'clip' : 'imagenet',
    inputSize: value('input-size'),
    providers: providers === 'wasm' || providers === 'webgpu' ? providers : 'auto',
    cache: input('cache-features')?.checked ?? true,
  };
}

function urlsOf(ctx: AppContext): InBrowserJob['urls'] {
  const inBrowser = ctx.inBrowser!;
  return {
    ort: absolute(inBrowser.ort),
    ...(inBrowser.toyWorld === undefined ? {} : { toyWorld: absolute(inBrowser.toyWorld) }),
  };
}

function progressText(event: ProgressEvent | undefined): string {
  if (event === undefined) return '';
  const total = event.total === undefined ? '' : ` of ${event.total}`;
  return `${event.stage}: ${event.done}${total}`;
}

/** The page's live elements. */
interface DissectView {
  layerList: HTMLElement;
  layersInput: HTMLInputElement;
  status: HTMLElement;
  progress: HTMLProgressElement;
  detail: HTMLElement;
  outcome: HTMLElement;
  run: HTMLButtonElement;
  cancel: HTMLButtonElement;
}

/** Brings the view in line with the controller's state. */
function update(view: DissectView, state: DissectRunState, onOpen: () => void): void {
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
  view.layerList.replaceChildren(...layerButtons(state, view.layersInput));
  view.cancel.disabled = !state.running;
  view.outcome.replaceChildren(...outcome(state, onOpen));
}

function outcome(state: DissectRunState, onOpen: () => void): Node[] {
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
        h('button', { type: 'button', id: 'open-results', onclick: onOpen }, 'Open in the viewer'),
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
function layerButtons(state: DissectRunState, input: HTMLInputElement): Node[] {
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

/** A PNG object URL of an RGB image (encoded in JavaScript: a canvas round trip is far slower). */
function pngUrl(image: { width: number; height: number; data: Uint8Array }): string {
  return URL.createObjectURL(new Blob([encodeRgbPng(image) as BlobPart], { type: 'image/png' }));
}

/** Shows a run's results in the viewer: thumbnails from the generated or picked images. */
async function openResults(ctx: AppContext, controller: DissectController): Promise<void> {
  const { results, probe } = controller.state;
  if (!results) return;
  controller.setStatus('Opening the results…');
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
  controller.setStatus('Done.');
  ctx.open(content);
}

/** "Dissect in your browser": pick a model, images and concepts; run in a worker; open the results. */
export function renderDissect(
  ctx: AppContext,
  controller: DissectController | undefined,
): { title: string; content: Node } {
  const title = 'Dissect in your browser';
  if (ctx.inBrowser === undefined || controller === undefined) {
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
    toy ? toyWorldVocabulary().join('\n') : '',
  );
  const listLayers = h(
    'button',
    {
      type: 'button',
      id: 'list-layers',
      onclick: () => {
        try {
          controller.listLayers(targetFromValues(readForm(form)), urlsOf(ctx));
        } catch (error) {
          controller.report((error as Error).message);
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
            (error: unknown) =>
              controller.report(`${file.name} could not be read: ${(error as Error).message}`),
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
        SIMILARITY_NAMES.map((name) => h('option', { value: name, selected: name === 'soft_wpmi' }, name)),
      ),
      h(
        'p',
        { class: 'hint' },
        'soft_wpmi (CLIP-Dissect’s default) is built for thousands of concepts, such as the toy world’s vocabulary; for a short list of your own, wpmi.',
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
          h('label', { for: `labeler-${id}` }, labelerText(id)),
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
      onclick: () => controller.cancel(),
    },
    'Cancel',
  );
  form.append(h('div', { class: 'actions' }, run, cancel));
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    if (controller.state.running) return;
    try {
      controller.start(jobFromValues(readForm(form), urlsOf(ctx)));
    } catch (error) {
      controller.report((error as Error).message, 'Not started.');
    }
  });
  const status = h('p', { id: 'dissect-status' });
  const progress = h('progress', { id: 'dissect-progress', max: 1, value: 0 }) as HTMLProgressElement;
  const detail = h('p', { id: 'dissect-detail', class: 'hint' });
  const outcomeBox = h('div', { id: 'dissect-outcome' });
  const view: DissectView = {
    layerList,
    layersInput,
    status,
    progress,
    detail,
    outcome: outcomeBox,
    run,
    cancel,
  };
  const onOpen = () => {
    openResults(ctx, controller).catch((error: unknown) =>
      controller.report(
        `The results could not be opened: ${error instanceof Error ? error.message : String(error)}`,
      ),
    );
  };
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
  update(view, controller.state, onOpen);
  // The view follows the controller while it is on the page; the run goes on when the page is left
  // (the view stops listening once it has been shown and removed).
  let shown = false;
  const unsubscribe = controller.subscribe((state) => {
    if (content.isConnected) shown = true;
    else if (shown) {
      unsubscribe();
      return;
    }
    update(view, state, onOpen);
  });
  return { title, content };
}

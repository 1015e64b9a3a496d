import type { Results } from '@neurodissect/core';
import { resultsFixture } from '@neurodissect/core/testing';
import { describe, expect, it, vi } from 'vitest';
import { createDissectController, type DissectRunState } from '../src/app/pages/dissect-controller';
import { type DissectFormValues, jobFromValues } from '../src/app/pages/dissect-form';
import type { FromWorker, InBrowserJob, ToWorker } from '../src/in-browser/protocol';

/** A stand-in for the dissection worker: records what the page sends, answers on demand. */
class FakeWorker extends EventTarget {
  readonly sent: ToWorker[] = [];
  terminated = false;
  postMessage(message: ToWorker): void {
    this.sent.push(message);
  }
  terminate(): void {
    this.terminated = true;
  }
  answer(message: FromWorker): void {
    this.dispatchEvent(new MessageEvent('message', { data: message }));
  }
}

const urls = { ort: 'https://site.test/ort/', toyWorld: 'https://site.test/toyworld/' };
const values: DissectFormValues = {
  target: 'toyworld',
  clip: 'toyworld',
  clipFiles: [],
  probe: 'toyworld',
  probeSeed: '0',
  probeCount: '100',
  probeFiles: [],
  concepts: 'red\nstriped\n',
  layers: 'layer1, layer4',
  labelers: ['netdissect', 'clip-dissect'],
  similarity: 'wpmi',
  preset: 'imagenet',
  inputSize: '64',
  providers: 'auto',
  cache: true,
};
const results = (layers: string[]): Results =>
  resultsFixture({
    layers: layers.map((name) => ({
      name,
      neurons: [{ unit: 0, labels: { 'clip-dissect': [{ label: 'red', score: 0.3 }] } }],
    })),
  });

function controllerWithFakeWorker(cancelGraceMs = 5000) {
  const workers: FakeWorker[] = [];
  const urlsMade: string[] = [];
  const revoked: string[] = [];
  const controller = createDissectController({
    createWorker: () => {
      const worker = new FakeWorker();
      workers.push(worker);
      return worker as unknown as Worker;
    },
    cancelGraceMs,
    objectUrls: {
      create: () => {
        urlsMade.push(`blob:${urlsMade.length}`);
        return urlsMade.at(-1)!;
      },
      revoke: (url) => revoked.push(url),
    },
  });
  const seen: DissectRunState[] = [];
  controller.subscribe((state) => seen.push(state));
  return { controller, workers, seen, urlsMade, revoked };
}

describe('the in-browser page form', () => {
  it('turns the form into the job the worker runs', () => {
    const job = jobFromValues(values, urls);
    expect(job).toMatchObject({
      target: { kind: 'toyworld' },
      clip: { kind: 'toyworld' },
      probe: { kind: 'toyworld', seed: 0, count: 100 },
      concepts: 'red\nstriped',
      layers: ['layer1', 'layer4'],
      // In the labelers' own order, whatever order they were ticked in.
      labelers: ['clip-dissect', 'netdissect'],
      inputSize: 64,
      executionProviders: ['webgpu', 'wasm'],
      strict: false,
      urls,
    });
    expect(jobFromValues({ ...values, providers: 'webgpu' }, urls)).toMatchObject({
      executionProviders: ['webgpu'],
      strict: true,
    });
  });

  it.each([
    [{ layers: ' , ' }, 'layers', 'Name at least one layer, e.g. layer4.'],
    [{ labelers: [] }, 'labelers', 'Choose at least one labeler.'],
    [{ concepts: '\n' }, 'concepts', 'The concept list is empty; write one concept per line.'],
    [{ probeSeed: '-1' }, 'probe', 'The toy world seed must be a whole number ≥ 0.'],
    [
      { probeCount: '20001' },
      'probe',
      'The number of toy-world images must be a whole number from 1 to 20,000.',
    ],
    [{ probe: 'files' as const }, 'probe', 'Pick a folder of probe images.'],
    [{ target: 'file' as const }, 'target', 'Pick the target model: an .onnx file.'],
    [
      { inputSize: '6.5' },
      'inputSize',
      'The input size must be a whole number of pixels, 8 or more (or empty).',
    ],
  ])('refuses %j, naming the field', (change, field, message) => {
    const error = (() => {
      try {
        return jobFromValues({ ...values, ...change }, urls);
      } catch (e) {
        return e;
      }
    })() as { code: string; details: { field: string }; message: string };
    expect([error.code, error.details.field, error.message]).toEqual(['ND_INVALID_OPTION', field, message]);
  });
});

describe('the in-browser page controller', () => {
  it('runs a job through the worker, following its messages, and offers the results', () => {
    const { controller, workers, seen, urlsMade } = controllerWithFakeWorker();
    const job: InBrowserJob = jobFromValues(values, urls);
    controller.start(job);
    expect(workers).toHaveLength(1);
    expect(workers[0].sent).toEqual([{ type: 'run', job }]);
    expect(controller.state).toMatchObject({ running: true, status: 'Starting…', probe: job.probe });
    // A second start while running is ignored.
    controller.start(job);
    expect(workers[0].sent).toHaveLength(1);

    workers[0].answer({ type: 'status', message: 'Loading the target model' });
    workers[0].answer({ type: 'progress', event: { stage: 'target-activations', done: 16, total: 100 } });
    workers[0].answer({ type: 'layer', results: results(['layer1']) });
    expect(controller.state).toMatchObject({
      status: 'Loading the target model…',
      progress: { done: 16, total: 100 },
      layersDone: ['layer1'],
    });
    const done = results(['layer1', 'layer4']);
    workers[0].answer({ type: 'done', results: done, seconds: 2.5 });
    expect(controller.state).toMatchObject({
      running: false,
      status: 'Done.',
      seconds: 2.5,
      results: done,
      downloadUrl: urlsMade[0],
    });
    // Every change reached the subscriber, each as a new state object.
    expect(seen.map((s) => s.status)).toEqual([
      'Starting…',
      'Loading the target model…',
      'Loading the target model…',
      'Loading the target model…',
      'Done.',
    ]);
    expect(new Set(seen).size).toBe(seen.length);
  });

  it('cancels: asks the worker, and terminates one that does not stop, keeping the finished layers', () => {
    vi.useFakeTimers();
    try {
      const { controller, workers, revoked } = controllerWithFakeWorker(1000);
      controller.start(jobFromValues(values, urls));
      workers[0].answer({ type: 'layer', results: results(['layer1']) });
      controller.cancel();
      expect(workers[0].sent.at(-1)).toEqual({ type: 'cancel' });
      expect(controller.state.status).toBe('Cancelling…');
      vi.advanceTimersByTime(999);
      expect(workers[0].terminated).toBe(false);
      vi.advanceTimersByTime(1);
      expect(workers[0].terminated).toBe(true);
      expect(controller.state).toMatchObject({
        running: false,
        status: 'Cancelled.',
        error: 'Cancelled; the finished layers (layer1) can still be opened or downloaded.',
      });
      expect(controller.state.results?.layers.map((l) => l.name)).toEqual(['layer1']);
      // The next run starts a fresh worker and releases the old download link.
      controller.start(jobFromValues(values, urls));
      expect(workers).toHaveLength(2);
      workers[1].answer({ type: 'done', results: results(['layer1', 'layer4']), seconds: 1 });
      expect(revoked).toEqual(['blob:0']);
    } finally {
      vi.useRealTimers();
    }
  });

  it('says when the worker fails, lists layers on request, and stops notifying after unsubscribe', () => {
    const { controller, workers } = controllerWithFakeWorker();
    controller.listLayers({ kind: 'toyworld' }, urls);
    expect(workers[0].sent).toEqual([{ type: 'list-layers', target: { kind: 'toyworld' }, urls }]);
    workers[0].answer({ type: 'layers', layers: [{ name: 'layer4', shape: [1, 128, 4, 4] }] });
    expect(controller.state).toMatchObject({ status: 'Not started.', layerList: [{ name: 'layer4' }] });

    workers[0].answer({ type: 'error', message: 'The model has no layer "layer9".', cancelled: false });
    expect(controller.state).toMatchObject({ status: 'Failed.', error: 'The model has no layer "layer9".' });
    workers[0].dispatchEvent(Object.assign(new Event('error'), { message: 'Failed to fetch' }));
    expect(controller.state.error).toMatch(
      /^The dissection worker failed to start or crashed: Failed to fetch\. Serve the site over http/,
    );

    const listener = vi.fn();
    const unsubscribe = controller.subscribe(listener);
    controller.report('Pick the target model: an .onnx file.');
    unsubscribe();
    controller.report(undefined);
    expect(listener).toHaveBeenCalledTimes(1);
    expect(controller.state.error).toBeUndefined();
  });
});

// The Web Worker of the "Dissect in your browser" page (bundled to `dissect-worker.js`): runs one
// job at a time off the page's thread, posting progress, finished layers and the Results; a
// `cancel` message aborts the run, which ends with the finished layers as `partial`.
import type { Results } from '@neurodissect/core';
import type { FromWorker, ToWorker } from './protocol';
import { listTargetLayers, runInBrowserJob } from './run-job';

const scope = globalThis as unknown as {
  postMessage(message: FromWorker): void;
  addEventListener(type: 'message', listener: (event: MessageEvent<ToWorker>) => void): void;
};

let running: AbortController | undefined;

async function run(job: Extract<ToWorker, { type: 'run' }>['job']): Promise<void> {
  const controller = new AbortController();
  running = controller;
  let partial: Results | undefined;
  const started = performance.now();
  // Progress events come thousands of times a second; the page needs a few per second.
  let lastProgress = 0;
  try {
    const results = await runInBrowserJob(job, {
      signal: controller.signal,
      onStatus: (message) => scope.postMessage({ type: 'status', message }),
      onProgress: (event) => {
        const now = performance.now();
        if (now - lastProgress < 100 && event.done !== event.total) return;
        lastProgress = now;
        scope.postMessage({ type: 'progress', event });
      },
      onLayer: (results) => {
        partial = results;
        scope.postMessage({ type: 'layer', results });
      },
    });
    scope.postMessage({ type: 'done', results, seconds: (performance.now() - started) / 1000 });
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    scope.postMessage({
      type: 'error',
      message: error instanceof Error ? error.message : String(error),
      ...(typeof code === 'string' ? { code } : {}),
      cancelled: controller.signal.aborted,
      ...(partial === undefined ? {} : { partial }),
    });
  } finally {
    if (running === controller) running = undefined;
  }
}

scope.addEventListener('message', (event) => {
  const message = event.data;
  if (message.type === 'cancel') {
    running?.abort(new Error('cancelled'));
    return;
  }
  if (message.type === 'list-layers') {
    listTargetLayers(message.target, message.urls).then(
      (layers) => scope.postMessage({ type: 'layers', layers }),
      (error: unknown) =>
        scope.postMessage({
          type: 'error',
          message: error instanceof Error ? error.message : String(error),
          cancelled: false,
        }),
    );
    return;
  }
  if (message.type === 'run') {
    if (running) {
      scope.postMessage({
        type: 'error',
        message: 'A dissection is already running in this worker; cancel it first.',
        cancelled: false,
      });
      return;
    }
    void run(message.job);
  }
});

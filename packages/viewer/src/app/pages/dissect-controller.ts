import type { ProgressEvent, Results } from '@neurodissect/core';
import type { FromWorker, InBrowserJob, ToWorker } from '../../in-browser/protocol';

/** The state of the page's runs: one at a time, kept while the user browses elsewhere in the site. */
export interface DissectRunState {
  readonly running: boolean;
  /** What is happening, in words ("Loading the target model…", "Done."). */
  readonly status: string;
  readonly progress?: ProgressEvent;
  /** Seconds the finished run took (as the worker measured it). */
  readonly seconds?: number;
  /** Layers finished so far, and the Results holding them. */
  readonly layersDone: readonly string[];
  readonly partial?: Results;
  /** The finished run's Results (or a cancelled run's finished layers). */
  readonly results?: Results;
  /** An object URL of `results` as JSON, for a download link. */
  readonly downloadUrl?: string;
  /** What went wrong, for people. */
  readonly error?: string;
  /** The probe images of the run, to show them once the results open. */
  readonly probe?: InBrowserJob['probe'];
  /** The target model's layers, once listed. */
  readonly layerList?: readonly { name: string; shape?: (number | string)[] }[];
}

/** Drives the dissection worker; the page's view subscribes to it. */
export interface DissectController {
  /** The current state (a new object after every change). */
  readonly state: DissectRunState;
  /** Calls `listener` after every change; returns the unsubscribe function. */
  subscribe(listener: (state: DissectRunState) => void): () => void;
  /** Starts a run (ignored while one runs). */
  start(job: InBrowserJob): void;
  /** Asks the run to stop; a worker that does not stop within the grace period is terminated. */
  cancel(): void;
  /** Asks the worker for a target model's layers (answered into `state.layerList`). */
  listLayers(target: InBrowserJob['target'], urls: InBrowserJob['urls']): void;
  /** Shows a problem found before anything was sent to the worker (or clears it with `undefined`). */
  report(error: string | undefined, status?: string): void;
  /** Sets the status line (e.g. while results open). */
  setStatus(status: string): void;
}

/** Options of {@link createDissectController}. */
export interface DissectControllerOptions {
  /** Starts the dissection worker (the first time it is needed, and again after it was terminated). */
  createWorker(): Worker;
  /** How long a cancelled run may take to stop before its worker is terminated. @defaultValue 5000 */
  cancelGraceMs?: number;
  /** Object URLs for downloads. @defaultValue `URL.createObjectURL` / `URL.revokeObjectURL` */
  objectUrls?: { create(blob: Blob): string; revoke(url: string): void };
}

const WORKER_FAILED =
  'Serve the site over http (neurodissect serve DIR); pages opened from file:// cannot start workers.';

/** The page's controller: its state, the worker's messages applied to it, and its listeners. */
export function createDissectController(options: DissectControllerOptions): DissectController {
  const grace = options.cancelGraceMs ?? 5000;
  const urls = options.objectUrls ?? {
    create: (blob: Blob) => URL.createObjectURL(blob),
    revoke: (url: string) => URL.revokeObjectURL(url),
  };
  let state: DissectRunState = { running: false, status: 'Not started.', layersDone: [] };
  const listeners = new Set<(state: DissectRunState) => void>();
  let worker: Worker | undefined;

  const set = (change: Partial<DissectRunState>) => {
    state = { ...state, ...change };
    for (const listener of [...listeners]) listener(state);
  };

  // One object URL per Results, the previous one released.
  const withResults = (results: Results): Partial<DissectRunState> => {
    if (state.downloadUrl) urls.revoke(state.downloadUrl);
    return {
      results,
      downloadUrl: urls.create(new Blob([JSON.stringify(results)], { type: 'application/json' })),
    };
  };

  const onMessage = (message: FromWorker) => {
    switch (message.type) {
      case 'layers':
        set({ layerList: message.layers, ...(state.running ? {} : { status: 'Not started.' }) });
        break;
      case 'status':
        set({ status: `${message.message}…` });
        break;
      case 'progress':
        set({ progress: message.event });
        break;
      case 'layer':
        set({ layersDone: message.results.layers.map((l) => l.name), partial: message.results });
        break;
      case 'done':
        set({ running: false, status: 'Done.', seconds: message.seconds, ...withResults(message.results) });
        break;
      case 'error': {
        const finished = message.partial?.layers.map((l) => l.name).join(', ');
        set({
          running: false,
          status: message.cancelled ? 'Cancelled.' : 'Failed.',
          error: message.cancelled
            ? `Cancelled${finished ? `; the finished layers (${finished}) can still be opened or downloaded` : ''}.`
            : message.message,
          ...(message.partial ? withResults(message.partial) : {}),
        });
        break;
      }
    }
  };

  const ensureWorker = (): Worker => {
    if (worker) return worker;
    const started = options.createWorker();
    started.addEventListener('message', (event: MessageEvent<FromWorker>) => onMessage(event.data));
    started.addEventListener('error', (event: ErrorEvent) => {
      if (worker === started) worker = undefined;
      set({
        running: false,
        status: 'Failed.',
        error: `The dissection worker failed to start or crashed: ${event.message || 'no details'}. ${WORKER_FAILED}`,
      });
    });
    worker = started;
    return started;
  };

  return {
    get state() {
      return state;
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    start(job) {
      if (state.running) return;
      const w = ensureWorker();
      set({
        running: true,
        status: 'Starting…',
        progress: undefined,
        layersDone: [],
        partial: undefined,
        results: undefined,
        error: undefined,
        seconds: undefined,
        probe: job.probe,
      });
      w.postMessage({ type: 'run', job } satisfies ToWorker);
    },
    cancel() {
      const running = worker;
      if (!state.running || !running) return;
      set({ status: 'Cancelling…' });
      running.postMessage({ type: 'cancel' } satisfies ToWorker);
      setTimeout(() => {
        if (!state.running || worker !== running) return;
        running.terminate();
        worker = undefined;
        onMessage({
          type: 'error',
          message: 'cancelled',
          cancelled: true,
          ...(state.partial === undefined ? {} : { partial: state.partial }),
        });
      }, grace);
    },
    listLayers(target, workerUrls) {
      set({ error: undefined, status: 'Reading the model’s layers…' });
      ensureWorker().postMessage({ type: 'list-layers', target, urls: workerUrls } satisfies ToWorker);
    },
    report(error, status) {
      set({ error, ...(status === undefined ? {} : { status }) });
    },
    setStatus(status) {
      set({ status });
    },
  };
}

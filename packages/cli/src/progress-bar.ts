import type { ProgressCallback, ProgressEvent } from '@neurodissect/core';
import cliProgress from 'cli-progress';
import type { CliIo, ProgressMode } from './io';

/** Options of {@link createProgressRenderer}; tests pass a clock. */
export interface ProgressRendererOptions {
  /** Milliseconds since some origin. @defaultValue `performance.now` */
  now?: () => number;
  /** In `lines` mode, the longest silence during a stage, in ms. @defaultValue 5000 */
  interval?: number;
  /** In `lines` mode, a stage prints nothing before it has run this long, in ms. @defaultValue 2000 */
  quietStart?: number;
}

/** `83 s`, `4 min 10 s`, `1 h 02 min`; `?` while the rate is unknown. */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '?';
  const s = Math.round(seconds);
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${s % 60} s`;
  return `${Math.floor(s / 3600)} h ${String(Math.floor((s % 3600) / 60)).padStart(2, '0')} min`;
}

function formatRate(perSecond: number): string {
  if (!Number.isFinite(perSecond)) return '?';
  return perSecond >= 100 ? perSecond.toFixed(0) : perSecond.toPrecision(3);
}

/**
 * Renders core's progress events on stderr: a bar when it is a terminal; when it is not (a log
 * file, CI, a job scheduler) a plain line per stage every few seconds or 5% of the stage
 * (`stage done/total (p%) rate/s eta …`), so long runs show they are alive without control
 * characters. `io.progress` chooses; without it a terminal gets the bar and anything else nothing.
 */
export function createProgressRenderer(
  io: CliIo,
  options: ProgressRendererOptions = {},
): { onProgress: ProgressCallback; stop(): void } {
  const mode: ProgressMode = io.progress ?? (io.stderr.isTTY ? 'bar' : 'off');
  if (mode === 'off') return { onProgress: () => {}, stop: () => {} };
  const now = options.now ?? (() => performance.now());
  // Rate and eta over the stage so far (both modes: cli-progress's own eta is unreliable when a
  // stage starts part-way).
  let stage = '';
  let started = 0;
  let startDone = 0;
  const estimate = (event: ProgressEvent) => {
    const seconds = (now() - started) / 1000;
    const rate = seconds > 0 ? (event.done - startDone) / seconds : Number.NaN;
    const left = event.total === undefined ? Number.NaN : (event.total - event.done) / rate;
    return { rate: formatRate(rate), eta: formatDuration(rate > 0 ? left : Number.NaN) };
  };
  const newStage = (event: ProgressEvent) => {
    stage = event.stage;
    started = now();
    startDone = event.done;
  };

  if (mode === 'lines') {
    const interval = options.interval ?? 5000;
    const quietStart = options.quietStart ?? 2000;
    let lastTime = 0;
    let lastDone = 0;
    let printed = false;
    const line = (event: ProgressEvent) => {
      const { rate, eta } = estimate(event);
      const total = event.total ?? 0;
      const percent = total > 0 ? ` (${Math.floor((100 * event.done) / total)}%)` : '';
      const tail = event.done >= total ? `done in ${formatDuration((now() - started) / 1000)}` : `eta ${eta}`;
      io.stderr.write(`${event.stage} ${event.done}/${total}${percent} ${rate}/s ${tail}\n`);
      lastTime = now();
      lastDone = event.done;
      printed = true;
    };
    return {
      onProgress(event) {
        if (event.total === undefined) return;
        if (event.stage !== stage) {
          newStage(event);
          lastTime = started;
          lastDone = event.done;
          printed = false;
        }
        const t = now();
        if (event.done >= event.total) {
          if (printed) line(event);
          return;
        }
        if (t - started < quietStart) return;
        const step = event.total * 0.05;
        if (t - lastTime >= interval || (event.done - lastDone >= step && t - lastTime >= 1000) || !printed)
          line(event);
      },
      stop() {},
    };
  }

  let bar: cliProgress.SingleBar | undefined;
  return {
    onProgress(event) {
      if (event.total === undefined) return;
      if (!bar || event.stage !== stage) {
        bar?.stop();
        newStage(event);
        bar = new cliProgress.SingleBar(
          {
            format: `${event.stage} [{bar}] {percentage}% {value}/{total} {rate}/s eta {eta_text}`,
            stream: process.stderr,
            clearOnComplete: false,
          },
          cliProgress.Presets.shades_classic,
        );
        bar.start(event.total, event.done, { rate: '?', eta_text: '?' });
      }
      const { rate, eta } = estimate(event);
      bar.update(event.done, { rate, eta_text: eta.padEnd(12) });
    },
    stop() {
      bar?.stop();
    },
  };
}

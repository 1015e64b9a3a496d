import type { ProgressCallback } from '@neurodissect/core';
import cliProgress from 'cli-progress';
import type { CliIo } from './io';

/**
 * Renders core's progress events as a bar on stderr when it is a terminal; otherwise stays quiet
 * (logs and pipes get no control characters).
 */
export function createProgressRenderer(io: CliIo): { onProgress: ProgressCallback; stop(): void } {
  if (!io.stderr.isTTY) return { onProgress: () => {}, stop: () => {} };
  let bar: cliProgress.SingleBar | undefined;
  let stage = '';
  return {
    onProgress(event) {
      if (event.total === undefined) return;
      if (!bar || event.stage !== stage) {
        bar?.stop();
        stage = event.stage;
        bar = new cliProgress.SingleBar(
          {
            format: `${event.stage} [{bar}] {percentage}% {value}/{total} eta {eta_formatted}`,
            stream: process.stderr,
          },
          cliProgress.Presets.shades_classic,
        );
        bar.start(event.total, event.done);
      }
      bar.update(event.done);
    },
    stop() {
      bar?.stop();
    },
  };
}

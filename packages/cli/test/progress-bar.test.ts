import { describe, expect, it } from 'vitest';
import { createProgressRenderer, formatDuration } from '../src/progress-bar';

function logIo() {
  const lines: string[] = [];
  return {
    lines,
    io: {
      stdout: { write: () => true },
      stderr: { write: (t: string) => lines.push(t) },
      progress: 'lines' as const,
    },
  };
}

describe('progress in logs (stderr not a terminal)', () => {
  it('prints a plain line every few seconds or 5%, with rate and eta, and the end of the stage', () => {
    const { io, lines } = logIo();
    let t = 0;
    const progress = createProgressRenderer(io, { now: () => t });
    // 1000 items at 10 items/s: a line at 2 s (first after the quiet start), then every 5 s
    // (5% = 50 items takes 5 s here too), then the end.
    for (let done = 0; done <= 1000; done += 10) {
      t = done * 100;
      progress.onProgress({ stage: 'score', done, total: 1000 });
    }
    expect(lines[0]).toBe('score 20/1000 (2%) 10.0/s eta 1 min 38 s\n');
    expect(lines[1]).toBe('score 70/1000 (7%) 10.0/s eta 1 min 33 s\n');
    expect(lines.at(-1)).toBe('score 1000/1000 (100%) 10.0/s done in 1 min 40 s\n');
    expect(lines.length).toBeGreaterThan(15);
    expect(lines.length).toBeLessThan(25);
    expect(lines.join('').includes(String.fromCharCode(27))).toBe(false);
    expect(lines.join('')).not.toContain('\r');
  });

  it('stays quiet for stages shorter than its quiet start, and starts over on a new stage', () => {
    const { io, lines } = logIo();
    let t = 0;
    const progress = createProgressRenderer(io, { now: () => t });
    for (let done = 0; done <= 100; done += 10) {
      t = done * 10;
      progress.onProgress({ stage: 'activations', done, total: 100 });
    }
    expect(lines).toEqual([]);
    t = 10_000;
    progress.onProgress({ stage: 'embed', done: 0, total: 4 });
    t = 13_000;
    progress.onProgress({ stage: 'embed', done: 1, total: 4 });
    expect(lines).toEqual(['embed 1/4 (25%) 0.333/s eta 9 s\n']);
  });

  it('prints nothing without a mode and no terminal (tests, pipes that asked for quiet)', () => {
    const written: string[] = [];
    const progress = createProgressRenderer({
      stdout: { write: () => true },
      stderr: { write: (t: string) => written.push(t) },
    });
    progress.onProgress({ stage: 'score', done: 1, total: 2 });
    progress.stop();
    expect(written).toEqual([]);
  });

  it('formats durations readably and never as garbage', () => {
    expect([
      formatDuration(83),
      formatDuration(250),
      formatDuration(3725),
      formatDuration(Number.NaN),
    ]).toEqual(['1 min 23 s', '4 min 10 s', '1 h 02 min', '?']);
  });
});

import { afterEach, beforeEach, expect, vi } from 'vitest';

// The libraries never print: progress and warnings go through callbacks. Any console output
// during a test is a bug, so it fails the test that produced it.
const methods = ['log', 'info', 'warn', 'error', 'debug'] as const;
let calls: string[] = [];

beforeEach(() => {
  calls = [];
  for (const method of methods) {
    vi.spyOn(console, method).mockImplementation((...args: unknown[]) => {
      calls.push(`console.${method}: ${args.map(String).join(' ')}`);
    });
  }
});

afterEach(() => {
  vi.restoreAllMocks();
  expect(calls, 'stray console output').toEqual([]);
});

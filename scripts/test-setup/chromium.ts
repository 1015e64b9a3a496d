import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BrowserContext, chromium } from 'playwright-core';

/** Debian's Chromium, installed by .ci/run (never a downloaded browser). */
export const CHROMIUM = process.env.NEURODISSECT_CHROMIUM ?? '/usr/bin/chromium';

/**
 * Launches headless Chromium with a fresh profile and the flags a closed network needs.
 * @param who which tests need it, for the message when Chromium is missing.
 * @returns the context and its profile folder (the caller removes it).
 */
export async function launchChromium(
  who: string,
  options: { extraArgs?: string[]; viewport?: { width: number; height: number } } = {},
): Promise<{ context: BrowserContext; userData: string }> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `Chromium is missing at ${CHROMIUM}: ${who} drive Debian's Chromium. Install it with "apt-get install -y chromium" (or set NEURODISSECT_CHROMIUM to a Chromium binary).`,
    );
  }
  const userData = mkdtempSync(join(tmpdir(), 'neurodissect-chromium-'));
  const context = await chromium.launchPersistentContext(userData, {
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      ...(options.extraArgs ?? []),
    ],
    ...(options.viewport ? { viewport: options.viewport } : {}),
  });
  return { context, userData };
}

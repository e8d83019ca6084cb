import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';

/**
 * For tests that check a page in a real headless browser: Debian's chromium,
 * driven by playwright-core. Playwright's own browser download
 * (`npx playwright install`) cannot reach its CDN from this machine or from CI,
 * so we point it at the distribution's binary instead; `.ci/run` installs it.
 */

export const CHROMIUM_PATH = '/usr/bin/chromium';

export const INSTALL_CHROMIUM = 'apt-get update && apt-get install -y --no-install-recommends chromium';

/**
 * Passed even where Playwright already adds an equivalent, so that what keeps
 * Chromium working on a closed network does not hinge on Playwright's defaults.
 */
export const CHROMIUM_ARGS: readonly string[] = [
  '--headless',
  // Tests run as root in CI, and Chromium's sandbox refuses to start as root.
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  // Without these three Chromium keeps dialling Google's hosts; the closed
  // network refuses each connection and the noise (and retries) slow start-up.
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  // Debian's launcher adds this only when it can measure /dev/shm, and its
  // check breaks where /dev/shm is mounted twice (as in some containers);
  // a small /dev/shm would then crash the renderer.
  '--disable-dev-shm-usage',
];

/** Gitignored; CI can keep it as an artifact. */
export const SCREENSHOT_DIR = fileURLToPath(new URL('../../test-output/screenshots/', import.meta.url));

/**
 * A fresh headless Chromium. Each launch gets a new, empty profile: Playwright
 * creates a temporary --user-data-dir itself (it refuses one passed in `args`,
 * which is why none is here) and deletes it when the browser is closed, or when
 * the test process exits without closing it. Always `await browser.close()`.
 */
export async function launchBrowser(): Promise<Browser> {
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(
      `Browser tests need Debian's Chromium at ${CHROMIUM_PATH}, and it is not installed. ` +
        `Install it as root with: ${INSTALL_CHROMIUM} (.ci/run does this in CI).`,
    );
  }
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: [...CHROMIUM_ARGS],
    // Start-up normally takes about a second; a loaded two-core machine can take
    // several, but a launch that hangs should fail well inside the test timeout.
    timeout: 15_000,
  });
}

/**
 * Saves a full-page PNG as test-output/screenshots/<name>.png and returns its
 * path. The name is reduced to a safe file name so test titles can be passed.
 */
export async function screenshot(page: Page, name: string): Promise<string> {
  const safe = name.replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^-+|-+$/g, '') || 'screenshot';
  await mkdir(SCREENSHOT_DIR, { recursive: true });
  const path = join(SCREENSHOT_DIR, `${safe}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}

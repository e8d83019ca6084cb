import { get } from 'node:http';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startServe, type Serve } from '../../src/demo/serve/server.ts';
import { launchBrowser, screenshot } from '../helpers/browser.ts';

/**
 * `npm run demo -- --serve` in a real browser: the page served by the demo
 * process, the stand-ins and the REAL Concierge child behind it. A person
 * subscribes a member and approves the checkout by clicking; the role must
 * show on the page and be held at the Discord stand-in.
 */

const ALICE = '930000000000000001';
// A name a hostile user could pick: the page must show it as text, never run it.
const MALLORY = { id: '930000000000000009', name: '<img src=x onerror="window.pwned=1">mallory' };

let serve: Serve;
let browser: Browser;

beforeAll(async () => {
  // Concierge's start-up (tsx transform) and Chromium's can take seconds each on two busy cores.
  [serve, browser] = await Promise.all([startServe({ port: 0, members: [{ id: ALICE, name: 'alice' }, MALLORY] }), launchBrowser()]);
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await serve?.close();
}, 30_000);

it('subscribes a member and approves the checkout by clicking; the role shows on the page and at Discord', async () => {
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  const problems: string[] = [];
  const offSite: string[] = [];
  page.on('pageerror', (err) => problems.push(err.message));
  page.on('console', (msg) => {
    if (msg.type() === 'error') problems.push(msg.text());
  });
  page.on('request', (req) => {
    if (!req.url().startsWith(serve.url)) offSite.push(req.url());
  });

  const response = await page.goto(serve.url);
  expect(response?.headers()['content-security-policy']).toContain("default-src 'none'");

  const alice = page.locator(`[data-member="${ALICE}"]`);
  await expect.poll(() => alice.locator('.roles').textContent(), { timeout: 5_000 }).toBe('Discord roles: —');

  await alice.locator('select').selectOption('legendary');
  await alice.locator('button[data-action="subscribe"]').click();
  await alice.locator('.reply', { hasText: 'Subscribe to Legendary' }).waitFor({ timeout: 15_000 });

  await alice.locator('button[data-action="approve"]').click();
  await alice.locator('.roles', { hasText: 'Legendary' }).waitFor({ timeout: 15_000 });
  await alice.locator('.reply', { hasText: 'You are now Legendary' }).waitFor({ timeout: 5_000 });
  expect(serve.stage.discord.member(ALICE)).toContain(serve.stage.catalog.byKey('legendary')?.role_id);
  await alice.locator('.paypal', { hasText: 'Legendary — ACTIVE' }).waitFor({ timeout: 5_000 });
  // The approve link was used up: the button goes away until the next /subscribe.
  await alice.locator('button[data-action="approve"]').waitFor({ state: 'hidden', timeout: 5_000 });

  // Concierge's audit message about the grant reaches the page, mention shown by name.
  await page.locator('#audit li', { hasText: '@alice tier none → Legendary' }).waitFor({ timeout: 10_000 });

  // The hostile name is text on the page, and its markup never ran.
  const mallory = page.locator(`[data-member="${MALLORY.id}"] .name`);
  expect(await mallory.textContent()).toBe(MALLORY.name);
  expect(await page.locator('img').count()).toBe(0);
  expect(await page.evaluate(() => (globalThis as { pwned?: number }).pwned)).toBeUndefined();

  const png = await screenshot(page, 'demo-serve');
  expect(png).toMatch(/demo-serve\.png$/);
  expect(problems).toEqual([]);
  expect(offSite).toEqual([]);
}, 60_000);

it('refuses API calls from another origin and requests for another host name', async () => {
  const api = `${serve.url}api/members/${ALICE}/status`;
  const cross = await fetch(api, { method: 'POST', headers: { 'content-type': 'application/json', origin: 'http://evil.example' }, body: '{}' });
  expect(cross.status).toBe(403);
  const form = await fetch(api, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'a=1' });
  expect(form.status).toBe(415);
  // A DNS-rebound name pointing at 127.0.0.1 arrives with its own Host header.
  const { port } = new URL(serve.url);
  const rebound = await new Promise<number>((resolve, reject) =>
    get({ host: '127.0.0.1', port, path: '/api/state', headers: { host: `evil.example:${port}` } }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    }).on('error', reject),
  );
  expect(rebound).toBe(421);
});

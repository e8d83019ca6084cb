import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { launchBrowser, screenshot } from '../helpers/browser.ts';

/**
 * Proof that the browser-testing foundation works end to end: a page served on
 * loopback, opened in headless Chromium, a click that round-trips to the same
 * server, and a screenshot. The demo's --serve page will be tested this way.
 */

// Everything inline: the page must render with no network beyond loopback.
const PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Concierge browser smoke test</title>
<link rel="icon" href="data:,">
<style>
  body { font: 16px/1.4 system-ui, sans-serif; margin: 2rem; color: #1d2733; }
  button { font: inherit; padding: .4rem 1rem; }
  #status { margin-top: 1rem; padding: .5rem; border-left: 4px solid #4a7bd0; background: #eef3fb; }
</style>
</head>
<body>
<h1>Browser smoke test</h1>
<button id="ping" type="button">Ping the server</button>
<p id="status" role="status">Not pinged yet</p>
<script>
  document.getElementById('ping').addEventListener('click', async () => {
    const res = await fetch('/ping', { method: 'POST' });
    const body = await res.json();
    document.getElementById('status').textContent = 'Server answered: pong #' + body.count;
  });
</script>
</body>
</html>`;

let server: Server;
let baseUrl: string;
let pings = 0;
const served: string[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    served.push(`${req.method} ${req.url}`);
    if (req.method === 'GET' && req.url === '/') {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(PAGE);
    } else if (req.method === 'POST' && req.url === '/ping') {
      pings += 1;
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ count: pings }));
    } else {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

/**
 * The --user-data-dir of the Chromium this process started. Playwright spawns
 * the browser itself (Debian's launcher script execs the binary, keeping the
 * pid), so it is a direct child of this worker; matching on the parent keeps
 * browsers launched by other test workers out of it.
 */
function childChromiumProfiles(): string[] {
  const profiles: string[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      // Field 4 of /proc/<pid>/stat is the parent pid; the command name (field 2)
      // may hold spaces, so count from its closing parenthesis.
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid !== process.pid) continue;
      const args = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
      for (const arg of args) {
        if (arg.startsWith('--user-data-dir=')) profiles.push(arg.slice('--user-data-dir='.length));
      }
    } catch {
      // The process ended between listing and reading: not ours to worry about.
    }
  }
  return profiles;
}

it('clicks a button in headless Chromium and sees the server’s answer', async () => {
  const browser: Browser = await launchBrowser();
  let profile: string | undefined;
  try {
    const profiles = childChromiumProfiles();
    expect(profiles).toHaveLength(1);
    profile = profiles[0];
    expect(profile?.startsWith(tmpdir())).toBe(true);

    const page = await browser.newPage({ viewport: { width: 640, height: 360 } });
    const pageErrors: string[] = [];
    const offLoopback: string[] = [];
    page.on('pageerror', (err) => pageErrors.push(err.message));
    page.on('console', (msg) => {
      if (msg.type() === 'error') pageErrors.push(msg.text());
    });
    page.on('request', (req) => {
      if (!req.url().startsWith(`${baseUrl}/`)) offLoopback.push(req.url());
    });

    await page.goto(`${baseUrl}/`);
    const status = page.locator('#status');
    expect(await status.textContent()).toBe('Not pinged yet');

    await page.click('#ping');
    await page.locator('#status', { hasText: 'pong #1' }).waitFor({ timeout: 5_000 });
    expect(await status.textContent()).toBe('Server answered: pong #1');
    expect(pings).toBe(1);

    const png = await screenshot(page, 'browser-smoke');
    // A real PNG, not an empty file: the eight-byte signature and some pixels.
    const bytes = readFileSync(png);
    expect(bytes.subarray(0, 8).toString('hex')).toBe('89504e470d0a1a0a');
    expect(bytes.length).toBeGreaterThan(1_000);

    expect(pageErrors).toEqual([]);
    expect(offLoopback).toEqual([]);
    expect(served).toEqual(['GET /', 'POST /ping']);
  } finally {
    await browser.close();
  }
  // The profile was a fresh temporary one and did not outlive the browser.
  expect(profile && existsSync(profile)).toBe(false);
});

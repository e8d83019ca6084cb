import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import { createLogger } from '../../src/log.ts';
import { startService } from '../../src/service.ts';
import type { DiscordStandIn } from '../../src/stand-ins/discord/server.ts';
import { createPaypalStandIn, type PaypalStandIn } from '../../src/stand-ins/paypal/server.ts';
import { createTestDiscord, discordEnv, testEnv } from '../helpers/harness.ts';

/** A start that fails at the last step (the HTTP port is taken) leaves nothing running: one clean-up path for every failure. */

let paypal: PaypalStandIn;
let discord: DiscordStandIn;
let dir: string;
beforeAll(async () => {
  paypal = await createPaypalStandIn();
  discord = await createTestDiscord();
  dir = mkdtempSync(join(tmpdir(), 'concierge-failed-start-'));
});
afterAll(async () => {
  await paypal.close();
  await discord.close();
  rmSync(dir, { recursive: true, force: true });
});

it('a taken HTTP port fails the start and stops the runner, the writer thread, the gateway and the database', async () => {
  const taken = createServer();
  await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
  const port = (taken.address() as AddressInfo).port;
  const lines: string[] = [];
  const log = createLogger('info', new Writable({ write: (chunk: Buffer, _enc, done) => { lines.push(chunk.toString()); done(); } }));
  const dbPath = join(dir, 'concierge.db');
  const config = loadConfig(testEnv(paypal.url, dbPath, { ...discordEnv(discord), HTTP_HOST: '127.0.0.1', HTTP_PORT: String(port) }));
  try {
    await expect(startService(config, log)).rejects.toMatchObject({ code: 'EADDRINUSE' });
  } finally {
    await new Promise((resolve) => taken.close(resolve));
  }
  const messages = lines.map((l) => (JSON.parse(l) as { msg: string }).msg);
  // Everything had started: the gateway session, the job runner, the webhook writer thread.
  expect(discord.gatewayLog.some((e) => e.kind === 'identify')).toBe(true);
  expect(messages).toContain('job runner started');
  // ...and all of it stopped again.
  expect(messages).toContain('job runner stopped');
  await expect.poll(() => discord.gatewayLog.some((e) => e.kind === 'close' && e.detail === 'by the client')).toBe(true);
  expect(discord.connectedSessions()).toBe(0);
  // SQLite removes the WAL when the last connection closes: the service's own and the writer thread's are both closed.
  expect(existsSync(`${dbPath}-wal`)).toBe(false);
});

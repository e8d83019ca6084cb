import { existsSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import { createLogger } from '../../src/log.ts';
import { startService } from '../../src/service.ts';
import { discordEnv, startStandIns, testEnv, type StandIns } from '../helpers/harness.ts';

/** A start that fails at the last step (the HTTP port is taken) leaves nothing running: one clean-up path for every failure. */

let s: StandIns;
beforeAll(async () => {
  s = await startStandIns();
});
afterAll(() => s.close());

it('a taken HTTP port fails the start and stops the runner, the writer thread, the gateway and the database', async () => {
  const taken = createServer();
  await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
  const port = (taken.address() as AddressInfo).port;
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(chunk.toString());
      done();
    },
  });
  const log = createLogger('info', sink);
  const dbPath = join(s.dir, 'concierge.db');
  const config = loadConfig(testEnv(s.paypal.url, dbPath, { ...discordEnv(s.discord), HTTP_HOST: '127.0.0.1', HTTP_PORT: String(port) }));
  try {
    await expect(startService(config, log)).rejects.toMatchObject({ code: 'EADDRINUSE' });
  } finally {
    await new Promise((resolve) => taken.close(resolve));
  }
  const messages = lines.map((l) => (JSON.parse(l) as { msg: string }).msg);
  // Everything had started: the gateway session, and the job runner (started after the webhook writer thread).
  expect(s.discord.gatewayLog.some((e) => e.kind === 'identify')).toBe(true);
  expect(messages).toContain('job runner started');
  // ...and all of it stopped again.
  expect(messages).toContain('job runner stopped');
  await expect.poll(() => s.discord.gatewayLog.some((e) => e.kind === 'close' && e.detail === 'by the client')).toBe(true);
  expect(s.discord.connectedSessions()).toBe(0);
  // SQLite removes the WAL when the last connection closes: the service's own and the writer thread's are both closed.
  expect(existsSync(`${dbPath}-wal`)).toBe(false);
});

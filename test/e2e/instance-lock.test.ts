import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../src/demo/stage.ts';
import { runCli } from '../helpers/cli.ts';
import { discordEnv, startStandIns, testEnv, type StandIns } from '../helpers/harness.ts';
import { startServiceProcess, waitHealthy } from '../helpers/service-process.ts';

/**
 * One Concierge per database (SPEC Contracts): a second `npm start` on the
 * same file exits at once, non-zero, saying why, while the first runs on and
 * the CLI still works on the database. Crash recovery that relies on this
 * lock: process.test.ts "durability".
 */

let s: StandIns;
beforeAll(async () => {
  s = await startStandIns();
});
afterAll(() => s.close());

// Two cold starts of the real process on a busy 2-core machine: minutes of margin, not a timing claim.
describe('one instance per database', { timeout: 120_000 }, () => {
  it('a second service on the same database exits non-zero naming the running one; the first keeps running; the CLI still works', async () => {
    const dbPath = join(s.dir, 'one.db');
    const [port, otherPort] = [await freePort(), await freePort()];
    const env = (p: number) => testEnv(s.paypal.url, dbPath, { ...discordEnv(s.discord), HTTP_PORT: String(p), LOG_LEVEL: 'warn' });
    const first = startServiceProcess(env(port), s.dir);
    try {
      await waitHealthy(`http://127.0.0.1:${port}`, first);
      const identifies = s.discord.gatewayLog.filter((e) => e.kind === 'identify').length;

      const second = startServiceProcess(env(otherPort), s.dir);
      const code = await second.exited;
      expect(code).not.toBe(0);
      expect(second.output()).toContain(`another Concierge is running on the database ${dbPath}`);
      expect(second.output()).not.toMatch(/\n\s+at .+\(.+:\d+:\d+\)/);
      // Refused before it did anything: no gateway session, no port.
      expect(s.discord.gatewayLog.filter((e) => e.kind === 'identify').length).toBe(identifies);
      expect(await fetch(`http://127.0.0.1:${otherPort}/healthz`).then(() => true, () => false)).toBe(false);

      expect((await fetch(`http://127.0.0.1:${port}/healthz`)).ok).toBe(true);
      const migrate = await runCli(['migrate'], s.dir, { DATABASE_PATH: dbPath });
      expect(migrate.stderr).toBe('');
      expect(migrate.code).toBe(0);
      expect(existsSync(`${dbPath}.lock`)).toBe(true);
    } finally {
      first.child.kill('SIGTERM');
      await first.exited;
    }

    // Stopped, the lock is gone with the process: the next start on the file runs.
    const again = startServiceProcess(env(port), s.dir);
    try {
      await waitHealthy(`http://127.0.0.1:${port}`, again);
    } finally {
      again.child.kill('SIGTERM');
      expect(await again.exited).toBe(0);
    }
  });
});

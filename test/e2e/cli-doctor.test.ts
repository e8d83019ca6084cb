import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.ts';
import { testEnv } from '../helpers/harness.ts';

/** `npx concierge doctor` on file permissions: a .env other users can read is a warning (the service still runs), with the fix. */

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'concierge-doctor-'));
  const env = testEnv('https://127.0.0.1:9', join(dir, 'data', 'concierge.db'));
  writeFileSync(join(dir, '.env'), Object.entries(env).map(([k, v]) => `${k}=${v ?? ''}\n`).join(''));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Runs `concierge doctor --offline` (the local checks) in `dir`, so it reads dir/.env; nothing else in its environment. */
const doctor = () => runCli(['doctor', '--offline'], dir);

describe('concierge doctor: file permissions', () => {
  it('warns about a .env readable by group/others, naming the fix, and still passes', async () => {
    chmodSync(join(dir, '.env'), 0o644);
    const r = await doctor();
    expect(r.stderr).toContain('warning: .env is accessible to group/others (mode 0644) and holds the bot token and the PayPal secret; fix: chmod 600 .env');
    expect(r.stdout).toContain('all checks passed');
    expect(r.code).toBe(0);
  });

  it('says nothing about a .env only its owner can read', async () => {
    chmodSync(join(dir, '.env'), 0o600);
    const r = await doctor();
    expect(r.stderr).not.toContain('warning');
    expect(r.code).toBe(0);
  });
});

import { spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testEnv } from '../helpers/harness.ts';

/** `npx concierge doctor` on file permissions: a .env other users can read is a warning (the service still runs), with the fix. */

const ROOT = new URL('../../', import.meta.url).pathname;
let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'concierge-doctor-'));
  const env = testEnv('https://127.0.0.1:9', join(dir, 'data', 'concierge.db'));
  writeFileSync(join(dir, '.env'), Object.entries(env).map(([k, v]) => `${k}=${v ?? ''}\n`).join(''));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Runs `concierge doctor` in `dir`, so it reads dir/.env; nothing else in its environment. */
function doctor(): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [join(ROOT, 'bin/concierge.js'), 'doctor'], {
    cwd: dir,
    env: { PATH: process.env['PATH'], NODE_EXTRA_CA_CERTS: process.env['NODE_EXTRA_CA_CERTS'] },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d.toString()));
  child.stderr.on('data', (d) => (stderr += d.toString()));
  return new Promise((resolve) => child.on('exit', (code) => resolve({ code, stdout, stderr })));
}

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

import { spawn } from 'node:child_process';
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { discordEnv, startHarness, testEnv, type Harness } from '../helpers/harness.ts';
import { TIERS_FIXTURE_PATH } from '../helpers/tiers.ts';

/**
 * Slash command registration as Discord sees it: a guild bulk overwrite at
 * start-up with the tiers file's choices, again after the tiers file
 * changes, and from `npx concierge register-commands`.
 */

const ROOT = new URL('../../', import.meta.url).pathname;
let h: Harness;
let tiersFile: string;
let original: string;

beforeAll(async () => {
  const { mkdtempSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  tiersFile = join(mkdtempSync(join(tmpdir(), 'concierge-tiers-')), 'tiers.yaml');
  copyFileSync(TIERS_FIXTURE_PATH, tiersFile);
  original = readFileSync(tiersFile, 'utf8');
  h = await startHarness({ env: { TIERS_FILE: tiersFile }, overrides: { tiersPollMs: 50 } });
});
afterAll(async () => {
  await h.close();
});

const commandsPath = /^\/applications\/\d+\/guilds\/\d+\/commands$/;
const subscribe = () => h.discord.commands().find((c) => c.name === 'subscribe');

describe('command registration', () => {
  it('registers the member and staff commands in the guild at start-up with one bulk PUT, tier choices from the tiers file', () => {
    expect(h.discord.callsTo('PUT', commandsPath)).toBe(1);
    expect(h.discord.globalCommands()).toEqual([]);
    expect(h.discord.commands().map((c) => c.name).sort()).toEqual(['admin', 'cancel', 'publisher', 'scripts', 'status', 'subscribe']);
    for (const c of h.discord.commands()) expect(c.description.length).toBeGreaterThan(10);
    const [tier, plan] = subscribe()?.options ?? [];
    expect(tier).toMatchObject({ name: 'tier', required: true });
    expect(tier && 'choices' in tier ? tier.choices : []).toEqual([
      { name: 'Elite', value: 'elite' },
      { name: 'Legendary', value: 'legendary' },
      { name: 'Titan', value: 'titan' },
      { name: 'Warlord', value: 'warlord' },
    ]);
    // Titan sells two named plans, so /subscribe offers an optional plan choice.
    expect(plan).toMatchObject({ name: 'plan' });
    expect(plan?.required ?? false).toBe(false);
    expect(plan && 'choices' in plan ? plan.choices : []).toEqual([
      { name: 'Monthly', value: 'monthly' },
      { name: 'Yearly', value: 'yearly' },
    ]);
  });

  it('re-registers when the tiers file changes, and not for a rejected edit', async () => {
    writeFileSync(tiersFile, original.replace('name: Warlord', 'name: Overlord'));
    await h.discord.waitForCalls('PUT', commandsPath, 2);
    const tier = subscribe()?.options?.[0];
    expect(tier && 'choices' in tier ? tier.choices?.map((c) => c.name) : []).toContain('Overlord');

    // Two tiers with one rank: rejected, the last good file stays, nothing is re-registered.
    writeFileSync(tiersFile, original.replace('rank: 4', 'rank: 3'));
    await new Promise((r) => setTimeout(r, 400));
    expect(h.discord.callsTo('PUT', commandsPath)).toBe(2);
    expect(h.service.tiers.current().byKey('warlord')?.name).toBe('Overlord');
  });

  it('/readyz names the registration when Discord refuses it', async () => {
    const fault = h.discord.fault({ method: 'PUT', path: commandsPath, status: 403, body: { message: 'Missing Access', code: 50001 } });
    try {
      writeFileSync(tiersFile, original.replace('name: Warlord', 'name: Warlord II'));
      await h.waitFor(() => fault.hits > 0);
      const readyz = async () => (await (await fetch(`${h.service.url}/readyz`)).json()) as { status: string; failing: string[]; checks: Record<string, { ok: boolean; detail?: string }> };
      let body = await readyz();
      for (let i = 0; i < 50 && body.checks['commands']?.ok !== false; i++) body = await readyz();
      expect(body).toMatchObject({ status: 'not_ready', failing: ['commands'] });
      expect(body.checks['commands']).toMatchObject({ ok: false });
      expect(body.checks['commands']?.detail).toMatch(/applications\.commands/);
    } finally {
      h.discord.clearFaults();
    }
  });
});

function runCli(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number | null; out: string }> {
  // From source, as test/helpers/cli.ts runs it (bin/concierge.js runs the compiled dist/).
  const child = spawn(process.execPath, ['--import', import.meta.resolve('tsx'), join(ROOT, 'src/cli/main.ts'), ...args], {
    cwd: h.dir,
    env: { PATH: process.env['PATH'], NODE_EXTRA_CA_CERTS: process.env['NODE_EXTRA_CA_CERTS'], ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (d) => (out += d.toString()));
  child.stderr.on('data', (d) => (out += d.toString()));
  return new Promise((resolve) => child.on('exit', (code) => resolve({ code, out })));
}

describe('npx concierge register-commands', () => {
  it('overwrites the guild commands from the tiers file and says what it registered', async () => {
    const before = h.discord.callsTo('PUT', commandsPath);
    const env = testEnv(h.paypal.url, join(h.dir, 'cli.db'), { ...discordEnv(h.discord), TIERS_FILE: TIERS_FIXTURE_PATH });
    const { code, out } = await runCli(['register-commands'], env);
    expect(out).toMatch(/registered 6 command\(s\) in guild \d+: \/subscribe \/status \/scripts \/cancel \/admin \/publisher/);
    expect(code).toBe(0);
    expect(h.discord.callsTo('PUT', commandsPath)).toBe(before + 1);
  });

  it('exits non-zero with the fix when Discord rejects the token', async () => {
    const env = testEnv(h.paypal.url, join(h.dir, 'cli.db'), { ...discordEnv(h.discord), DISCORD_TOKEN: 'MzAwMDAwMDAwMDAwMDAwMDk5.bad.token-that-discord-refuses' });
    const { code, out } = await runCli(['register-commands'], env);
    expect(code).toBe(1);
    expect(out).toMatch(/DISCORD_TOKEN/);
    expect(out).not.toMatch(/at .*node_modules/);
  });
});

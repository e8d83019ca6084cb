import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REQUIRED_EVENT_TYPES } from '../../src/core/webhook-subscription.ts';
import { createPaypalStandIn, type PaypalStandIn } from '../../src/stand-ins/paypal/server.ts';
import type { DiscordStandIn } from '../../src/stand-ins/discord/server.ts';
import { runCli } from '../helpers/cli.ts';
import { createTestDiscord, discordEnv, TEST_WEBHOOK_ID, testEnv } from '../helpers/harness.ts';

/**
 * `concierge doctor` with PayPal and Discord (the stand-ins): credentials,
 * the webhook PayPal delivers to and its events, the bot's token, intent,
 * server, audit channel and role order, and PUBLIC_URL. One run names
 * every problem.
 */

const PUBLIC_URL = 'https://members.example.test';
let paypal: PaypalStandIn;
let good: DiscordStandIn;
let broken: DiscordStandIn;
let dir: string;

beforeAll(async () => {
  paypal = await createPaypalStandIn({
    webhooks: [
      { id: TEST_WEBHOOK_ID, url: `${PUBLIC_URL}/webhooks/paypal`, eventTypes: ['*'] },
      { id: 'WH-PARTIAL', url: 'https://old-host.example.test/paypal', eventTypes: REQUIRED_EVENT_TYPES.filter((t) => !t.startsWith('CUSTOMER.DISPUTE.')) },
    ],
  });
  good = await createTestDiscord();
  broken = await createTestDiscord({ privilegedIntentsEnabled: false, botRolePosition: 1 });
  broken.restrictChannel(broken.auditChannelId, 50001);
  dir = mkdtempSync(join(tmpdir(), 'concierge-doctor-remote-'));
});
afterAll(async () => {
  await paypal.close();
  await good.close();
  await broken.close();
  rmSync(dir, { recursive: true, force: true });
});

const doctor = (discord: DiscordStandIn, extra: Record<string, string> = {}) =>
  runCli(['doctor'], dir, testEnv(paypal.url, join(dir, 'concierge.db'), { ...discordEnv(discord), ...extra }));
const problems = (stderr: string) => stderr.split('\n').filter((l) => l.startsWith('  - '));

describe('concierge doctor with PayPal and Discord', { timeout: 180_000 }, () => {
  it('a good set-up: says what it found and passes; broken ones: names each problem and exits 1', async () => {
    const [ok, bad] = await Promise.all([doctor(good), doctor(broken, { PAYPAL_WEBHOOK_ID: 'WH-PARTIAL', PUBLIC_URL: 'http://members.example.test' })]);

    expect(ok.stderr).toBe('');
    expect(ok.code).toBe(0);
    for (const line of [
      `PayPal (sandbox, ${paypal.url}): credentials accepted`,
      `PayPal webhook ${TEST_WEBHOOK_ID} → ${PUBLIC_URL}/webhooks/paypal, events: *`,
      `Discord: bot Concierge (${good.botUserId})`,
      'Discord: Server Members intent enabled',
      'Discord: server "Concierge Test Guild"',
      'Discord: role Concierge above every tier role (Elite, Legendary, Titan, Warlord)',
      'Discord: audit channel #concierge-audit',
      'all checks passed',
    ]) {
      expect(ok.stdout.split('\n'), ok.stdout).toContain(line);
    }

    expect(bad.code).toBe(1);
    const listed = problems(bad.stderr);
    expect(bad.stderr).toContain(`${listed.length} problem(s):`);
    for (const p of [
      'PUBLIC_URL http://members.example.test: must be https://',
      'PAYPAL_WEBHOOK_ID WH-PARTIAL: PayPal delivers to https://old-host.example.test/paypal, but this service receives at http://members.example.test/webhooks/paypal',
      'PAYPAL_WEBHOOK_ID WH-PARTIAL: not subscribed to CUSTOMER.DISPUTE.CREATED, CUSTOMER.DISPUTE.UPDATED',
      'Discord application: enable "Server Members Intent"',
      'Discord: drag role Concierge above Elite, Legendary, Titan, Warlord in Server Settings → Roles',
      `DISCORD_AUDIT_CHANNEL_ID ${broken.auditChannelId}: the bot cannot see this channel`,
    ]) {
      expect(listed.some((l) => l.includes(p)), `${p} in\n${bad.stderr}`).toBe(true);
    }
  });

  it('credentials PayPal or Discord refuse, and a webhook id of another app, are named with the fix', async () => {
    const [creds, otherHook] = await Promise.all([
      doctor(good, { PAYPAL_CLIENT_SECRET: 'wrong-secret', DISCORD_TOKEN: 'MzAwMDAwMDAwMDAwMDAwMDk5.wrong.token-wrong-wrong' }),
      doctor(good, { PAYPAL_WEBHOOK_ID: 'WH-ELSEWHERE' }),
    ]);
    expect(creds.code).toBe(1);
    const listed = problems(creds.stderr);
    expect(listed.some((l) => l.includes('PAYPAL_CLIENT_ID / PAYPAL_CLIENT_SECRET: PayPal (sandbox) refused the credentials')), creds.stderr).toBe(true);
    expect(listed.some((l) => l.includes('DISCORD_TOKEN: Discord rejected the token (401)')), creds.stderr).toBe(true);
    expect(creds.stderr).not.toContain('wrong-secret');
    expect(otherHook.code).toBe(1);
    expect(problems(otherHook.stderr)).toEqual([
      `  - PAYPAL_WEBHOOK_ID WH-ELSEWHERE: not a webhook of this PayPal sandbox app (its webhooks: ${TEST_WEBHOOK_ID} → ${PUBLIC_URL}/webhooks/paypal, WH-PARTIAL → https://old-host.example.test/paypal); copy the id from Apps & Credentials (sandbox) → your app → Webhooks`,
    ]);
  });
});

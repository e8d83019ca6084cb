import { Writable } from 'node:stream';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createLogger } from '../../src/log.ts';
import { webhookEvents } from '../../src/store/schema.ts';
import { startHarness, type Harness } from '../helpers/harness.ts';
import { PLAN_IDS } from '../helpers/tiers.ts';

/** Secrets never reach logs, even at trace level and through PayPal errors. */

let lines = '';
let h: Harness;
beforeAll(async () => {
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines += chunk.toString();
      done();
    },
  });
  h = await startHarness({ log: createLogger('trace', sink), env: { METRICS_TOKEN: 'metrics-secret-token', PAYPAL_TIMEOUT_MS: '300' } });
});
afterAll(() => h.close());

it('keeps the PayPal secret, OAuth tokens and bearer tokens out of the logs', async () => {
  const s = h.paypal.createSubscription({ planId: PLAN_IDS.eliteMonthly, customId: '300000000000000012', status: 'ACTIVE' });
  const ok = h.paypal.subscriptionEvent('BILLING.SUBSCRIPTION.ACTIVATED', s.id);
  await h.deliver(ok);
  await h.waitFor(() => h.service.store.db.select().from(webhookEvents).where(eq(webhookEvents.id, ok.id)).get()?.processedAt);
  const fault = h.paypal.fault({ method: 'GET', path: /\/v1\/billing\/subscriptions\//, status: 500 });
  const failing = h.paypal.subscriptionEvent('BILLING.SUBSCRIPTION.UPDATED', s.id);
  await h.deliver(failing);
  await h.deliver(failing, { tamper: 'signature' });
  await fetch(`${h.service.url}/metrics`, { headers: { authorization: 'Bearer metrics-secret-token' } });
  await h.waitFor(() => /job failed|retry/i.test(lines) || undefined, 5000).catch(() => undefined);
  fault.clear();

  expect(lines.length).toBeGreaterThan(0);
  const tokens = h.paypal.requests.flatMap((r) => (typeof r.headers.authorization === 'string' ? [r.headers.authorization.replace(/^(Bearer|Basic) /, '')] : []));
  expect(tokens.length).toBeGreaterThan(0);
  for (const secret of ['test-client-secret', 'metrics-secret-token', h.config.discord.token, ...tokens]) {
    expect(lines.includes(secret), `log contains ${secret.slice(0, 6)}…`).toBe(false);
  }
});

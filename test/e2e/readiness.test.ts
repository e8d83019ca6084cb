import { afterAll, beforeAll, expect, it } from 'vitest';
import { startHarness, type Harness } from '../helpers/harness.ts';
import { PLAN_IDS } from '../helpers/tiers.ts';

/** /readyz names what is wrong: a dead worker and a queue that stopped moving. */

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ overrides: { readiness: { workerStaleMs: 200, queueStaleMs: 200 } } });
});
afterAll(() => h.close());

it('is ready while the worker runs, and reports the last verified webhook', async () => {
  const s = h.paypal.createSubscription({ planId: PLAN_IDS.eliteMonthly, customId: '300000000000000009', status: 'ACTIVE' });
  expect((await h.deliver(h.paypal.subscriptionEvent('BILLING.SUBSCRIPTION.ACTIVATED', s.id))).status).toBe(200);
  const res = await fetch(`${h.service.url}/readyz`);
  expect(res.status).toBe(200);
  const body = (await res.json()) as { checks: { webhooks: { lastVerifiedWebhookAgeMs: number | null } } };
  expect(body.checks.webhooks.lastVerifiedWebhookAgeMs).not.toBeNull();
});

it('answers 503 naming the worker and the queue when the worker is gone and jobs wait', async () => {
  await h.service.runner.stop();
  const s = h.paypal.createSubscription({ planId: PLAN_IDS.eliteMonthly, customId: '300000000000000010', status: 'ACTIVE' });
  expect((await h.deliver(h.paypal.subscriptionEvent('BILLING.SUBSCRIPTION.ACTIVATED', s.id))).status).toBe(200); // still acknowledged
  h.advance(1000);
  const res = await fetch(`${h.service.url}/readyz`);
  expect(res.status).toBe(503);
  const body = (await res.json()) as { failing: string[] };
  expect(body.failing).toEqual(expect.arrayContaining(['worker', 'queue']));
  expect((await fetch(`${h.service.url}/healthz`)).status).toBe(200);
});

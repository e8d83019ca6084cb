import { afterAll, beforeAll, expect, it } from 'vitest';
import { startHarness, type Harness } from '../helpers/harness.ts';
import { PLAN_IDS } from '../helpers/tiers.ts';

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ env: { METRICS_TOKEN: 'metrics-secret-token' } });
});
afterAll(() => h.close());

it('serves Prometheus metrics behind the bearer token, counting webhooks by result', async () => {
  const s = h.paypal.createSubscription({ planId: PLAN_IDS.eliteMonthly, customId: '300000000000000011', status: 'ACTIVE' });
  const event = h.paypal.subscriptionEvent('BILLING.SUBSCRIPTION.ACTIVATED', s.id);
  expect((await h.deliver(event)).status).toBe(200);
  expect((await h.deliver(event, { tamper: 'body' })).status).toBe(400);

  expect((await fetch(`${h.service.url}/metrics`)).status).toBe(401);
  expect((await fetch(`${h.service.url}/metrics`, { headers: { authorization: 'Bearer wrong' } })).status).toBe(401);
  const res = await fetch(`${h.service.url}/metrics`, { headers: { authorization: 'Bearer metrics-secret-token' } });
  expect(res.status).toBe(200);
  const text = await res.text();
  expect(text).toMatch(/concierge_webhooks_total\{result="stored"\} 1/);
  expect(text).toMatch(/concierge_webhooks_total\{result="bad_signature"\} 1/);
  expect(text).toMatch(/concierge_jobs\{status="(queued|done)"\}/);
});

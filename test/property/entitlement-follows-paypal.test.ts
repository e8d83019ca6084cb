import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DAY_MS } from '../../src/core/time.ts';
import type { PaypalClient } from '../../src/paypal/client.ts';
import { startHarness, type Harness } from '../helpers/harness.ts';
import { describeRun, discordTier, drain, newRun, overdueLapseChecks, paypalClientFor, play, settledExpectation, storedTier } from './lifecycle-driver.ts';
import { ADVERSARIAL, actionsArb } from './lifecycle-model.ts';
import { propertyRuns, propertyTimeoutMs } from './runs.ts';

/**
 * Property (a), issue 16: for any sequence of lifecycle events of one member's subscriptions (activation,
 * payments at the plan's price, failures, suspension, reactivation, cancellation, expiry, refund,
 * chargeback, plan revised up or down), delivered late, in any order, several at once and twice, the
 * member's entitlement once everything is delivered is the one PayPal's final records give, in the store
 * and on Discord. Webhooks are only notifications: the stand-in holds the truth, read through the real SDK.
 */

let h: Harness;
let api: PaypalClient;

beforeAll(async () => {
  h = await startHarness();
  api = paypalClientFor(h);
}, 60_000);
afterAll(async () => {
  api.close();
  await h.close();
});

describe('entitlement follows PayPal whatever the delivery order', () => {
  it('ends at the tier PayPal records entitle to, in the store and on Discord', async () => {
    await fc.assert(
      fc.asyncProperty(actionsArb({ grants: true }), async (actions) => {
        const run = newRun(h);
        for (const a of actions) await play(h, api, run, a);
        await drain(h, run);
        // Once at the end, and again after every period paid so far ran out (the lapse checks' turn).
        for (const later of [0, 35 * DAY_MS]) {
          h.advance(later);
          await h.settle();
          const expected = await settledExpectation(h, run);
          const why = `${describeRun(run)}\nchecked at ${new Date(h.now()).toISOString()}`;
          expect(overdueLapseChecks(h), why).toBe(0);
          expect(storedTier(h, run.memberId), why).toBe(expected);
          expect(discordTier(h, run.memberId), why).toBe(expected);
        }
      }),
      { numRuns: propertyRuns(), examples: ADVERSARIAL.map((a) => [a]) },
    );
  }, propertyTimeoutMs());
});

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DAY_MS } from '../../src/core/time.ts';
import { describeRun, discordTier, drain, newRun, overdueLapseChecks, play, settledExpectation, storedTier } from './lifecycle-driver.ts';
import { ADVERSARIAL, actionsArb } from './lifecycle-model.ts';
import { usePropertyService } from './service.ts';
import { propertyRuns, propertyTimeoutMs } from './runs.ts';

/**
 * Property (a), issue 16: for any sequence of lifecycle events of one member's subscriptions (activation,
 * payments at the plan's price, failures, suspension, reactivation, cancellation, expiry, refund,
 * chargeback, plan revised up or down), delivered late, in any order, several at once and twice, the
 * member's entitlement once everything is delivered is the one PayPal's final records give, in the store
 * and on Discord. Webhooks are only notifications: the stand-in holds the truth, read through the real SDK.
 */

const svc = usePropertyService();

describe('entitlement follows PayPal whatever the delivery order', () => {
  it('ends at the tier PayPal records entitle to, in the store and on Discord', async () => {
    await fc.assert(
      fc.asyncProperty(actionsArb({ grants: true }), async (actions) => {
        const run = newRun(svc.h);
        for (const a of actions) await play(svc.h, svc.api, run, a);
        await drain(svc.h, run);
        // Once at the end, and again after every period paid so far ran out (the lapse checks' turn).
        for (const later of [0, 35 * DAY_MS]) {
          svc.h.advance(later);
          await svc.h.settle();
          const expected = await settledExpectation(svc.h, run);
          const why = `${describeRun(run)}\nchecked at ${new Date(svc.h.now()).toISOString()}`;
          expect(overdueLapseChecks(svc.h), why).toBe(0);
          expect(storedTier(svc.h, run.memberId), why).toBe(expected);
          expect(discordTier(svc.h, run.memberId), why).toBe(expected);
        }
      }),
      { numRuns: propertyRuns(), examples: ADVERSARIAL.map((a) => [a]) },
    );
  }, propertyTimeoutMs());
});

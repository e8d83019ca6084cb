import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { runReconcile } from '../../src/app/reconcile.ts';
import type { ReconcileReport } from '../../src/core/reconcile.ts';
import { createLogger } from '../../src/log.ts';
import { describeRun, discordTier, drain, newRun, play, settledExpectation, storedTier, type Run } from './lifecycle-driver.ts';
import { ADVERSARIAL, actionsArb, type Action } from './lifecycle-model.ts';
import { usePropertyService } from './service.ts';
import { propertyRuns, propertyTimeoutMs } from './runs.ts';

/**
 * Property (b), issue 16: after any sequence, some of its webhooks never delivered, reconciliation brings
 * the member to the state PayPal's records give (property a's expectation), in the store and on Discord; and
 * it is idempotent: a second run straight after finds no difference and writes nothing to PayPal or Discord.
 */

const svc = usePropertyService();

const reconcile = (): Promise<ReconcileReport> =>
  runReconcile({ store: svc.h.service.store, effects: svc.h.service.effects, tiers: svc.h.service.tiers, clock: svc.h.now, log: createLogger('silent'), paypal: svc.api, guild: svc.h.service.guild, paypalIntervalMs: 0, retryDelaysMs: [20, 20] }, { dryRun: false });

/** Requests that change something: PayPal calls other than reads and tokens, Discord calls other than reads. */
const writes = () => ({
  paypal: svc.h.paypal.requests.filter((r) => r.method !== 'GET' && r.path !== '/v1/oauth2/token').length,
  discord: svc.h.discord.requests.filter((r) => r.method !== 'GET').length,
});

/** Moves of the clock over a day or more: in production the hourly reconciliation runs meanwhile. */
const movesClock = (a: Action) => a.kind === 'wait' || a.kind === 'renew' || a.kind === 'fail';

async function scheduledRunIfLost(run: Run): Promise<void> {
  if (run.lost.length === 0) return;
  const report = await reconcile();
  expect(report.completed, describeRun(run)).toBe(true);
  run.lost.length = 0;
  await svc.h.settle();
}

const LOSSY: Action[][] = [
  ...ADVERSARIAL,
  // Every event of a cancellation lost: only reconciliation hears of it.
  [{ kind: 'subscribe', plan: 'titanMonthly' }, { kind: 'deliver', pick: 0, count: 3 }, { kind: 'cancel', sub: 0 }, { kind: 'lose', pick: 0 }],
  // A refund's event lost.
  [{ kind: 'subscribe', plan: 'legendaryMonthly' }, { kind: 'deliver', pick: 0, count: 3 }, { kind: 'refund', sub: 0 }, { kind: 'lose', pick: 0 }],
  // The activation and its sale lost: the member paid and Concierge never heard.
  [{ kind: 'subscribe', plan: 'warlordMonthly' }, { kind: 'lose', pick: 0 }, { kind: 'lose', pick: 0 }],
];

describe('reconciliation converges and is idempotent', () => {
  it('brings the member to what PayPal records give; a second run finds nothing and writes nothing', async () => {
    await fc.assert(
      fc.asyncProperty(actionsArb({ losses: true }), async (actions) => {
        const run = newRun(svc.h);
        for (const a of actions) {
          if (movesClock(a)) await scheduledRunIfLost(run);
          await play(svc.h, svc.api, run, a);
        }
        await drain(svc.h, run);
        const first = await reconcile();
        await svc.h.settle();
        const expected = await settledExpectation(svc.h, run);
        const why = `${describeRun(run)}\nfirst run: ${JSON.stringify(first.differences)}`;
        expect(first.completed, why).toBe(true);
        expect(storedTier(svc.h, run.memberId), why).toBe(expected);
        expect(discordTier(svc.h, run.memberId), why).toBe(expected);

        const before = writes();
        const second = await reconcile();
        await svc.h.settle();
        expect(second.completed, why).toBe(true);
        expect(second.differences, why).toEqual([]);
        expect(writes(), why).toEqual(before);
        // Done with this member: PayPal ends their subscriptions, so the next runs' reconciliations read
        // them once more and then no longer (each run would otherwise re-read every earlier run's).
        for (const id of run.subs) if (svc.h.paypal.get(id)?.status !== 'CANCELLED') svc.h.paypal.setStatus(id, 'EXPIRED');
      }),
      { numRuns: propertyRuns(), examples: LOSSY.map((a) => [a]) },
    );
  }, propertyTimeoutMs());
});

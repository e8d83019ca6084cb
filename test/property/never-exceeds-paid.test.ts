import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ceiling, describeRun, discordTier, newRun, play, storedTier } from './lifecycle-driver.ts';
import { ADVERSARIAL, actionsArb, rankOf, type Action } from './lifecycle-model.ts';
import { usePropertyService } from './service.ts';
import { propertyRuns, propertyTimeoutMs } from './runs.ts';

/**
 * Property (c), issue 16: at every step of any sequence (events late, reordered, doubled, some never
 * delivered), the tier a member holds, in the store and on Discord, is at most the highest tier whose price
 * a sale was charged at (and that no processed refund or chargeback took back), or a running staff grant.
 * A member who wants Warlord at Elite's price tries: revising the plan up and not paying, revising then
 * getting the old payment refunded, a chargeback won, a grant that ran out.
 */

const svc = usePropertyService();

const GREEDY: Action[][] = [
  ...ADVERSARIAL,
  // A grant of Warlord for two days on top of Elite: Warlord while it runs, Elite after.
  [{ kind: 'subscribe', plan: 'eliteMonthly' }, { kind: 'grant', tier: 'warlord', days: 2 }, { kind: 'deliver', pick: 0, count: 3 }, { kind: 'wait', hours: 49 }],
  // Revise to Warlord, then pay the renewal at Warlord's price, then get it refunded.
  [
    { kind: 'subscribe', plan: 'eliteMonthly' },
    { kind: 'deliver', pick: 0, count: 3 },
    { kind: 'revise', sub: 0, plan: 'warlordMonthly' },
    { kind: 'deliver', pick: 0, count: 3 },
    { kind: 'renew', sub: 0 },
    { kind: 'deliver', pick: 0, count: 3 },
    { kind: 'refund', sub: 0 },
    { kind: 'deliver', pick: 0, count: 3 },
  ],
];

describe('entitlement never exceeds what was paid or granted', () => {
  it('holds at every step, in the store and on Discord', async () => {
    await fc.assert(
      fc.asyncProperty(actionsArb({ grants: true, losses: true }), async (actions) => {
        const run = newRun(svc.h);
        for (const a of actions) {
          if (!(await play(svc.h, svc.api, run, a))) continue;
          const most = ceiling(svc.h, run);
          const why = `${describeRun(run)}\nat most ${most ?? 'nothing'} at ${new Date(svc.h.now()).toISOString()}`;
          expect(rankOf(storedTier(svc.h, run.memberId)), why).toBeLessThanOrEqual(rankOf(most));
          expect(rankOf(discordTier(svc.h, run.memberId)), why).toBeLessThanOrEqual(rankOf(most));
        }
      }),
      { numRuns: propertyRuns(), examples: GREEDY.map((a) => [a]) },
    );
  }, propertyTimeoutMs());
});

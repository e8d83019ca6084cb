import { describe, expect, it } from 'vitest';
import { describeRun, drain, newRun, play, settledExpectation, storedTier } from './lifecycle-driver.ts';
import type { Action } from './lifecycle-model.ts';
import { usePropertyService } from './service.ts';

/**
 * Orders of delivery the lifecycle properties found wrong. The fixed ones stay as `it`, each a promise. The one
 * left (`it.fails`, a KNOWN GAP note in lifecycle-driver.ts, which its generator leaves out) passes while
 * Concierge still gives that answer, and turns red if it ever changes; then make it an `it` and drop the
 * generator's restriction.
 */

const svc = usePropertyService();

const all: Action = { kind: 'deliver', pick: 0, count: 9 };

async function finalTier(actions: Action[]): Promise<{ stored: string | null; expected: string | null; why: string }> {
  const run = newRun(svc.h, { knownGaps: true });
  for (const a of actions) await play(svc.h, svc.api, run, a);
  await drain(svc.h, run, { strict: false });
  const expected = await settledExpectation(svc.h, run);
  return { stored: storedTier(svc.h, run.memberId), expected, why: describeRun(run) };
}

describe('known gaps (issue 16 report)', () => {
  it('a chargeback heard of before its sale was recorded: the chargeback takes the tier back at once', async () => {
    // PayPal's dispute names the sale, not its subscription, and the sale's own event is lost, while the
    // activation's read counted the payment: PayPal's sale (billing_agreement_id) places it in its subscription.
    const r = await finalTier([{ kind: 'subscribe', plan: 'eliteMonthly' }, { kind: 'lose', pick: 1 }, { kind: 'chargeback', sub: 0 }, all]);
    expect(r.expected).toBeNull();
    expect(r.stored, r.why).toBe(r.expected);
  }, 60_000);

  it.fails('a plan revised down before Concierge saw the first payment: the payment still buys the tier it paid', async () => {
    // A limit kept on purpose. The subscription was made at PayPal, not through /subscribe, so Concierge never saw
    // it at Warlord: the read shows Elite and a payment of Warlord's price. PayPal's records do not say which plan
    // billed it, and an amount alone (a setup fee, a balance billed at once) must not lift a member above the tier
    // shown, so it counts for Elite: against the member, never for them. Through /subscribe the checkout records
    // the plan and the payment counts for Warlord (subscribe.test.ts, "revised down to Elite at PayPal").
    const r = await finalTier([{ kind: 'subscribe', plan: 'warlordMonthly' }, { kind: 'revise', sub: 0, plan: 'eliteMonthly' }, { kind: 'deliver', pick: 0, count: 1 }]);
    expect(r.expected).toBe('warlord');
    expect(r.stored, r.why).toBe(r.expected);
  }, 60_000);

  it('a sale refunded before Concierge processed its completion: the refund takes the tier back', async () => {
    // The completion is then "unconfirmed" (PayPal lists the sale REFUNDED), no payment row is written, and
    // the refund's job waits for a sale that never comes, while the activation's read counted the payment.
    const r = await finalTier([{ kind: 'subscribe', plan: 'legendaryMonthly' }, { kind: 'refund', sub: 0 }, all]);
    expect(r.expected).toBeNull();
    expect(r.stored, r.why).toBe(r.expected);
  }, 60_000);

  it('a chargeback heard of after a later payment: the later payment keeps the tier', async () => {
    // revoked_at is the time Concierge processed the dispute, not PayPal's time, so the renewal that
    // completed after the chargeback (and was processed first) does not lift it.
    const r = await finalTier([{ kind: 'subscribe', plan: 'eliteMonthly' }, all, { kind: 'chargeback', sub: 0 }, { kind: 'renew', sub: 0 }, { kind: 'deliver', pick: 1, count: 1 }, all]);
    expect(r.expected).toBe('elite');
    expect(r.stored, r.why).toBe(r.expected);
  }, 60_000);

  it('a plan revised up before Concierge saw the first payment: the payment still buys its own tier', async () => {
    // The first read shows the new plan, whose price the old payment does not reach, and there is no
    // earlier counted plan to fall back on: the payment counts for nothing until the next renewal.
    const r = await finalTier([{ kind: 'subscribe', plan: 'eliteMonthly' }, { kind: 'revise', sub: 0, plan: 'titanMonthly' }, all]);
    expect(r.expected).toBe('elite');
    expect(r.stored, r.why).toBe(r.expected);
  }, 60_000);
});

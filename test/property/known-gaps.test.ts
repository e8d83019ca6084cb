import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PaypalClient } from '../../src/paypal/client.ts';
import { startHarness, type Harness } from '../helpers/harness.ts';
import { describeRun, drain, newRun, paypalClientFor, play, settledExpectation, storedTier } from './lifecycle-driver.ts';
import type { Action } from './lifecycle-model.ts';

/**
 * Orders of delivery the lifecycle properties found wrong, and which their generators now leave out (each
 * KNOWN GAP note in lifecycle-driver.ts). `it.fails`: each passes while Concierge still gets it wrong, and
 * turns red once it is fixed; then make it an `it` and drop the generator's restriction.
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

const all: Action = { kind: 'deliver', pick: 0, count: 9 };

async function finalTier(actions: Action[]): Promise<{ stored: string | null; expected: string | null; why: string }> {
  const run = newRun(h, { knownGaps: true });
  for (const a of actions) await play(h, api, run, a);
  await drain(h, run, { strict: false });
  const expected = await settledExpectation(h, run);
  return { stored: storedTier(h, run.memberId), expected, why: describeRun(run) };
}

describe('known gaps (issue 16 report)', () => {
  it.fails('a sale refunded before Concierge processed its completion: the refund takes the tier back', async () => {
    // The completion is then "unconfirmed" (PayPal lists the sale REFUNDED), no payment row is written, and
    // the refund's job waits for a sale that never comes, while the activation's read counted the payment.
    const r = await finalTier([{ kind: 'subscribe', plan: 'legendaryMonthly' }, { kind: 'refund', sub: 0 }, all]);
    expect(r.expected).toBeNull();
    expect(r.stored, r.why).toBe(r.expected);
  }, 60_000);

  it.fails('a chargeback heard of after a later payment: the later payment keeps the tier', async () => {
    // revoked_at is the time Concierge processed the dispute, not PayPal's time, so the renewal that
    // completed after the chargeback (and was processed first) does not lift it.
    const r = await finalTier([{ kind: 'subscribe', plan: 'eliteMonthly' }, all, { kind: 'chargeback', sub: 0 }, { kind: 'renew', sub: 0 }, { kind: 'deliver', pick: 1, count: 1 }, all]);
    expect(r.expected).toBe('elite');
    expect(r.stored, r.why).toBe(r.expected);
  }, 60_000);

  it.fails('a plan revised up before Concierge saw the first payment: the payment still buys its own tier', async () => {
    // The first read shows the new plan, whose price the old payment does not reach, and there is no
    // earlier counted plan to fall back on: the payment counts for nothing until the next renewal.
    const r = await finalTier([{ kind: 'subscribe', plan: 'eliteMonthly' }, { kind: 'revise', sub: 0, plan: 'titanMonthly' }, all]);
    expect(r.expected).toBe('elite');
    expect(r.stored, r.why).toBe(r.expected);
  }, 60_000);
});

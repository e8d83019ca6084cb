import type { PaypalStandIn, WebhookEvent } from '../../src/stand-ins/paypal/server.ts';
import type { Random } from './crash-random.ts';
import { PLAN_IDS } from './tiers.ts';

/**
 * What happens to each member at PayPal during a crash storm: one
 * subscription's life, driven on the PayPal stand-in step by step, each step
 * returning the webhooks PayPal would send about it. The storm interleaves
 * the members' steps; delivery order, duplicates and retries are the storm's.
 */

export type Ending = 'keeps' | 'cancels' | 'refunded' | 'reversed';

export interface MemberScript {
  memberId: string;
  planId: string;
  ending: Ending;
  /** Declined renewals scripted (each a PAYMENT.FAILED). */
  failures: number;
  /** Steps still to run, in order. */
  steps: Step[];
  /** Webhooks the script sends (before duplicates). */
  events: number;
}

export interface Step {
  label: string;
  /** Drives PayPal's state and returns the events PayPal sends about it. */
  run(): WebhookEvent<unknown>[];
}

const PLANS = [PLAN_IDS.eliteMonthly, PLAN_IDS.legendaryMonthly, PLAN_IDS.titanMonthly, PLAN_IDS.titanYearly, PLAN_IDS.warlordMonthly] as const;

/**
 * A member's script: created (the CREATED event only sometimes, as when the
 * webhook was subscribed later), approved (ACTIVATED + the first sale), some
 * renewals and declined renewals, then an ending. A refund or reversal always
 * takes the latest sale with no payment after it, so what the member is owed
 * is unambiguous (refunds revoke until a later payment).
 */
export function scriptMember(paypal: PaypalStandIn, memberId: string, rnd: Random): MemberScript {
  const planId = rnd.pick(PLANS);
  const ending = rnd.weighted<Ending>([
    ['keeps', 45],
    ['cancels', 25],
    ['refunded', 20],
    ['reversed', 10],
  ]);
  let subId = '';
  let lastSaleId = '';
  const steps: Step[] = [];
  const announceCreated = rnd.chance(0.5);
  steps.push({
    label: 'create',
    run: () => {
      subId = paypal.createSubscription({ planId, customId: memberId }).id;
      return announceCreated ? [paypal.subscriptionEvent('BILLING.SUBSCRIPTION.CREATED', subId)] : [];
    },
  });
  steps.push({
    label: 'approve',
    run: () => {
      lastSaleId = paypal.approve(subId).id;
      return [paypal.subscriptionEvent('BILLING.SUBSCRIPTION.ACTIVATED', subId), paypal.saleEvent('PAYMENT.SALE.COMPLETED', lastSaleId)];
    },
  });
  let failures = 0;
  for (let i = rnd.int(0, 3); i > 0; i--) {
    if (rnd.chance(0.35)) {
      failures++;
      steps.push({ label: 'decline', run: () => [paypal.subscriptionEvent('BILLING.SUBSCRIPTION.PAYMENT.FAILED', paypal.failPayment(subId).id)] });
    } else {
      steps.push({
        label: 'renew',
        run: () => {
          lastSaleId = paypal.recordPayment(subId).id;
          return [paypal.saleEvent('PAYMENT.SALE.COMPLETED', lastSaleId)];
        },
      });
    }
  }
  if (ending === 'cancels') {
    steps.push({ label: 'cancel', run: () => [paypal.subscriptionEvent('BILLING.SUBSCRIPTION.CANCELLED', paypal.setStatus(subId, 'CANCELLED').id)] });
  } else if (ending === 'refunded') {
    steps.push({ label: 'refund', run: () => [paypal.saleEvent('PAYMENT.SALE.REFUNDED', paypal.refundSale(lastSaleId).id)] });
  } else if (ending === 'reversed') {
    steps.push({ label: 'reverse', run: () => [paypal.saleEvent('PAYMENT.SALE.REVERSED', paypal.reverseSale(lastSaleId).id)] });
  }
  const events = (announceCreated ? 1 : 0) + 2 + (steps.length - 2);
  return { memberId, planId, ending, failures, steps, events };
}

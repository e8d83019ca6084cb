import { addInterval, approvalToken, feeFor, payerId, paypalTime, subscriptionId, transactionId } from './ids.ts';
import type { ApproveOptions, Money, PlanSpec, ShortcutSubscription, StoredSale, StoredSubscription, SubscriptionStatus } from './model.ts';

/**
 * What the stand-in remembers: plans, subscriptions and their sales. Test code
 * drives the lifecycle through these functions (the buyer approving, PayPal
 * charging or failing a renewal); the HTTP routes only read and make the
 * transitions the REST API allows.
 */

export type { ApproveOptions, Money, PlanSpec, SaleStatus, ShortcutSubscription, StoredFailedPayment, StoredSale, StoredSubscription, SubscriptionStatus } from './model.ts';

/** PayPal's sandbox plans all cost something; 9.99 USD a month is the documented example. */
const DEFAULT_PLAN: Omit<PlanSpec, 'id'> = { intervalUnit: 'MONTH', intervalCount: 1, price: '9.99', currency: 'USD' };
/** PayPal retries a failed renewal after 5 days. */
const RETRY_DAYS = 5;

interface CreateSpec {
  planId: string;
  customId: string | null;
  returnUrl: string | null;
  cancelUrl: string | null;
  /** PayPal time; absent = when the buyer approves. */
  startTime?: string;
  setupFee?: Money;
  setupFeeFailureAction?: 'CONTINUE' | 'CANCEL';
}

export function createState(o: { plans?: readonly PlanSpec[]; now: () => Date }) {
  const subs = new Map<string, StoredSubscription>();

  function planFor(planId: string): PlanSpec | undefined {
    if (o.plans) return o.plans.find((p) => p.id === planId);
    return planId.startsWith('P-') ? { id: planId, ...DEFAULT_PLAN } : undefined;
  }

  function mustPlan(planId: string): PlanSpec {
    const plan = planFor(planId);
    if (!plan) throw new Error(`PayPal stand-in: unknown plan ${planId}`);
    return plan;
  }

  function mustGet(id: string): StoredSubscription {
    const sub = subs.get(id);
    if (!sub) throw new Error(`PayPal stand-in: no subscription ${id}`);
    return sub;
  }

  function touch(sub: StoredSubscription, at = o.now()): void {
    sub.updateTime = paypalTime(at);
  }

  function setStatus(id: string, status: SubscriptionStatus, note?: string): StoredSubscription {
    const sub = mustGet(id);
    const at = o.now();
    sub.status = status;
    sub.statusUpdateTime = paypalTime(at);
    if (note !== undefined) sub.statusChangeNote = note;
    touch(sub, at);
    return sub;
  }

  function create(c: CreateSpec): StoredSubscription {
    const t = paypalTime(o.now());
    const sub: StoredSubscription = {
      id: subscriptionId(),
      planId: c.planId,
      customId: c.customId,
      status: 'APPROVAL_PENDING',
      statusUpdateTime: t,
      statusChangeNote: null,
      createTime: t,
      updateTime: t,
      startTime: c.startTime ?? t,
      requestedStartTime: c.startTime ?? null,
      setupFee: c.setupFee ?? null,
      setupFeeFailureAction: c.setupFeeFailureAction ?? 'CONTINUE',
      approvalToken: approvalToken(),
      returnUrl: c.returnUrl,
      cancelUrl: c.cancelUrl,
      subscriber: null,
      lastPayment: null,
      nextBillingTime: null,
      cyclesCompleted: 0,
      failedPaymentsCount: 0,
      lastFailedPayment: null,
      outstandingBalance: '0.0',
      pendingRevision: null,
      sales: [],
    };
    subs.set(sub.id, sub);
    return sub;
  }

  /** One completed sale of `amount`, recorded as the last payment. */
  function addSale(sub: StoredSubscription, amount: Money, at: Date): StoredSale {
    const sale: StoredSale = {
      id: transactionId(),
      subscriptionId: sub.id,
      amount: amount.value,
      currency: amount.currency,
      fee: feeFor(amount.value),
      time: paypalTime(at),
      status: 'COMPLETED',
      refunded: '0.00',
    };
    sub.sales.push(sale);
    sub.lastPayment = { amount: amount.value, currency: amount.currency, time: sale.time };
    touch(sub, at);
    return sale;
  }

  /**
   * A completed charge of the plan's price: one sale, one more cycle, the next
   * billing time one interval on. The price is the plan's at charge time, so
   * after a revision the new plan's price is charged from the next payment, as
   * PayPal does ("effective starting on the next billing cycle").
   */
  function recordPayment(id: string, at: Date = o.now()): StoredSale {
    const sub = mustGet(id);
    const plan = mustPlan(sub.planId);
    const sale = addSale(sub, { value: plan.price, currency: plan.currency }, at);
    sub.cyclesCompleted += 1;
    // PayPal bills on a fixed schedule: the next date moves on from the one
    // just billed, not from the moment a late retry succeeded.
    const scheduled = sub.nextBillingTime ? new Date(sub.nextBillingTime) : at;
    let next = addInterval(scheduled, plan.intervalUnit, plan.intervalCount);
    if (next <= at) next = addInterval(at, plan.intervalUnit, plan.intervalCount);
    sub.nextBillingTime = paypalTime(next);
    sub.failedPaymentsCount = 0;
    sub.outstandingBalance = '0.0';
    return sale;
  }

  function approve(id: string, opts?: ApproveOptions & { setupFeeFails?: false }): StoredSale;
  function approve(id: string, opts: ApproveOptions): StoredSale | null;
  /**
   * The buyer approved. PayPal charges a setup fee "immediately upon sign-up"
   * and regular payments from start_time: with a future start the first sale
   * is the fee alone and next_billing_time is the start. Without either, the
   * first regular payment is charged now.
   */
  function approve(id: string, opts: ApproveOptions = {}): StoredSale | null {
    const sub = mustGet(id);
    if (sub.status !== 'APPROVAL_PENDING') throw new Error(`PayPal stand-in: ${id} is ${sub.status}, not APPROVAL_PENDING`);
    const at = opts.at ?? o.now();
    sub.subscriber = { payerId: payerId(), email: 'buyer@example.com', givenName: 'John', surname: 'Doe' };
    const fee = sub.setupFee && Number(sub.setupFee.value) > 0 ? sub.setupFee : null;
    if (fee && opts.setupFeeFails) return failSetupFee(sub, fee, at);
    sub.status = 'ACTIVE';
    sub.statusUpdateTime = paypalTime(at);
    const start = sub.requestedStartTime ? new Date(sub.requestedStartTime) : at;
    sub.startTime = paypalTime(start);
    const feeSale = fee ? addSale(sub, fee, at) : null;
    if (start > at) {
      sub.nextBillingTime = paypalTime(start);
      touch(sub, at);
      return feeSale;
    }
    const regular = recordPayment(id, at);
    return feeSale ?? regular;
  }

  /** CANCEL: the subscription never activates; CONTINUE: it does, owing the fee. No sale either way. */
  function failSetupFee(sub: StoredSubscription, fee: Money, at: Date): null {
    sub.status = sub.setupFeeFailureAction === 'CANCEL' ? 'CANCELLED' : 'ACTIVE';
    sub.statusUpdateTime = paypalTime(at);
    if (sub.status === 'ACTIVE') {
      sub.outstandingBalance = fee.value;
      sub.nextBillingTime = paypalTime(sub.requestedStartTime ? new Date(sub.requestedStartTime) : at);
    }
    touch(sub, at);
    return null;
  }

  function failPayment(id: string): StoredSubscription {
    const sub = mustGet(id);
    const plan = mustPlan(sub.planId);
    const at = o.now();
    sub.failedPaymentsCount += 1;
    sub.outstandingBalance = plan.price;
    sub.lastFailedPayment = {
      amount: plan.price,
      currency: plan.currency,
      time: paypalTime(at),
      reasonCode: 'PAYMENT_DENIED',
      nextPaymentRetryTime: paypalTime(addInterval(at, 'DAY', RETRY_DAYS)),
    };
    touch(sub, at);
    return sub;
  }

  function requestRevision(id: string, planId: string): StoredSubscription {
    const sub = mustGet(id);
    sub.pendingRevision = { planId, approvalToken: approvalToken() };
    touch(sub);
    return sub;
  }

  function approveRevision(id: string): StoredSubscription {
    const sub = mustGet(id);
    if (!sub.pendingRevision) throw new Error(`PayPal stand-in: ${id} has no pending revision`);
    sub.planId = sub.pendingRevision.planId;
    sub.pendingRevision = null;
    touch(sub);
    return sub;
  }

  function createShortcut(s: ShortcutSubscription): StoredSubscription {
    const plan = mustPlan(s.planId);
    const sub = create({ planId: s.planId, customId: s.customId ?? null, returnUrl: null, cancelUrl: null });
    if (s.status === undefined || s.status === 'APPROVAL_PENDING') return sub;
    sub.subscriber = { payerId: payerId(), email: 'buyer@example.com', givenName: 'John', surname: 'Doe' };
    if (s.lastPaymentTime) recordPayment(sub.id, new Date(s.lastPaymentTime));
    if (s.nextBillingTime) sub.nextBillingTime = paypalTime(new Date(s.nextBillingTime));
    else if (!sub.nextBillingTime) sub.nextBillingTime = paypalTime(addInterval(o.now(), plan.intervalUnit, plan.intervalCount));
    sub.status = s.status;
    return sub;
  }

  function findByToken(token: string): { sub: StoredSubscription; revision: boolean } | undefined {
    for (const sub of subs.values()) {
      if (sub.approvalToken === token) return { sub, revision: false };
      if (sub.pendingRevision?.approvalToken === token) return { sub, revision: true };
    }
    return undefined;
  }

  function findSale(saleId: string): StoredSale | undefined {
    for (const sub of subs.values()) {
      const sale = sub.sales.find((s) => s.id === saleId);
      if (sale) return sale;
    }
    return undefined;
  }

  return {
    planFor,
    get: (id: string): StoredSubscription | undefined => subs.get(id),
    all: (): StoredSubscription[] => [...subs.values()],
    mustGet,
    create,
    createShortcut,
    approve,
    recordPayment,
    failPayment,
    setStatus,
    requestRevision,
    approveRevision,
    findByToken,
    findSale,
    clear: (): void => subs.clear(),
  };
}

export type StandInState = ReturnType<typeof createState>;

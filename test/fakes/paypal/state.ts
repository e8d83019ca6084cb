import { addInterval, approvalToken, feeFor, payerId, paypalTime, subscriptionId, transactionId, type IntervalUnit } from './ids.ts';

/**
 * What the stand-in remembers: plans, subscriptions and their sales. Test code
 * drives the lifecycle through these functions (the buyer approving, PayPal
 * charging or failing a renewal); the HTTP routes only read and make the
 * transitions the REST API allows.
 */

export type SubscriptionStatus = 'APPROVAL_PENDING' | 'APPROVED' | 'ACTIVE' | 'SUSPENDED' | 'CANCELLED' | 'EXPIRED';

export interface PlanSpec {
  id: string;
  intervalUnit: IntervalUnit;
  intervalCount: number;
  /** `"9.99"`: a string, as PayPal writes amounts. */
  price: string;
  currency: string;
  name?: string;
}

export interface StoredSale {
  id: string;
  subscriptionId: string;
  /** Gross amount, e.g. `"9.99"`. */
  amount: string;
  currency: string;
  fee: string;
  /** PayPal time, e.g. `2026-01-01T10:00:00Z`. */
  time: string;
  status: 'COMPLETED' | 'REFUNDED';
}

export interface StoredFailedPayment {
  amount: string;
  currency: string;
  time: string;
  reasonCode: 'PAYMENT_DENIED';
  nextPaymentRetryTime: string;
}

export interface StoredSubscription {
  id: string;
  planId: string;
  customId: string | null;
  status: SubscriptionStatus;
  statusUpdateTime: string;
  statusChangeNote: string | null;
  createTime: string;
  updateTime: string;
  startTime: string;
  /** The `ba_token` of the approve link. */
  approvalToken: string;
  returnUrl: string | null;
  cancelUrl: string | null;
  /** Set once the buyer approved. */
  subscriber: { payerId: string; email: string; givenName: string; surname: string } | null;
  lastPayment: { amount: string; currency: string; time: string } | null;
  nextBillingTime: string | null;
  cyclesCompleted: number;
  failedPaymentsCount: number;
  lastFailedPayment: StoredFailedPayment | null;
  outstandingBalance: string;
  /** A revision waiting for the buyer's consent (see `approveRevision`). */
  pendingRevision: { planId: string; approvalToken: string } | null;
  sales: StoredSale[];
}

export interface ShortcutSubscription {
  planId: string;
  customId?: string | null;
  status?: SubscriptionStatus;
  /** ISO time; default for an ACTIVE subscription: last payment (or now) + one interval. */
  nextBillingTime?: string;
  /** ISO time of a completed payment to record. */
  lastPaymentTime?: string;
}

/** PayPal's sandbox plans all cost something; 9.99 USD a month is the documented example. */
const DEFAULT_PLAN: Omit<PlanSpec, 'id'> = { intervalUnit: 'MONTH', intervalCount: 1, price: '9.99', currency: 'USD' };
/** PayPal retries a failed renewal after 5 days. */
const RETRY_DAYS = 5;

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

  function create(c: { planId: string; customId: string | null; returnUrl: string | null; cancelUrl: string | null }): StoredSubscription {
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
      startTime: t,
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

  /** A completed charge: one sale, one more cycle, the next billing time one interval on. */
  function recordPayment(id: string, at: Date = o.now()): StoredSale {
    const sub = mustGet(id);
    const plan = mustPlan(sub.planId);
    const sale: StoredSale = {
      id: transactionId(),
      subscriptionId: id,
      amount: plan.price,
      currency: plan.currency,
      fee: feeFor(plan.price),
      time: paypalTime(at),
      status: 'COMPLETED',
    };
    sub.sales.push(sale);
    sub.lastPayment = { amount: plan.price, currency: plan.currency, time: sale.time };
    sub.cyclesCompleted += 1;
    // PayPal bills on a fixed schedule: the next date moves on from the one
    // just billed, not from the moment a late retry succeeded.
    const scheduled = sub.nextBillingTime ? new Date(sub.nextBillingTime) : at;
    let next = addInterval(scheduled, plan.intervalUnit, plan.intervalCount);
    if (next <= at) next = addInterval(at, plan.intervalUnit, plan.intervalCount);
    sub.nextBillingTime = paypalTime(next);
    sub.failedPaymentsCount = 0;
    sub.outstandingBalance = '0.0';
    touch(sub, at);
    return sale;
  }

  function approve(id: string, opts: { at?: Date } = {}): StoredSale {
    const sub = mustGet(id);
    if (sub.status !== 'APPROVAL_PENDING') throw new Error(`PayPal stand-in: ${id} is ${sub.status}, not APPROVAL_PENDING`);
    const at = opts.at ?? o.now();
    sub.subscriber = { payerId: payerId(), email: 'buyer@example.com', givenName: 'John', surname: 'Doe' };
    sub.status = 'ACTIVE';
    sub.statusUpdateTime = paypalTime(at);
    sub.startTime = paypalTime(at);
    return recordPayment(id, at);
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

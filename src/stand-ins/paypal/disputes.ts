import { disputeId, paypalTime, transactionId } from './ids.ts';
import type { StoredSale } from './model.ts';

/**
 * The disputes PayPal holds against our sales, served by
 * GET /v1/customer/disputes/{id}. A dispute event carries the dispute id, and
 * the app reads the dispute itself to learn its stage and the disputed sale.
 */

export type DisputeStage = 'INQUIRY' | 'CHARGEBACK';

export interface StoredDispute {
  id: string;
  /** The disputed sale (`seller_transaction_id`); it may be one the stand-in never recorded. */
  saleId: string;
  /** The buyer's side of the same payment. */
  buyerTransactionId: string;
  amount: string;
  currency: string;
  /** When the disputed sale happened. */
  saleTime: string;
  stage: DisputeStage;
  /** OPEN, WAITING_FOR_SELLER_RESPONSE, UNDER_REVIEW, RESOLVED, … */
  status: string;
  reason: string;
  createTime: string;
  updateTime: string;
}

export interface OpenDisputeOptions {
  stage: DisputeStage;
  /** Default OPEN. */
  status?: string;
  /** Default MERCHANDISE_OR_SERVICE_NOT_RECEIVED. */
  reason?: string;
  /** Default a new `PP-D-…` id. */
  id?: string;
}

export function createDisputes(o: { findSale: (saleId: string) => StoredSale | undefined; now: () => Date }) {
  const disputes = new Map<string, StoredDispute>();

  function mustDispute(id: string): StoredDispute {
    const d = disputes.get(id);
    if (!d) throw new Error(`PayPal stand-in: no dispute ${id}`);
    return d;
  }

  function openDispute(saleId: string, opts: OpenDisputeOptions): StoredDispute {
    const sale = o.findSale(saleId);
    const t = paypalTime(o.now());
    const d: StoredDispute = {
      id: opts.id ?? disputeId(),
      saleId,
      buyerTransactionId: transactionId(),
      // The fallback amount matches what dispute events always showed for an unknown sale.
      amount: sale?.amount ?? '9.99',
      currency: sale?.currency ?? 'USD',
      saleTime: sale?.time ?? t,
      stage: opts.stage,
      status: opts.status ?? 'OPEN',
      reason: opts.reason ?? 'MERCHANDISE_OR_SERVICE_NOT_RECEIVED',
      createTime: t,
      updateTime: t,
    };
    disputes.set(d.id, d);
    return d;
  }

  function update(id: string, change: Partial<Pick<StoredDispute, 'stage' | 'status'>>): StoredDispute {
    const d = mustDispute(id);
    Object.assign(d, change);
    d.updateTime = paypalTime(o.now());
    return d;
  }

  return {
    openDispute,
    setDisputeStage: (id: string, stage: DisputeStage): StoredDispute => update(id, { stage }),
    setDisputeStatus: (id: string, status: string): StoredDispute => update(id, { status }),
    getDispute: (id: string): StoredDispute | undefined => disputes.get(id),
    clear: (): void => disputes.clear(),
  };
}

export type DisputeStore = ReturnType<typeof createDisputes>;

/** GET /v1/customer/disputes/{id}, the fields PayPal always returns. */
export function disputeJson(base: string, d: StoredDispute) {
  const amount = { currency_code: d.currency, value: d.amount };
  return {
    dispute_id: d.id,
    create_time: d.createTime,
    update_time: d.updateTime,
    disputed_transactions: [
      {
        seller_transaction_id: d.saleId,
        buyer_transaction_id: d.buyerTransactionId,
        create_time: d.saleTime,
        transaction_status: 'COMPLETED',
        gross_amount: amount,
        seller: { merchant_id: 'MERCHANT0TEST' },
      },
    ],
    reason: d.reason,
    status: d.status,
    dispute_amount: amount,
    dispute_life_cycle_stage: d.stage,
    dispute_channel: d.stage === 'CHARGEBACK' ? 'EXTERNAL' : 'INTERNAL',
    links: [{ href: `${base}/v1/customer/disputes/${d.id}`, rel: 'self', method: 'GET' }],
  };
}

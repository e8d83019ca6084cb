import { z } from 'zod';

/**
 * The webhook envelope and how each event type is handled (SPEC lifecycle
 * table). Pure: parsing happens only after the raw body was verified.
 */

export const envelopeSchema = z.object({
  id: z.string().min(1).max(200),
  event_type: z.string().min(1).max(200),
  resource_type: z.string().optional(),
  create_time: z.string().optional(),
  resource: z.record(z.string(), z.unknown()).default({}),
});
export type WebhookEnvelope = z.infer<typeof envelopeSchema>;

export type EventRoute =
  /** Fetch-on-notify: re-read the subscription named by resource.id. */
  | { kind: 'subscription'; subscriptionId: string }
  /** Record the sale, then re-read its subscription. */
  | { kind: 'sale-completed'; saleId: string; subscriptionId: string; amount: string; currency: string; paidAt: string | null }
  /** Refund or reversal of a sale: revoke its subscription. */
  | { kind: 'sale-reversal'; saleId: string; subscriptionId: string | null; reason: 'refunded' | 'reversed' }
  /** A dispute at chargeback stage: revoke the disputed sales' subscriptions. */
  | { kind: 'chargeback'; saleIds: string[] }
  | { kind: 'ignored'; why: string };

const saleSchema = z.object({
  id: z.string(),
  billing_agreement_id: z.string().optional(),
  amount: z.object({ total: z.string(), currency: z.string() }).optional(),
  create_time: z.string().optional(),
});
const refundSchema = z.object({ id: z.string(), sale_id: z.string().optional(), billing_agreement_id: z.string().optional() });
const disputeSchema = z.object({
  dispute_life_cycle_stage: z.string().optional(),
  disputed_transactions: z.array(z.object({ seller_transaction_id: z.string().optional() })).default([]),
});

/** Decides what an event means. A malformed resource of a known type is reported as ignored with the reason. */
export function routeEvent(e: WebhookEnvelope): EventRoute {
  const type = e.event_type;
  if (type.startsWith('BILLING.SUBSCRIPTION.')) {
    const id = e.resource['id'];
    return typeof id === 'string' && id.length > 0 ? { kind: 'subscription', subscriptionId: id } : { kind: 'ignored', why: `${type} without resource.id` };
  }
  if (type === 'PAYMENT.SALE.COMPLETED') {
    const sale = saleSchema.safeParse(e.resource);
    if (!sale.success) return { kind: 'ignored', why: 'PAYMENT.SALE.COMPLETED with a malformed sale' };
    if (sale.data.billing_agreement_id === undefined) return { kind: 'ignored', why: 'sale is not part of a subscription (no billing_agreement_id)' };
    return {
      kind: 'sale-completed',
      saleId: sale.data.id,
      subscriptionId: sale.data.billing_agreement_id,
      amount: sale.data.amount?.total ?? '0',
      currency: sale.data.amount?.currency ?? '',
      paidAt: sale.data.create_time ?? e.create_time ?? null,
    };
  }
  if (type === 'PAYMENT.SALE.REFUNDED' || type === 'PAYMENT.SALE.REVERSED') {
    const r = refundSchema.safeParse(e.resource);
    if (!r.success) return { kind: 'ignored', why: `${type} with a malformed resource` };
    // A refund names its sale in sale_id; a reversal's resource is the sale itself.
    const saleId = r.data.sale_id ?? r.data.id;
    return { kind: 'sale-reversal', saleId, subscriptionId: r.data.billing_agreement_id ?? null, reason: type === 'PAYMENT.SALE.REFUNDED' ? 'refunded' : 'reversed' };
  }
  if (type.startsWith('CUSTOMER.DISPUTE.')) {
    const d = disputeSchema.safeParse(e.resource);
    if (!d.success) return { kind: 'ignored', why: `${type} with a malformed dispute` };
    if (d.data.dispute_life_cycle_stage !== 'CHARGEBACK') return { kind: 'ignored', why: `dispute at stage ${d.data.dispute_life_cycle_stage ?? 'unknown'}, not chargeback` };
    const saleIds = d.data.disputed_transactions.flatMap((t) => (t.seller_transaction_id === undefined ? [] : [t.seller_transaction_id]));
    return saleIds.length > 0 ? { kind: 'chargeback', saleIds } : { kind: 'ignored', why: 'chargeback names no seller transaction' };
  }
  return { kind: 'ignored', why: `event type ${type} is not used by Concierge` };
}

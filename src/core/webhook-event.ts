import { z } from 'zod';
import { parseJsonBody } from './ingest-fields.ts';

/**
 * The webhook envelope and how each event type is handled (SPEC lifecycle
 * table). Pure: parsing happens only after the raw body was verified.
 */

/**
 * A valid envelope. The webhook writer thread checks the same by hand, without
 * zod (core/ingest-fields.ts readIngestFields); a change here goes there too,
 * or test/unit/envelope-agreement.test.ts fails.
 */
export const envelopeSchema = z.object({
  id: z.string().min(1).max(200),
  event_type: z.string().min(1).max(200),
  resource_type: z.string().optional(),
  create_time: z.string().optional(),
  resource: z.record(z.string(), z.unknown()).default({}),
});
export type WebhookEnvelope = z.infer<typeof envelopeSchema>;

/** The envelope of a stored raw body; null when it is not JSON or not an envelope. */
export function parseEnvelope(rawBody: string): WebhookEnvelope | null {
  const envelope = envelopeSchema.safeParse(parseJsonBody(rawBody));
  return envelope.success ? envelope.data : null;
}

/**
 * Payment and dispute events are notifications too (SPEC): the ids they name
 * only say where to look at PayPal; the amount, time and status come from
 * PayPal's answer. `sentAt` only narrows the search in the transaction list.
 */
export type EventRoute =
  /** Fetch-on-notify: re-read the subscription named by resource.id. */
  | { kind: 'subscription'; subscriptionId: string }
  /** Confirm the sale in its subscription's transactions, then record it and re-read the subscription. */
  | { kind: 'sale-completed'; saleId: string; subscriptionId: string; sentAt: string | null }
  /** Confirm a refund or reversal of a sale in its subscription's transactions, then revoke. */
  | { kind: 'sale-reversal'; saleId: string; subscriptionId: string | null; reason: 'refunded' | 'reversed'; sentAt: string | null }
  /** A dispute said to be at chargeback stage: read the dispute, then revoke the disputed sales' subscriptions. */
  | { kind: 'chargeback'; disputeId: string }
  | { kind: 'ignored'; why: string };

const saleSchema = z.object({
  id: z.string(),
  billing_agreement_id: z.string().optional(),
  amount: z.object({ total: z.string(), currency: z.string() }).optional(),
  create_time: z.string().optional(),
});
const refundSchema = z.object({ id: z.string(), sale_id: z.string().optional(), billing_agreement_id: z.string().optional(), create_time: z.string().optional() });
const disputeSchema = z.object({
  dispute_id: z.string().min(1).max(100).optional(),
  dispute_life_cycle_stage: z.string().optional(),
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
    return { kind: 'sale-completed', saleId: sale.data.id, subscriptionId: sale.data.billing_agreement_id, sentAt: sale.data.create_time ?? e.create_time ?? null };
  }
  if (type === 'PAYMENT.SALE.REFUNDED' || type === 'PAYMENT.SALE.REVERSED') {
    const r = refundSchema.safeParse(e.resource);
    if (!r.success) return { kind: 'ignored', why: `${type} with a malformed resource` };
    // A refund names its sale in sale_id; a reversal's resource is the sale itself.
    const saleId = r.data.sale_id ?? r.data.id;
    return {
      kind: 'sale-reversal',
      saleId,
      subscriptionId: r.data.billing_agreement_id ?? null,
      reason: type === 'PAYMENT.SALE.REFUNDED' ? 'refunded' : 'reversed',
      sentAt: r.data.create_time ?? e.create_time ?? null,
    };
  }
  if (type.startsWith('CUSTOMER.DISPUTE.')) {
    const d = disputeSchema.safeParse(e.resource);
    if (!d.success) return { kind: 'ignored', why: `${type} with a malformed dispute` };
    if (d.data.dispute_life_cycle_stage !== 'CHARGEBACK') return { kind: 'ignored', why: `dispute at stage ${d.data.dispute_life_cycle_stage ?? 'unknown'}, not chargeback` };
    return d.data.dispute_id !== undefined ? { kind: 'chargeback', disputeId: d.data.dispute_id } : { kind: 'ignored', why: 'chargeback without dispute_id' };
  }
  return { kind: 'ignored', why: `event type ${type} is not used by Concierge` };
}

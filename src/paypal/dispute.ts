import { z } from 'zod';
import { parsePaypalBody } from './parse-body.ts';

/** What Concierge needs of a PayPal dispute: which sales it is about, and how far it went. */
export interface PaypalDispute {
  id: string;
  /** INQUIRY, CHARGEBACK, PRE_ARBITRATION, ARBITRATION; null when PayPal leaves it out. */
  stage: string | null;
  /** OPEN, WAITING_FOR_SELLER_RESPONSE, UNDER_REVIEW, RESOLVED, … */
  status: string | null;
  /** Our sale ids (`seller_transaction_id`), the link back to a subscription. */
  saleIds: string[];
  /** PayPal's create_time: when the dispute was opened, the time a chargeback counts from; null when absent. */
  createTime: string | null;
}

/** Loose: PayPal adds fields to disputes over time, and we read only these. */
const DisputeBody = z.looseObject({
  dispute_id: z.string().min(1),
  create_time: z.string().optional(),
  status: z.string().optional(),
  dispute_life_cycle_stage: z.string().optional(),
  disputed_transactions: z.array(z.looseObject({ seller_transaction_id: z.string().optional() })).optional(),
});

/** The SDK 2.5 has no disputes controller, so the body is parsed here. */
export function parseDispute(text: string, path: string): PaypalDispute {
  const d = parsePaypalBody(text, path, DisputeBody, 'a dispute');
  return {
    id: d.dispute_id,
    stage: d.dispute_life_cycle_stage ?? null,
    status: d.status ?? null,
    saleIds: (d.disputed_transactions ?? []).flatMap((t) => (t.seller_transaction_id ? [t.seller_transaction_id] : [])),
    createTime: d.create_time ?? null,
  };
}

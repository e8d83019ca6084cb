import { z } from 'zod';
import { parsePaypalBody } from './parse-body.ts';

/** What Concierge needs of a sale (GET /v1/payments/sale/{id}): the subscription it paid. */
export interface PaypalSale {
  id: string;
  /** `billing_agreement_id`: the subscription a recurring payment belongs to; null for a sale outside any subscription. */
  subscriptionId: string | null;
}

/** Loose: the v1 sale carries amounts, fees and links Concierge does not read here. */
const SaleBody = z.looseObject({
  id: z.string().min(1),
  billing_agreement_id: z.string().min(1).optional(),
});

/**
 * The SDK 2.5 has v2 captures only, not the v1 sales that subscriptions
 * make, so the body is parsed here. Disputes and refunds name a sale and
 * nothing else; this read is how such a sale is placed in its subscription.
 */
export function parseSale(text: string, path: string): PaypalSale {
  const s = parsePaypalBody(text, path, SaleBody, 'a sale');
  return { id: s.id, subscriptionId: s.billing_agreement_id ?? null };
}

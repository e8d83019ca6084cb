import { z } from 'zod';
import { ConciergeError } from '../errors.ts';

/** A webhook registered in the PayPal app (GET /v1/notifications/webhooks): where PayPal delivers, and what. */
export interface PaypalWebhook {
  id: string;
  url: string;
  /** Event type names; `*` means every type. */
  eventTypes: string[];
}

/** Loose: PayPal adds fields over time, and `concierge doctor` reads only these. */
const WebhookList = z.looseObject({
  webhooks: z
    .array(
      z.looseObject({
        id: z.string().min(1),
        url: z.string(),
        event_types: z.array(z.looseObject({ name: z.string() })).default([]),
      }),
    )
    .default([]),
});

/** The SDK 2.5 has no webhooks controller, so the list is parsed here. */
export function parseWebhookList(text: string, path: string): PaypalWebhook[] {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined; // reported below with the schema failure
  }
  const parsed = WebhookList.safeParse(json);
  if (!parsed.success) {
    throw new ConciergeError('paypal_invalid_response', `PayPal GET ${path} → 200, not a webhook list: ${text.slice(0, 200)}`, { retry: false, context: { method: 'GET', path } });
  }
  return parsed.data.webhooks.map((w) => ({ id: w.id, url: w.url, eventTypes: w.event_types.map((t) => t.name) }));
}

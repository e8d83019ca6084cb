import { z } from 'zod';
import { parsePaypalBody } from './parse-body.ts';

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
  return parsePaypalBody(text, path, WebhookList, 'a webhook list').webhooks.map((w) => ({ id: w.id, url: w.url, eventTypes: w.event_types.map((t) => t.name) }));
}

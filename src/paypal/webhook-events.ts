import { z } from 'zod';
import { ConciergeError } from '../errors.ts';
import { parsePaypalBody } from './parse-body.ts';

/**
 * PayPal's event list (`GET /v1/notifications/webhooks-events`), which the
 * SDK 2.5 has no controller for: the body is parsed here, loosely (PayPal
 * adds fields over time), keeping each event whole: it is what a webhook
 * delivery of it would have carried.
 */

export const WEBHOOK_EVENTS_PATH = '/v1/notifications/webhooks-events';

export interface ListedEvent {
  id: string;
  eventType: string;
  /** PayPal's create_time (ms), null when absent or unreadable. */
  createdAt: number | null;
  /** The event as listed. */
  body: Record<string, unknown>;
}

export interface WebhookEventPage {
  events: ListedEvent[];
  /** The next page's path and query (from the `next` link), null on the last page. */
  next: string | null;
}

const EventBody = z.looseObject({ id: z.string().min(1).max(200), event_type: z.string().min(1).max(200), create_time: z.string().optional() });
const ListBody = z.looseObject({
  events: z.array(z.unknown()).default([]),
  links: z.array(z.looseObject({ href: z.string(), rel: z.string() })).default([]),
});

export function parseWebhookEventPage(text: string, path: string): WebhookEventPage {
  const list = parsePaypalBody(text, path, ListBody, 'an event list');
  const events = list.events.flatMap((raw): ListedEvent[] => {
    // An entry that is not an event envelope could never be stored or processed: it is skipped, as the webhook route refuses it.
    const e = EventBody.safeParse(raw);
    if (!e.success) return [];
    const at = e.data.create_time === undefined ? Number.NaN : Date.parse(e.data.create_time);
    return [{ id: e.data.id, eventType: e.data.event_type, createdAt: Number.isNaN(at) ? null : at, body: e.data }];
  });
  return { events, next: nextPath(list.links, path) };
}

/**
 * The `next` link as a path and query on the events route. A link anywhere
 * else is refused, not followed (the client sends its token with every
 * request) and not ignored (the pages after it would be skipped for good).
 */
function nextPath(links: readonly { href: string; rel: string }[], path: string): string | null {
  const href = links.find((l) => l.rel.toLowerCase() === 'next')?.href;
  if (href === undefined) return null;
  const url = URL.canParse(href, 'https://api-m.paypal.com') ? new URL(href, 'https://api-m.paypal.com') : null;
  if (url === null || url.pathname !== WEBHOOK_EVENTS_PATH) {
    throw new ConciergeError('paypal_invalid_response', `PayPal GET ${path} → 200 with a next link off the events route: ${href.slice(0, 200)}`, { retry: false, context: { method: 'GET', path } });
  }
  return `${url.pathname}${url.search}`;
}

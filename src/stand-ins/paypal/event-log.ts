import type { WebhookEvent } from './events.ts';
import type { ParsedRequest, Reply } from './routes.ts';
import { invalidRequestJson, notFoundJson } from './shapes.ts';

/**
 * The webhook events PayPal sent, as its events API lists them
 * (`GET /v1/notifications/webhooks-events`, newest first, paged by `next`
 * links) and shows them (`GET …/webhooks-events/{id}`). An event is
 * remembered when it is delivered or signed for delivery, or sent and lost
 * on the way (`loseEvent`): what reconciliation's backfill must find.
 */

/** PayPal's default page size; the largest it accepts is not documented, 300 is assumed. */
const DEFAULT_PAGE_SIZE = 10;
const MAX_PAGE_SIZE = 300;
const LIST_PATH = '/v1/notifications/webhooks-events';
const EVENT_PATH = /^\/v1\/notifications\/webhooks-events\/([^/]+)$/;

export function createEventLog(o: { base: string }) {
  const sent = new Map<string, WebhookEvent<unknown>>();

  const badQuery = (field: string, description: string): Reply => ({ status: 400, json: invalidRequestJson(field, 'INVALID_PARAMETER_SYNTAX', description) });

  function list(query: URLSearchParams): Reply {
    const start = query.has('start_time') ? Date.parse(query.get('start_time') ?? '') : Number.NEGATIVE_INFINITY;
    const end = query.has('end_time') ? Date.parse(query.get('end_time') ?? '') : Number.POSITIVE_INFINITY;
    if (Number.isNaN(start) || Number.isNaN(end)) return badQuery('start_time', 'start_time and end_time must be RFC 3339 times.');
    const size = Number(query.get('page_size') ?? DEFAULT_PAGE_SIZE);
    if (!Number.isInteger(size) || size < 1 || size > MAX_PAGE_SIZE) return badQuery('page_size', `page_size must be 1 to ${MAX_PAGE_SIZE}.`);
    const page = Number(query.get('page') ?? 1);
    if (!Number.isInteger(page) || page < 1) return badQuery('page', 'page must be a positive integer.');
    const inWindow = [...sent.values()]
      .filter((e) => {
        const at = Date.parse(e.create_time);
        return at >= start && at <= end;
      })
      .sort((a, b) => Date.parse(b.create_time) - Date.parse(a.create_time));
    const events = inWindow.slice((page - 1) * size, page * size);
    const link = (p: number) => {
      const q = new URLSearchParams(query);
      q.set('page', String(p));
      return `${o.base}${LIST_PATH}?${q.toString()}`;
    };
    const links = [{ href: link(page), rel: 'self', method: 'GET' }];
    if (page * size < inWindow.length) links.push({ href: link(page + 1), rel: 'next', method: 'GET' });
    return { status: 200, json: { events, count: events.length, links } };
  }

  return {
    remember(event: WebhookEvent<unknown>): void {
      sent.set(event.id, event);
    },
    all: (): WebhookEvent<unknown>[] => [...sent.values()],
    /** The events routes, or undefined for any other request. */
    handle(req: ParsedRequest): Reply | undefined {
      if (req.method !== 'GET') return undefined;
      if (req.path === LIST_PATH) return list(req.query);
      const m = EVENT_PATH.exec(req.path);
      if (!m) return undefined;
      const id = decodeURIComponent(m[1] ?? '');
      const event = sent.get(id);
      return event ? { status: 200, json: event } : { status: 404, json: notFoundJson(id) };
    },
    clear: (): void => sent.clear(),
  };
}

/**
 * The webhooks registered in the stand-in's PayPal app (developer dashboard →
 * Apps & Credentials → Webhooks), listed by GET /v1/notifications/webhooks.
 */

export interface WebhookSpec {
  id: string;
  /** Where PayPal would deliver. */
  url: string;
  /** Event type names; `['*']` subscribes to every type, as PayPal's dashboard allows. */
  eventTypes: readonly string[];
}

export interface WebhookRegistry {
  add(spec: WebhookSpec): void;
  remove(id: string): void;
  /** PayPal's list body. */
  listJson(base: string): unknown;
  clear(): void;
}

export function createWebhookRegistry(initial: readonly WebhookSpec[] = []): WebhookRegistry {
  const hooks = new Map<string, WebhookSpec>(initial.map((w) => [w.id, w]));
  return {
    add: (spec) => void hooks.set(spec.id, spec),
    remove: (id) => void hooks.delete(id),
    listJson: (base) => ({
      webhooks: [...hooks.values()].map((w) => ({
        id: w.id,
        url: w.url,
        event_types: w.eventTypes.map((name) => ({ name, description: name === '*' ? 'ALL' : `${name} event` })),
        links: [
          { href: `${base}/v1/notifications/webhooks/${w.id}`, rel: 'self', method: 'GET' },
          { href: `${base}/v1/notifications/webhooks/${w.id}`, rel: 'update', method: 'PATCH' },
          { href: `${base}/v1/notifications/webhooks/${w.id}`, rel: 'delete', method: 'DELETE' },
        ],
      })),
    }),
    clear: () => hooks.clear(),
  };
}

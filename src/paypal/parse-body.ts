import type { z } from 'zod';
import { ConciergeError } from '../errors.ts';

/**
 * A 200 body of a PayPal call the SDK 2.5 has no controller for (disputes,
 * webhooks), parsed with our own schema. A body that is not what we read is
 * permanent: asking again returns the same.
 */
export function parsePaypalBody<S extends z.ZodType>(text: string, path: string, schema: S, what: string): z.output<S> {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined; // reported below with the schema failure
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) {
    throw new ConciergeError('paypal_invalid_response', `PayPal GET ${path} → 200, not ${what}: ${text.slice(0, 200)}`, { retry: false, context: { method: 'GET', path } });
  }
  return parsed.data;
}

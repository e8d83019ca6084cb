import type { z } from 'zod';
import { ConciergeError } from '../errors.ts';

/**
 * A 200 body the SDK has no model for (disputes, the event list), read with
 * our schema. Anything else is a permanent failure naming the exchange: a
 * retry would get the same answer.
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

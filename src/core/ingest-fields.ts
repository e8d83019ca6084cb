/**
 * What the inbox stores of an event besides its raw body. Pure, and free of
 * zod on purpose: it runs in the webhook writer thread, which loads only what
 * it needs (zod alone was 700 KB of its bundle); the processing job parses
 * the whole envelope with core/webhook-event.ts envelopeSchema. The two
 * definitions accept exactly the same bodies (a property test,
 * test/unit/envelope-agreement.test.ts, holds them to it), so every stored
 * event parses when it is processed.
 */
export interface IngestFields {
  id: string;
  eventType: string;
  /** The subscription or sale the event names, for search (null when absent or not a string). */
  resourceId: string | null;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isName = (v: unknown): v is string => typeof v === 'string' && v.length >= 1 && v.length <= 200;
const isOptionalString = (v: unknown): boolean => v === undefined || typeof v === 'string';

/** A body as JSON; null when it is not JSON (the writer and the processing job read bodies the same way). */
export function parseJsonBody(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

/**
 * Reads the inbox fields from a VERIFIED raw body; null when it is not JSON
 * or not a PayPal event envelope (an object with a non-empty `id` and
 * `event_type` of at most 200 characters, `resource_type` and `create_time`,
 * when present, strings, and `resource`, when present, an object). The caller answers 400: a 5xx would make PayPal retry a body that
 * can never be stored.
 */
export function readIngestFields(text: string): IngestFields | null {
  const json = parseJsonBody(text);
  if (!isObject(json) || !isName(json['id']) || !isName(json['event_type'])) return null;
  if (!isOptionalString(json['resource_type']) || !isOptionalString(json['create_time'])) return null;
  const resource = json['resource'];
  if (resource !== undefined && !isObject(resource)) return null;
  const resourceId = resource?.['id'];
  return { id: json['id'], eventType: json['event_type'], resourceId: typeof resourceId === 'string' ? resourceId : null };
}

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { readIngestFields } from '../../src/core/ingest-fields.ts';
import { parseEnvelope } from '../../src/core/webhook-event.ts';

/**
 * One definition of a valid envelope, written twice: the webhook writer
 * thread checks it by hand (no zod in that thread), the processing job parses
 * it with zod. Whatever the writer stores must parse when processed, and what
 * it refuses must be what processing would refuse, so the two must agree on
 * every body, and on the fields the inbox stores.
 */

/** Values near every edge the two definitions draw: empty, 200 characters, other JSON types. */
const value = fc.oneof(
  fc.string({ maxLength: 4 }),
  fc.constant(''),
  fc.string({ minLength: 199, maxLength: 201 }),
  fc.string({ maxLength: 3, unit: 'binary' }),
  fc.integer(),
  fc.boolean(),
  fc.constant(null),
  fc.array(fc.jsonValue({ maxDepth: 1 }), { maxLength: 2 }),
  fc.dictionary(fc.string({ maxLength: 3 }), fc.jsonValue({ maxDepth: 1 }), { maxKeys: 2 }),
);
const resource = fc.oneof(value, fc.dictionary(fc.constantFrom('id', 'status', '__proto__'), value, { maxKeys: 3 }));
const envelope = fc.record({ id: value, event_type: value, resource_type: value, create_time: value, summary: value, resource }, { requiredKeys: [] });
const body = fc.oneof(
  envelope.map((e) => JSON.stringify(e)),
  fc.json(),
  fc.string(),
);

describe('the writer’s envelope check and the processing schema', () => {
  it('accept the same bodies and read the same fields', () => {
    fc.assert(
      fc.property(body, (text) => {
        const fields = readIngestFields(text);
        const parsed = parseEnvelope(text);
        expect(fields !== null).toBe(parsed !== null);
        if (fields === null || parsed === null) return;
        const resourceId = parsed.resource['id'];
        expect(fields).toEqual({ id: parsed.id, eventType: parsed.event_type, resourceId: typeof resourceId === 'string' ? resourceId : null });
      }),
      { numRuns: 5000 },
    );
  });

  it.each([
    ['a numeric create_time', { id: 'WH-1', event_type: 'X', create_time: 5 }],
    ['an object resource_type', { id: 'WH-1', event_type: 'X', resource_type: {} }],
    ['a null resource', { id: 'WH-1', event_type: 'X', resource: null }],
  ])('both refuse %s', (_name, e) => {
    expect(readIngestFields(JSON.stringify(e))).toBeNull();
    expect(parseEnvelope(JSON.stringify(e))).toBeNull();
  });
});

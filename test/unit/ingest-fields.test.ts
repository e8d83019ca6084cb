import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { readIngestFields } from '../../src/core/ingest-fields.ts';

describe('readIngestFields', () => {
  it('reads id, type and resource id of an event envelope', () => {
    const body = JSON.stringify({ id: 'WH-1', event_type: 'BILLING.SUBSCRIPTION.ACTIVATED', resource: { id: 'I-1', status: 'ACTIVE' }, summary: 'x' });
    expect(readIngestFields(body)).toEqual({ id: 'WH-1', eventType: 'BILLING.SUBSCRIPTION.ACTIVATED', resourceId: 'I-1' });
  });

  it.each([
    ['no resource', { id: 'WH-1', event_type: 'X' }],
    ['a resource without id', { id: 'WH-1', event_type: 'X', resource: {} }],
    ['a numeric resource id', { id: 'WH-1', event_type: 'X', resource: { id: 7 } }],
  ])('stores %s with a null resource id', (_name, envelope) => {
    expect(readIngestFields(JSON.stringify(envelope))).toEqual({ id: 'WH-1', eventType: 'X', resourceId: null });
  });

  it.each([
    ['not JSON', '{"id":'],
    ['a JSON array', '[1,2]'],
    ['JSON null', 'null'],
    ['a missing id', JSON.stringify({ event_type: 'X' })],
    ['an empty id', JSON.stringify({ id: '', event_type: 'X' })],
    ['a numeric id', JSON.stringify({ id: 5, event_type: 'X' })],
    ['an id over 200 characters', JSON.stringify({ id: 'W'.repeat(201), event_type: 'X' })],
    ['a missing event_type', JSON.stringify({ id: 'WH-1' })],
    ['an event_type over 200 characters', JSON.stringify({ id: 'WH-1', event_type: 'X'.repeat(201) })],
    ['a resource that is a string', JSON.stringify({ id: 'WH-1', event_type: 'X', resource: 'I-1' })],
    ['a resource that is an array', JSON.stringify({ id: 'WH-1', event_type: 'X', resource: ['I-1'] })],
  ])('refuses %s', (_name, body) => {
    expect(readIngestFields(body)).toBeNull();
  });

  it('never throws, whatever the bytes', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.json()), (text) => {
        const r = readIngestFields(text);
        if (r !== null) expect(typeof r.id === 'string' && typeof r.eventType === 'string').toBe(true);
      }),
    );
  });
});

import { describe, expect, it } from 'vitest';
import { findManualEdit } from '../../src/core/manual-role-edit.ts';

const managed = new Set(['gold', 'silver']);
const none = () => false;

describe('findManualEdit', () => {
  it.each([
    { name: 'paid role removed', before: ['gold', 'art'], after: ['art'], desired: ['gold'], expected: { added: [], removed: ['gold'] } },
    { name: 'managed role given to someone not entitled', before: ['art'], after: ['art', 'silver'], desired: [], expected: { added: ['silver'], removed: [] } },
    { name: 'unmanaged role changes are ignored', before: ['gold'], after: ['gold', 'art'], desired: ['gold'], expected: null },
    { name: 'a change towards the entitlement is not an edit', before: [], after: ['gold'], desired: ['gold'], expected: null },
    { name: 'removing a role they should not hold is not an edit', before: ['silver'], after: [], desired: [], expected: null },
    { name: 'unknown before: judged on the result', before: null, after: ['silver'], desired: ['gold'], expected: { added: ['silver'], removed: ['gold'] } },
    { name: 'unknown before, result right', before: null, after: ['gold', 'art'], desired: ['gold'], expected: null },
  ])('$name', ({ before, after, desired, expected }) => {
    expect(findManualEdit({ before, after }, new Set(desired), managed, none)).toEqual(expected);
  });

  it("ignores Concierge's own changes", () => {
    expect(findManualEdit({ before: ['gold'], after: ['silver'] }, new Set(['gold']), managed, () => true)).toBeNull();
    expect(findManualEdit({ before: ['gold'], after: ['silver'] }, new Set(['gold']), managed, (r) => r === 'silver')).toEqual({ added: [], removed: ['gold'] });
  });
});

import { describe, expect, it } from 'vitest';
import { nextDailyAt } from '../../src/app/schedules.ts';
import { findMissingEventTypes, REQUIRED_EVENT_TYPES } from '../../src/core/webhook-subscription.ts';

describe('nextDailyAt', () => {
  it.each([
    { now: '2024-03-15T01:00:00.000Z', hour: 3, want: '2024-03-15T03:00:00.000Z' },
    { now: '2024-03-15T02:59:59.999Z', hour: 3, want: '2024-03-15T03:00:00.000Z' },
    { now: '2024-03-15T03:00:00.000Z', hour: 3, want: '2024-03-16T03:00:00.000Z' },
    { now: '2024-03-15T23:30:00.000Z', hour: 4, want: '2024-03-16T04:00:00.000Z' },
    { now: '2024-12-31T05:00:00.000Z', hour: 4, want: '2025-01-01T04:00:00.000Z' },
  ])('after $now at $hour:00 UTC → $want', ({ now, hour, want }) => {
    expect(new Date(nextDailyAt(Date.parse(now), hour)).toISOString()).toBe(want);
  });
});

describe('findMissingEventTypes', () => {
  it.each<{ name: string; subscribed: string[]; want: string[] }>([
    { name: 'all of them', subscribed: [...REQUIRED_EVENT_TYPES, 'CHECKOUT.ORDER.APPROVED'], want: [] },
    { name: 'the wildcard', subscribed: ['*'], want: [] },
    { name: 'none', subscribed: [], want: [...REQUIRED_EVENT_TYPES] },
    { name: 'all but refunds and disputes', subscribed: REQUIRED_EVENT_TYPES.filter((t) => !/REFUNDED|DISPUTE/.test(t)), want: ['PAYMENT.SALE.REFUNDED', 'CUSTOMER.DISPUTE.CREATED', 'CUSTOMER.DISPUTE.UPDATED'] },
  ])('$name', ({ subscribed, want }) => {
    expect(findMissingEventTypes(subscribed)).toEqual(want);
  });
});

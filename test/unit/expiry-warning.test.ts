import { describe, expect, it } from 'vitest';
import { decideExpiryWarning, EXPIRY_WARNING_LEAD_MS, expiryScanWindow, type EndingAccess, type ExpiryDecision } from '../../src/core/expiry-warning.ts';
import { DAY_MS } from '../../src/core/time.ts';

/** The expiry warning: which ends a scan covers, and which of them are warned. */

const NOW = Date.parse('2024-03-15T12:00:00Z');
const HOUR = 3_600_000;

/** Whether an access ending at `until` falls in the window (after, upTo]. */
const covered = (w: { after: number; upTo: number }, until: number) => until > w.after && until <= w.upTo;

describe('expiryScanWindow', () => {
  it.each<{ name: string; since: number; until: number; want: boolean }>([
    { name: 'warning time passed since the last scan', since: NOW - HOUR, until: NOW + EXPIRY_WARNING_LEAD_MS - 1, want: true },
    { name: 'warning time exactly now', since: NOW - HOUR, until: NOW + EXPIRY_WARNING_LEAD_MS, want: true },
    { name: 'warning time still ahead', since: NOW - HOUR, until: NOW + EXPIRY_WARNING_LEAD_MS + 1, want: false },
    { name: 'warning time before the last scan (covered then, or the access ended late in its term)', since: NOW - HOUR, until: NOW + 2 * DAY_MS, want: false },
    { name: 'after downtime: the whole gap is covered', since: NOW - 2 * DAY_MS, until: NOW + 2 * DAY_MS, want: true },
    { name: 'after downtime: an access that has ended meanwhile is not', since: NOW - 5 * DAY_MS, until: NOW - HOUR, want: false },
    { name: 'ending right now is over', since: NOW - 5 * DAY_MS, until: NOW, want: false },
  ])('$name → $want', ({ since, until, want }) => {
    expect(covered(expiryScanWindow(since, NOW), until)).toBe(want);
  });
});

describe('decideExpiryWarning', () => {
  const ending = (over: Partial<EndingAccess>): EndingAccess => ({ memberId: '300000000000000001', tierKey: 'elite', until: NOW + 2 * DAY_MS, source: 'grant:7', subscriptionState: null, ...over });
  it.each<{ name: string; a: EndingAccess; want: ExpiryDecision }>([
    { name: 'a timed grant', a: ending({}), want: { warn: true, dedupeKey: `expiry_warning:grant:7:${NOW + 2 * DAY_MS}` } },
    { name: 'a cancelled subscription', a: ending({ source: 'subscription:I-1', subscriptionState: 'cancelled' }), want: { warn: true, dedupeKey: `expiry_warning:subscription:I-1:${NOW + 2 * DAY_MS}` } },
    { name: 'an active subscription (a downgrade at paid-through)', a: ending({ source: 'subscription:I-1', subscriptionState: 'active' }), want: { warn: false, why: 'source subscription:I-1 renews (active)' } },
    { name: 'a past-due subscription (PayPal retries)', a: ending({ source: 'subscription:I-1', subscriptionState: 'past_due' }), want: { warn: false, why: 'source subscription:I-1 renews (past_due)' } },
    { name: 'a subscription the store lost', a: ending({ source: 'subscription:I-1', subscriptionState: null }), want: { warn: false, why: 'source subscription:I-1 renews (unknown state)' } },
    { name: 'no source', a: ending({ source: null }), want: { warn: false, why: 'no source' } },
  ])('$name', ({ a, want }) => {
    expect(decideExpiryWarning(a)).toEqual(want);
  });

  it('a new end time is a new warning: the key names source and end', () => {
    const first = decideExpiryWarning(ending({}));
    const extended = decideExpiryWarning(ending({ until: NOW + 9 * DAY_MS }));
    expect(first.warn && extended.warn && first.dedupeKey !== extended.dedupeKey).toBe(true);
  });
});

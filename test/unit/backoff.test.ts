import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BACKOFF_BASE_MS, BACKOFF_CAP_MS, computeBackoffCeilingMs, computeBackoffMs } from '../../src/jobs/backoff.ts';

describe('backoff', () => {
  it.each([
    [1, 1_000],
    [2, 2_000],
    [3, 4_000],
    [10, 512_000],
    [11, BACKOFF_CAP_MS],
    [50, BACKOFF_CAP_MS],
    [5_000, BACKOFF_CAP_MS],
  ])('ceiling after attempt %i is %i ms', (attempt, ceiling) => {
    expect(computeBackoffCeilingMs(attempt)).toBe(ceiling);
  });

  it('treats nonsense attempts as the first', () => {
    expect(computeBackoffCeilingMs(0)).toBe(BACKOFF_BASE_MS);
    expect(computeBackoffCeilingMs(-3)).toBe(BACKOFF_BASE_MS);
    expect(computeBackoffCeilingMs(Number.NaN)).toBe(BACKOFF_BASE_MS);
  });

  it('ceiling is non-decreasing and never above the cap', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 10_000 }), fc.integer({ min: 0, max: 100 }), (a, step) => {
        const lo = computeBackoffCeilingMs(a);
        const hi = computeBackoffCeilingMs(a + step);
        expect(hi).toBeGreaterThanOrEqual(lo);
        expect(hi).toBeLessThanOrEqual(BACKOFF_CAP_MS);
      }),
    );
  });

  it('delay lies within [ceiling/2, ceiling] for any random draw', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 10_000 }), fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), (a, r) => {
        const d = computeBackoffMs(a, r);
        const ceiling = computeBackoffCeilingMs(a);
        expect(d).toBeGreaterThanOrEqual(Math.floor(ceiling / 2));
        expect(d).toBeLessThanOrEqual(ceiling);
        expect(d).toBeLessThanOrEqual(BACKOFF_CAP_MS);
        expect(Number.isInteger(d)).toBe(true);
      }),
    );
  });

  it('with the same draw, a later attempt never waits less', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 60 }), fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), (a, r) => {
        expect(computeBackoffMs(a + 1, r)).toBeGreaterThanOrEqual(computeBackoffMs(a, r));
      }),
    );
  });

  it('clamps out-of-range draws', () => {
    expect(computeBackoffMs(1, -1)).toBe(500);
    expect(computeBackoffMs(1, 2)).toBe(1_000);
    expect(computeBackoffMs(1, Number.NaN)).toBe(500);
  });
});

import { describe, expect, it } from 'vitest';
import { createIngestPriority } from '../../src/jobs/backpressure.ts';

/**
 * Back-pressure's decision (src/jobs/backpressure.ts), on an injected clock:
 * pacing starts with the arrival that makes minRatePerSec within windowMs,
 * holds for holdMs after the last such arrival, and never starts below it.
 * Defaults: 200/s judged over 50 ms (10 arrivals), 200 ms pacing, 1 s hold.
 */

/** Arrivals at the given times (ms); returns the throttle seen at each `probe` time after them. */
function run(arrivals: readonly number[], probes: readonly number[], o: Parameters<typeof createIngestPriority>[0] = {}): number[] {
  let t = 0;
  const p = createIngestPriority({ ...o, now: () => t });
  for (const at of arrivals) {
    t = at;
    p.noteArrival();
  }
  return probes.map((at) => {
    t = at;
    return p.throttleMs();
  });
}

/** `count` arrivals every `gapMs`, starting at `from`. */
const every = (count: number, gapMs: number, from = 0): number[] => Array.from({ length: count }, (_, i) => from + i * gapMs);

describe('createIngestPriority', () => {
  it.each([
    { name: 'no arrivals: never paced', arrivals: [], probes: [0, 10_000], want: [0, 0] },
    { name: '9 arrivals within 50 ms (below 200/s): not paced', arrivals: every(9, 5), probes: [40, 41], want: [0, 0] },
    { name: 'the 10th arrival within 50 ms starts the pacing at once', arrivals: every(10, 5), probes: [45], want: [200] },
    { name: '10 arrivals spanning exactly 50 ms count as the rate', arrivals: every(10, 50 / 9), probes: [50], want: [200] },
    { name: '10 arrivals spanning 51 ms do not', arrivals: every(10, 51 / 9), probes: [51], want: [0] },
    { name: 'a steady 100/s for 10 s: never paced', arrivals: every(1000, 10), probes: [9_990, 9_991], want: [0, 0] },
    { name: 'paced until 1 s after the last burst-rate arrival, not after', arrivals: every(10, 5), probes: [1_045, 1_046], want: [200, 0] },
    {
      name: 'slow arrivals after a burst do not extend the hold',
      arrivals: [...every(10, 5), 500, 900, 1_040],
      probes: [1_045, 1_046],
      want: [200, 0],
    },
    { name: 'a second burst renews the hold', arrivals: [...every(10, 5), ...every(10, 5, 800)], probes: [1_500, 1_845, 1_846], want: [200, 200, 0] },
  ])('$name', ({ arrivals, probes, want }) => {
    expect(run(arrivals, probes)).toEqual(want);
  });

  it('takes its thresholds from the options', () => {
    const o = { minRatePerSec: 1000, windowMs: 10, throttleMs: 50, holdMs: 100 }; // 10 arrivals within 10 ms
    expect(run(every(10, 1), [9, 109, 110], o)).toEqual([50, 50, 0]);
    expect(run(every(10, 1.2), [11], o)).toEqual([0]);
  });
});

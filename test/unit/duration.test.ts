import { describe, expect, it } from 'vitest';
import { addDuration, describeDuration, durationEnd, parseDuration, type Duration } from '../../src/core/duration.ts';

const T = Date.parse('2024-01-31T10:30:00Z');

describe('parseDuration', () => {
  it.each([
    ['7d', { kind: 'timed', count: 7, unit: 'd' }],
    ['12h', { kind: 'timed', count: 12, unit: 'h' }],
    ['1mo', { kind: 'timed', count: 1, unit: 'mo' }],
    ['2w', { kind: 'timed', count: 2, unit: 'w' }],
    ['1y', { kind: 'timed', count: 1, unit: 'y' }],
    ['10y', { kind: 'timed', count: 10, unit: 'y' }],
    ['120mo', { kind: 'timed', count: 120, unit: 'mo' }],
    ['3650d', { kind: 'timed', count: 3650, unit: 'd' }],
    [' 7 D ', { kind: 'timed', count: 7, unit: 'd' }],
    ['lifetime', { kind: 'lifetime' }],
    ['LIFETIME', { kind: 'lifetime' }],
  ] as const)('%j → %j', (input, duration) => {
    expect(parseDuration(input)).toEqual({ ok: true, duration });
  });

  it.each([
    ['', /is not a duration/],
    ['7', /is not a duration/],
    ['d', /is not a duration/],
    ['7days', /is not a duration/],
    ['1.5d', /is not a duration/],
    ['-3d', /is not a duration/],
    ['7m', /is not a duration/],
    ['forever', /is not a duration/],
    ['0d', /at least 1 day/],
    ['0h', /at least 1 hour/],
    ['3651d', /longer than 10 years.*lifetime/],
    ['11y', /longer than 10 years/],
    ['99999h', /longer than 10 years/],
  ])('%j is refused: %s', (input, message) => {
    const r = parseDuration(input);
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.message).toMatch(message);
      // Every refusal says what to type instead (or names lifetime).
      expect(r.message).toMatch(/12h|lifetime/);
    }
  });
});

describe('addDuration and describeDuration', () => {
  const timed = (count: number, unit: 'h' | 'd' | 'w' | 'mo' | 'y') => ({ kind: 'timed', count, unit }) as const;
  it.each([
    [timed(12, 'h'), '2024-01-31T22:30:00.000Z', '12 hours'],
    [timed(1, 'h'), '2024-01-31T11:30:00.000Z', '1 hour'],
    [timed(7, 'd'), '2024-02-07T10:30:00.000Z', '7 days'],
    [timed(2, 'w'), '2024-02-14T10:30:00.000Z', '2 weeks'],
    // Calendar months clamp to the month's last day, as billing does.
    [timed(1, 'mo'), '2024-02-29T10:30:00.000Z', '1 month'],
    [timed(13, 'mo'), '2025-02-28T10:30:00.000Z', '13 months'],
    [timed(1, 'y'), '2025-01-31T10:30:00.000Z', '1 year'],
  ] as const)('%j from 2024-01-31T10:30Z ends %s (%s)', (d, end, words) => {
    expect(new Date(addDuration(T, d)).toISOString()).toBe(end);
    expect(durationEnd(T, d)).toBe(Date.parse(end));
    expect(describeDuration(d)).toBe(words);
  });

  it('lifetime has no end', () => {
    const d: Duration = { kind: 'lifetime' };
    expect(durationEnd(T, d)).toBeNull();
    expect(describeDuration(d)).toBe('lifetime');
  });
});

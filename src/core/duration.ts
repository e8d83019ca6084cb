import { addInterval } from './time.ts';

/**
 * Staff durations as typed in `/admin grant` and `/admin extend` (SPEC: "a
 * string such as `7d`, `12h`, `1mo` or `lifetime`"). Pure: parsing, adding
 * to a time, and the words staff read back.
 */

export type DurationUnit = 'h' | 'd' | 'w' | 'mo' | 'y';

export type Duration = { kind: 'lifetime' } | { kind: 'timed'; count: number; unit: DurationUnit };

export type ParsedDuration = { ok: true; duration: Duration } | { ok: false; message: string };

export const LIFETIME: Duration = { kind: 'lifetime' };

/**
 * The longest comp a typo can create: `70y` meant as `7d` would be a
 * lifetime grant in disguise, and past ten years `lifetime` says it better.
 */
const MAX_HOURS = 24 * 3650;
/** Nominal lengths, for that cap only (120mo and 10y pass, 3651d does not). */
const HOURS_PER: Readonly<Record<DurationUnit, number>> = { h: 1, d: 24, w: 24 * 7, mo: 24 * 30, y: 24 * 365 };

const UNIT_WORDS: Readonly<Record<DurationUnit, [string, string]>> = {
  h: ['hour', 'hours'],
  d: ['day', 'days'],
  w: ['week', 'weeks'],
  mo: ['month', 'months'],
  y: ['year', 'years'],
};

/** What a refusal tells staff to type instead. */
export const DURATION_HELP = 'Use a whole number and a unit: `12h` (hours), `7d` (days), `2w` (weeks), `1mo` (months), `1y` (years), or `lifetime`.';

/** `7d`, `12h`, `1mo`, `2w`, `1y` or `lifetime`; case and spaces do not matter (`7 D`). */
export function parseDuration(input: string): ParsedDuration {
  const text = input.replace(/\s+/g, '').toLowerCase();
  if (text === 'lifetime') return { ok: true, duration: LIFETIME };
  const m = /^(\d{1,5})(h|d|w|mo|y)$/.exec(text);
  if (m === null) return { ok: false, message: `\`${input.slice(0, 40)}\` is not a duration. ${DURATION_HELP}` };
  const count = Number(m[1]);
  const unit = m[2] as DurationUnit;
  if (count === 0) return { ok: false, message: `A duration must be at least 1 ${UNIT_WORDS[unit][0]}. ${DURATION_HELP}` };
  if (count * HOURS_PER[unit] > MAX_HOURS) return { ok: false, message: `\`${input.slice(0, 40)}\` is longer than 10 years; use \`lifetime\` for a grant that does not end.` };
  return { ok: true, duration: { kind: 'timed', count, unit } };
}

/** `t` plus a timed duration; months and years are calendar months in UTC (Jan 31 + 1mo = Feb 28/29), like billing. */
export function addDuration(t: number, d: Extract<Duration, { kind: 'timed' }>): number {
  switch (d.unit) {
    case 'h':
      return t + d.count * 3_600_000;
    case 'd':
      return addInterval(t, 'DAY', d.count);
    case 'w':
      return addInterval(t, 'WEEK', d.count);
    case 'mo':
      return addInterval(t, 'MONTH', d.count);
    case 'y':
      return addInterval(t, 'YEAR', d.count);
  }
}

/** When a grant starting at `start` ends: null for lifetime. */
export function durationEnd(start: number, d: Duration): number | null {
  return d.kind === 'lifetime' ? null : addDuration(start, d);
}

/** "7 days", "1 month", "lifetime". */
export function describeDuration(d: Duration): string {
  if (d.kind === 'lifetime') return 'lifetime';
  const [one, many] = UNIT_WORDS[d.unit];
  return `${d.count} ${d.count === 1 ? one : many}`;
}

/** Pure time helpers. All times are epoch milliseconds (UTC). */

export const DAY_MS = 86_400_000;

export type IntervalUnit = 'DAY' | 'WEEK' | 'MONTH' | 'SEMI_MONTH' | 'YEAR';

/** Parses an ISO-8601 time as PayPal sends it; null for missing or unparseable input. */
export function parseIso(value: string | undefined | null): number | null {
  if (value === undefined || value === null || value === '') return null;
  const t = Date.parse(value);
  return Number.isNaN(t) ? null : t;
}

function addMonthsUtc(t: number, months: number): number {
  const d = new Date(t);
  const day = d.getUTCDate();
  d.setUTCDate(1);
  d.setUTCMonth(d.getUTCMonth() + months);
  // Clamp Jan 31 + 1 month to Feb 28/29, as billing systems do.
  const lastDay = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 0)).getUTCDate();
  d.setUTCDate(Math.min(day, lastDay));
  return d.getTime();
}

/** t plus `count` billing intervals (PayPal's interval units; months are calendar months in UTC). */
export function addInterval(t: number, unit: string, count: number): number {
  switch (unit) {
    case 'DAY':
      return t + count * DAY_MS;
    case 'WEEK':
      return t + count * 7 * DAY_MS;
    case 'SEMI_MONTH':
      return t + count * 15 * DAY_MS;
    case 'MONTH':
      return addMonthsUtc(t, count);
    case 'YEAR':
      return addMonthsUtc(t, 12 * count);
    default:
      // An unknown unit must not extend access: treat it as no interval.
      return t;
  }
}

/** The later of two optional times. */
export function later(a: number | null, b: number | null): number | null {
  if (a === null) return b;
  if (b === null) return a;
  return Math.max(a, b);
}

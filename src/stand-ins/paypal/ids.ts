import { randomInt } from 'node:crypto';

/**
 * Identifiers, times and amounts in the formats PayPal uses, so code under test
 * meets the same strings it will meet in production (ids are matched by
 * prefix in logs and support tickets; amounts are strings, never numbers).
 */

const UPPER_ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
const HEX = '0123456789abcdef';

function pick(alphabet: string, length: number): string {
  let out = '';
  for (let i = 0; i < length; i++) out += alphabet[randomInt(alphabet.length)];
  return out;
}

/** `I-BW452GLLEP1G`: a subscription. */
export const subscriptionId = (): string => `I-${pick(UPPER_ALNUM, 12)}`;
/** `BA-2M539689T3856352J`: the approval token in an approve link. */
export const approvalToken = (): string => `BA-${pick(UPPER_ALNUM, 17)}`;
/** `80F85758S3080410K`: sales, refunds and captures share this shape. */
export const transactionId = (): string => pick(UPPER_ALNUM, 17);
export const payerId = (): string => pick(UPPER_ALNUM, 13);
/** `WH-77687562XN25889J8-8Y6T55435R66168T6` */
export const webhookEventId = (): string => `WH-${pick(UPPER_ALNUM, 17)}-${pick(UPPER_ALNUM, 17)}`;
export const disputeId = (): string => `PP-D-${randomInt(10_000, 99_999)}`;
/** PayPal's correlation id, quoted in every error body. */
export const debugId = (): string => pick(HEX, 13);
export const accessToken = (): string => `A21AA${pick(UPPER_ALNUM + 'abcdefghijklmnopqrstuvwxyz-_', 92)}`;

/** PayPal writes times without milliseconds: `2019-04-09T10:27:20Z`. */
export function paypalTime(d: Date): string {
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

export type IntervalUnit = 'DAY' | 'WEEK' | 'MONTH' | 'YEAR';

/** Calendar arithmetic in UTC, as PayPal bills on the same day of the month. */
export function addInterval(from: Date, unit: IntervalUnit, count: number): Date {
  const d = new Date(from.getTime());
  switch (unit) {
    case 'DAY':
      d.setUTCDate(d.getUTCDate() + count);
      break;
    case 'WEEK':
      d.setUTCDate(d.getUTCDate() + 7 * count);
      break;
    case 'MONTH':
      d.setUTCMonth(d.getUTCMonth() + count);
      break;
    case 'YEAR':
      d.setUTCFullYear(d.getUTCFullYear() + count);
      break;
  }
  return d;
}

/** Two decimals, as in `"9.99"`; PayPal's zero balances read `"0.0"`. */
export function money(value: number): string {
  return (Math.round(value * 100) / 100).toFixed(2);
}

/** A plausible PayPal fee (2.9% + 0.30), so gross, fee and net add up. */
export function feeFor(gross: string): string {
  return money(Number(gross) * 0.029 + 0.3);
}

import { createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';

/**
 * The receiver's side of SPEC's "Marketplace contract", written the way an
 * implementer would from README "Marketplace contract" (and deliberately
 * not sharing code with src/marketplace/signature.ts, so a mistake in one is
 * not mirrored in the other): the signed timestamp within five minutes of
 * the receiver's clock, then HMAC-SHA256(key, timestamp + "." + raw body)
 * compared in constant time.
 */

/** SPEC: receivers reject timestamps more than five minutes off. */
export const TOLERANCE_SECONDS = 300;

export type SignatureCheck = 'ok' | 'missing_signature' | 'stale_timestamp' | 'bad_signature';

export function checkSignature(key: string, headers: IncomingHttpHeaders, rawBody: Buffer, nowSeconds: number): SignatureCheck {
  const timestamp = headers['x-concierge-timestamp'];
  const signature = headers['x-concierge-signature'];
  if (typeof timestamp !== 'string' || typeof signature !== 'string') return 'missing_signature';
  if (!/^\d{1,12}$/.test(timestamp) || Math.abs(nowSeconds - Number(timestamp)) > TOLERANCE_SECONDS) return 'stale_timestamp';
  const given = /^v1=([0-9a-f]{64})$/.exec(signature.trim())?.[1];
  if (given === undefined) return 'bad_signature';
  const expected = createHmac('sha256', key).update(`${timestamp}.`).update(rawBody).digest();
  return timingSafeEqual(expected, Buffer.from(given, 'hex')) ? 'ok' : 'bad_signature';
}

import { createHmac } from 'node:crypto';

/**
 * How Concierge signs what it sends the marketplace (SPEC "Marketplace
 * contract"): HMAC-SHA256 under MARKETPLACE_API_KEY over the timestamp, a
 * dot and the raw body. The timestamp is signed too, so a captured request
 * cannot be replayed with a fresh time; receivers refuse one more than five
 * minutes off.
 */

export const TIMESTAMP_HEADER = 'x-concierge-timestamp';
export const SIGNATURE_HEADER = 'x-concierge-signature';
/** The scheme prefix lets a later key or algorithm be added beside v1 without breaking receivers. */
const SCHEME = 'v1';

/** `v1=<hex>` over `${timestamp}.${body}`: sign the very bytes that are sent. */
export function signMarketplaceRequest(key: string, timestamp: string, body: Uint8Array): string {
  const mac = createHmac('sha256', key).update(`${timestamp}.`, 'utf8').update(body).digest('hex');
  return `${SCHEME}=${mac}`;
}

import { verify as rsaVerify } from 'node:crypto';
import { crc32 } from 'node:zlib';
import type { Logger } from '../log.ts';
import { createCertCache } from './cert-cache.ts';
import { fetchCertPem } from './cert-fetch.ts';
import { checkCertUrl } from './cert-url.ts';
import { acceptSigningChain, SIGNING_CN, type TrustAnchors } from './signing-cert.ts';

/**
 * Offline verification of PayPal webhook signatures (no postback to PayPal):
 * RSA-SHA256 (PKCS#1 v1.5) over
 * `transmissionId|transmissionTime|webhookId|crc32(rawBody)` with the key of
 * the certificate at `paypal-cert-url`. The body is only hashed, never parsed:
 * re-serialised JSON would not match the bytes PayPal signed.
 *
 * In two steps, so the HTTP route can refuse a delivery on its headers alone
 * before reading a body: `checkHeaders` (no I/O), then `verifyBody`.
 */

export type WebhookRejection =
  | 'missing_headers'
  | 'bad_cert_url'
  | 'cert_unavailable'
  | 'bad_certificate'
  | 'stale_transmission'
  | 'bad_signature'
  | 'unsupported_algorithm';

export type VerifyResult =
  | { ok: true; transmissionId: string; /** ms since the epoch */ transmissionTime: number }
  | { ok: false; reason: WebhookRejection; detail: string };

/** Headers that passed every check that needs no body. */
export interface SignedHeaders {
  transmissionId: string;
  timeText: string;
  transmissionTime: number;
  signature: string;
  /** The canonical certificate URL (the cache key). */
  certKey: string;
}

export type HeaderCheck = { ok: true; headers: SignedHeaders } | { ok: false; reason: WebhookRejection; detail: string };

export interface WebhookVerifierOptions {
  webhookId: string;
  /** Decides the signing certificate's required CN (SPEC). */
  mode: 'sandbox' | 'live';
  certHosts: readonly string[];
  /** Roots the signing certificate's chain must lead to (signing-cert.ts createTrustAnchors). */
  trustAnchors: TrustAnchors;
  maxAgeSeconds: number;
  clock?: () => number;
  fetchCert?: (url: string) => Promise<string>;
  /** Certificate URLs kept parsed; default 32. PayPal rotates certificates rarely. */
  cacheSize?: number;
  log?: Logger;
}

export type IncomingHeaders = Record<string, string | string[] | undefined>;

export interface WebhookVerifier {
  checkHeaders(headers: IncomingHeaders): HeaderCheck;
  verifyBody(headers: SignedHeaders, rawBody: Buffer): Promise<VerifyResult>;
  /** Both steps. */
  verify(headers: IncomingHeaders, rawBody: Buffer): Promise<VerifyResult>;
}

/** The only algorithm PayPal signs with. */
const AUTH_ALGO = 'SHA256withRSA';
/** Tolerated sender clock running ahead of ours. */
const MAX_FUTURE_MS = 5 * 60 * 1000;
const ISO_8601 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:Z|[+-]\d{2}:\d{2})$/i;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

export function createWebhookVerifier(o: WebhookVerifierOptions): WebhookVerifier {
  const clock = o.clock ?? Date.now;
  const expectedCn = SIGNING_CN[o.mode];
  const certs = createCertCache({
    fetchCert: o.fetchCert ?? fetchCertPem,
    accept: (pem) => acceptSigningChain(pem, { anchors: o.trustAnchors, expectedCn, now: clock() }),
    size: o.cacheSize ?? 32,
    clock,
    ...(o.log ? { log: o.log } : {}),
  });

  function reject(reason: WebhookRejection, detail: string, context: Record<string, unknown> = {}): { ok: false; reason: WebhookRejection; detail: string } {
    o.log?.debug({ ...context, reason, detail }, 'webhook signature rejected');
    return { ok: false, reason, detail };
  }

  function checkHeaders(headers: IncomingHeaders): HeaderCheck {
    const transmissionId = single(headers['paypal-transmission-id']);
    const timeText = single(headers['paypal-transmission-time']);
    const signature = single(headers['paypal-transmission-sig']);
    const certUrl = single(headers['paypal-cert-url']);
    const algoValue = headers['paypal-auth-algo'];
    // Absent is fine (PayPal has only one algorithm); repeated is not.
    const algo = Array.isArray(algoValue) ? (algoValue.length === 1 ? algoValue[0] : null) : algoValue;
    if (transmissionId === null || timeText === null || signature === null || certUrl === null || algo === null) {
      return reject('missing_headers', 'paypal-transmission-id, -time, -sig and paypal-cert-url must each appear once, non-empty');
    }
    const context = { transmissionId, certUrl };
    if (algo !== undefined && algo !== AUTH_ALGO) return reject('unsupported_algorithm', `paypal-auth-algo ${algo.slice(0, 40)} is not ${AUTH_ALGO}`, context);

    // Before any network call: the URL is attacker-controlled.
    const url = checkCertUrl(certUrl, o.certHosts);
    if (!url.ok) return reject('bad_cert_url', url.problem, context);

    const transmissionTime = ISO_8601.test(timeText) ? Date.parse(timeText) : Number.NaN;
    if (Number.isNaN(transmissionTime)) return reject('missing_headers', 'paypal-transmission-time is not an ISO 8601 time', context);
    const now = clock();
    if (now - transmissionTime > o.maxAgeSeconds * 1000) return reject('stale_transmission', `sent ${timeText}, older than ${o.maxAgeSeconds} s`, context);
    if (transmissionTime - now > MAX_FUTURE_MS) return reject('stale_transmission', `sent ${timeText}, more than 5 min in the future`, context);

    // Junk is refused here rather than after a certificate fetch.
    if (!BASE64.test(signature)) return reject('bad_signature', 'paypal-transmission-sig is not base64', context);
    return { ok: true, headers: { transmissionId, timeText, transmissionTime, signature, certKey: url.key } };
  }

  async function verifyBody(h: SignedHeaders, rawBody: Buffer): Promise<VerifyResult> {
    const context = { transmissionId: h.transmissionId, certUrl: h.certKey };
    const lookup = await certs.get(h.certKey);
    if (!lookup.ok) return reject(lookup.reason, lookup.detail, context);
    // Checked at every use, so a cached certificate stops working when its chain expires.
    const now = clock();
    if (now < lookup.cert.validFrom) return reject('bad_certificate', `certificate not valid before ${new Date(lookup.cert.validFrom).toISOString()}`, context);
    if (now > lookup.cert.validTo) return reject('bad_certificate', `certificate expired ${new Date(lookup.cert.validTo).toISOString()}`, context);

    const message = Buffer.from(`${h.transmissionId}|${h.timeText}|${o.webhookId}|${crc32(rawBody) >>> 0}`);
    let valid: boolean;
    try {
      valid = rsaVerify('sha256', message, lookup.cert.publicKey, Buffer.from(h.signature, 'base64'));
    } catch {
      valid = false;
    }
    if (!valid) return reject('bad_signature', 'signature does not match body, transmission and webhook id', context);
    return { ok: true, transmissionId: h.transmissionId, transmissionTime: h.transmissionTime };
  }

  return {
    checkHeaders,
    verifyBody,
    async verify(headers, rawBody) {
      const checked = checkHeaders(headers);
      return checked.ok ? verifyBody(checked.headers, rawBody) : checked;
    },
  };
}

/**
 * A header that appears exactly once with a value. Node's `headers` joins
 * repeats of most headers with ", ", which would hide them, so the route
 * passes `headersDistinct`, where every header is an array.
 */
function single(value: string | string[] | undefined): string | null {
  const only = Array.isArray(value) ? (value.length === 1 ? value[0] : undefined) : value;
  return typeof only === 'string' && only !== '' ? only : null;
}

import { verify as rsaVerify } from 'node:crypto';
import { crc32 } from 'node:zlib';
import type { Logger } from '../log.ts';
import { createCertCache, fetchCertPem, type SigningCert } from './cert-cache.ts';
import { checkCertUrl } from './cert-url.ts';

/**
 * Offline verification of PayPal webhook signatures (no postback to PayPal):
 * RSA-SHA256 (PKCS#1 v1.5) over
 * `transmissionId|transmissionTime|webhookId|crc32(rawBody)` with the key of
 * the certificate at `paypal-cert-url`. The body is only hashed, never parsed:
 * re-serialised JSON would not match the bytes PayPal signed.
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

export interface WebhookVerifierOptions {
  webhookId: string;
  certHosts: readonly string[];
  maxAgeSeconds: number;
  clock?: () => number;
  fetchCert?: (url: string) => Promise<string>;
  /** Certificate URLs kept parsed; default 32. PayPal rotates certificates rarely. */
  cacheSize?: number;
  log?: Logger;
}

export interface WebhookVerifier {
  verify(headers: Record<string, string | string[] | undefined>, rawBody: Buffer): Promise<VerifyResult>;
}

/** The only algorithm PayPal signs with. */
const AUTH_ALGO = 'SHA256withRSA';
/** The subject names PayPal's Java SDK accepts for a signing certificate. */
const SIGNING_CNS: ReadonlySet<string> = new Set(['messageverificationcerts.paypal.com', 'messageverificationcerts.sandbox.paypal.com']);
/** Tolerated sender clock running ahead of ours. */
const MAX_FUTURE_MS = 5 * 60 * 1000;
const ISO_8601 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:Z|[+-]\d{2}:\d{2})$/i;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

export function createWebhookVerifier(o: WebhookVerifierOptions): WebhookVerifier {
  const clock = o.clock ?? Date.now;
  const certs = createCertCache({ fetchCert: o.fetchCert ?? fetchCertPem, size: o.cacheSize ?? 32, ...(o.log ? { log: o.log } : {}) });

  function reject(reason: WebhookRejection, detail: string, context: Record<string, unknown> = {}): VerifyResult {
    o.log?.debug({ ...context, reason, detail }, 'webhook signature rejected');
    return { ok: false, reason, detail };
  }

  return {
    async verify(headers, rawBody) {
      const transmissionId = single(headers['paypal-transmission-id']);
      const timeText = single(headers['paypal-transmission-time']);
      const sigText = single(headers['paypal-transmission-sig']);
      const certUrl = single(headers['paypal-cert-url']);
      const algo = headers['paypal-auth-algo'];
      if (transmissionId === null || timeText === null || sigText === null || certUrl === null || Array.isArray(algo)) {
        return reject('missing_headers', 'paypal-transmission-id, -time, -sig and paypal-cert-url must each appear once, non-empty');
      }
      const context = { transmissionId, certUrl };
      if (algo !== undefined && algo !== AUTH_ALGO) return reject('unsupported_algorithm', `paypal-auth-algo ${algo.slice(0, 40)} is not ${AUTH_ALGO}`, context);

      // Before any network call: the URL is attacker-controlled.
      const urlCheck = checkCertUrl(certUrl, o.certHosts);
      if (!urlCheck.ok) return reject('bad_cert_url', urlCheck.problem, context);

      const transmissionTime = ISO_8601.test(timeText) ? Date.parse(timeText) : Number.NaN;
      if (Number.isNaN(transmissionTime)) return reject('missing_headers', 'paypal-transmission-time is not an ISO 8601 time', context);
      const now = clock();
      if (now - transmissionTime > o.maxAgeSeconds * 1000) return reject('stale_transmission', `sent ${timeText}, older than ${o.maxAgeSeconds} s`, context);
      if (transmissionTime - now > MAX_FUTURE_MS) return reject('stale_transmission', `sent ${timeText}, more than 5 min in the future`, context);

      // Junk is refused here rather than after a certificate fetch.
      if (!BASE64.test(sigText)) return reject('bad_signature', 'paypal-transmission-sig is not base64', context);

      const lookup = await certs.get(urlCheck.key);
      if (!lookup.ok) return reject(lookup.reason, lookup.detail, context);
      const certProblem = checkSigningCert(lookup.cert, clock());
      if (certProblem !== null) return reject('bad_certificate', certProblem, context);

      const message = Buffer.from(`${transmissionId}|${timeText}|${o.webhookId}|${crc32(rawBody) >>> 0}`);
      let valid: boolean;
      try {
        valid = rsaVerify('sha256', message, lookup.cert.publicKey, Buffer.from(sigText, 'base64'));
      } catch {
        valid = false;
      }
      if (!valid) return reject('bad_signature', 'signature does not match body, transmission and webhook id', context);
      return { ok: true, transmissionId, transmissionTime };
    },
  };
}

/** Checked at every use, so a cached certificate stops working when it expires. */
function checkSigningCert(cert: SigningCert, now: number): string | null {
  if (cert.subjectCn === null || !SIGNING_CNS.has(cert.subjectCn)) return `certificate subject CN ${cert.subjectCn ?? '(none)'} is not PayPal's signing name`;
  if (now < cert.validFrom) return `certificate not valid before ${new Date(cert.validFrom).toISOString()}`;
  if (now > cert.validTo) return `certificate expired ${new Date(cert.validTo).toISOString()}`;
  return null;
}

/** A header that appears exactly once with a value; Node gives repeats as arrays. */
function single(value: string | string[] | undefined): string | null {
  return typeof value === 'string' && value !== '' ? value : null;
}

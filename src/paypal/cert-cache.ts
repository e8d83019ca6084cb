import { X509Certificate, type KeyObject } from 'node:crypto';
import type { Logger } from '../log.ts';

/**
 * PayPal's webhook signing certificates, fetched once per URL and kept parsed.
 *
 * Parsing a PEM and building its public key costs far more than the RSA
 * verification itself, and the webhook route must sustain ~5,500
 * verifications/s on two cores, so the cache holds the `KeyObject` and the few
 * facts the policy needs, never the PEM. Whether a certificate is acceptable
 * (name, validity at this moment) is decided by the caller at each use, so a
 * cached entry cannot outlive its `validTo`.
 */

export const CERT_FETCH_TIMEOUT_MS = 5_000;
/** PayPal serves one leaf plus its chain, a few KiB; anything bigger is not a certificate. */
export const CERT_MAX_BYTES = 64 * 1024;

export interface SigningCert {
  publicKey: KeyObject;
  /** Milliseconds since the epoch. */
  validFrom: number;
  validTo: number;
  /** The subject's single CN, or null when it has none or several. */
  subjectCn: string | null;
}

export type CertLookup =
  | { ok: true; cert: SigningCert }
  | { ok: false; reason: 'cert_unavailable' | 'bad_certificate'; detail: string };

export interface CertCache {
  get(url: string): Promise<CertLookup>;
}

export interface CertCacheOptions {
  fetchCert: (url: string) => Promise<string>;
  /** Most URLs kept; the least recently used is dropped first. */
  size: number;
  log?: Logger;
}

export function createCertCache(o: CertCacheOptions): CertCache {
  // A Map iterates in insertion order: re-inserting on each hit makes the
  // first key the least recently used one.
  const entries = new Map<string, SigningCert>();
  const inFlight = new Map<string, Promise<CertLookup>>();

  async function load(url: string): Promise<CertLookup> {
    let pem: string;
    try {
      pem = await o.fetchCert(url);
    } catch (err) {
      // Not cached: PayPal retries the delivery, and the next one may succeed.
      const detail = err instanceof Error ? err.message : String(err);
      o.log?.debug({ certUrl: url, err: detail }, 'webhook certificate fetch failed');
      return { ok: false, reason: 'cert_unavailable', detail };
    }
    let cert: SigningCert;
    try {
      cert = parseSigningCert(pem);
    } catch (err) {
      // Not cached either: a garbled answer from the certificate host should
      // not stick for the life of the process.
      const detail = err instanceof Error ? err.message : String(err);
      o.log?.debug({ certUrl: url, err: detail }, 'webhook certificate unparseable');
      return { ok: false, reason: 'bad_certificate', detail };
    }
    entries.set(url, cert);
    while (entries.size > o.size) {
      const oldest = entries.keys().next();
      if (oldest.done === true) break;
      entries.delete(oldest.value);
    }
    o.log?.debug({ certUrl: url, subjectCn: cert.subjectCn, validTo: new Date(cert.validTo).toISOString() }, 'webhook certificate cached');
    return { ok: true, cert };
  }

  return {
    get(url) {
      const hit = entries.get(url);
      if (hit !== undefined) {
        entries.delete(url);
        entries.set(url, hit);
        return Promise.resolve({ ok: true, cert: hit });
      }
      // Concurrent first deliveries share one fetch.
      let pending = inFlight.get(url);
      if (pending === undefined) {
        pending = load(url).finally(() => inFlight.delete(url));
        inFlight.set(url, pending);
      }
      return pending;
    },
  };
}

const PEM_CERT = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/;

/** Parses the first certificate of a PEM chain (the leaf). Throws on anything else. */
export function parseSigningCert(pem: string): SigningCert {
  const block = PEM_CERT.exec(pem)?.[0];
  if (block === undefined) throw new Error('no PEM certificate in response');
  const x509 = new X509Certificate(block);
  const publicKey = x509.publicKey;
  if (publicKey.asymmetricKeyType !== 'rsa') throw new Error(`certificate key is ${publicKey.asymmetricKeyType ?? 'unknown'}, not RSA`);
  const validFrom = Date.parse(x509.validFrom);
  const validTo = Date.parse(x509.validTo);
  if (Number.isNaN(validFrom) || Number.isNaN(validTo)) throw new Error('certificate validity dates unreadable');
  const cns = x509.subject.split('\n').filter((line) => line.startsWith('CN='));
  const subjectCn = cns.length === 1 && cns[0] !== undefined ? cns[0].slice(3) : null;
  return { publicKey, validFrom, validTo, subjectCn };
}

/**
 * The default `fetchCert`: global fetch with Node's normal TLS trust, so tests
 * can serve their own certificates through NODE_EXTRA_CA_CERTS. Redirects are
 * refused because their target has not passed `checkCertUrl`.
 */
export async function fetchCertPem(url: string): Promise<string> {
  if (!url.startsWith('https://')) throw new Error(`refusing to fetch non-https ${url}`);
  const res = await fetch(url, {
    signal: AbortSignal.timeout(CERT_FETCH_TIMEOUT_MS),
    redirect: 'error',
    headers: { accept: 'application/x-pem-file, text/plain, */*' },
  });
  if (res.status !== 200) {
    await res.body?.cancel();
    throw new Error(`GET ${url} -> ${res.status}`);
  }
  const declared = Number(res.headers.get('content-length') ?? '0');
  if (declared > CERT_MAX_BYTES) {
    await res.body?.cancel();
    throw new Error(`GET ${url} -> ${declared} bytes, over ${CERT_MAX_BYTES}`);
  }
  if (res.body === null) throw new Error(`GET ${url} -> empty body`);
  const chunks: Uint8Array[] = [];
  let total = 0;
  const reader = res.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > CERT_MAX_BYTES) {
      await reader.cancel();
      throw new Error(`GET ${url} -> body over ${CERT_MAX_BYTES} bytes`);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}

import type { Logger } from '../log.ts';
import { CertFetchError } from './cert-fetch.ts';
import type { SigningCert } from './signing-cert.ts';

/**
 * PayPal's webhook signing certificates, fetched once per URL and kept parsed.
 *
 * Parsing a PEM and building its public key costs far more than the RSA
 * verification itself, and the webhook route must sustain ~5,500
 * verifications/s on two cores, so the cache holds the `KeyObject`, never the
 * PEM, and a hit is one Map lookup. Whether the chain, name and validity are
 * acceptable is decided when a certificate is loaded (`accept`); the caller
 * re-checks the validity window at each use, so an entry cannot outlive it.
 *
 * The URL comes from a request header, so a caller can name as many
 * certificates as it likes on an allowed host. Three limits keep that from
 * turning us into a request generator against PayPal (whose rate limits would
 * then hit our own API calls) and from evicting the real certificate:
 * - keys are canonical URLs (cert-url.ts), so spellings share one entry;
 * - a failure is remembered for a minute (the URL, or its whole host when it
 *   gave no HTTP answer), answered from memory meanwhile;
 * - at most MAX_IN_FLIGHT fetches at once and FETCH_BUDGET per minute; beyond
 *   that a new URL gets cert_unavailable at once. PayPal retries a refused
 *   delivery for three days, and its real certificates are few and rotate
 *   rarely, so a legitimate first fetch is at worst delayed. The in-flight
 *   cap alone is not enough: 200 distinct URLs sent at once to the service
 *   (e2e test, loopback stand-in) still caused 199 fetches, because they
 *   arrive over longer than one fetch takes; with the budget, at most 8.
 */

export type CertLookup =
  | { ok: true; cert: SigningCert }
  | { ok: false; reason: 'cert_unavailable' | 'bad_certificate'; detail: string };

export interface CertCache {
  /** `key`: a canonical certificate URL (checkCertUrl's `key`). */
  get(key: string): Promise<CertLookup>;
}

export interface CertCacheOptions {
  fetchCert: (url: string) => Promise<string>;
  /** Checks a fetched PEM chain; throws with the reason when it must not be used. */
  accept: (pem: string) => SigningCert;
  /** Most URLs kept; the least recently used is dropped first. */
  size: number;
  clock: () => number;
  log?: Logger;
}

export const NEGATIVE_TTL_MS = 60_000;
export const MAX_IN_FLIGHT = 4;
/** New fetches allowed per minute (a token bucket that refills continuously). */
export const FETCH_BUDGET = 8;
/** Failures remembered at most; the oldest is forgotten first (they all live one minute). */
const MAX_NEGATIVE = 1024;

type Failure = Extract<CertLookup, { ok: false }>;

export function createCertCache(o: CertCacheOptions): CertCache {
  // A Map iterates in insertion order: re-inserting on each hit makes the
  // first key the least recently used one.
  const entries = new Map<string, SigningCert>();
  const inFlight = new Map<string, Promise<CertLookup>>();
  /** Keyed by canonical URL, or by origin (`https://host:port`) for a host that gave no HTTP answer. */
  const failures = new Map<string, Failure & { until: number }>();
  let tokens = FETCH_BUDGET;
  let refilledAt = o.clock();

  const remember = (key: string, failure: Failure): void => {
    failures.delete(key);
    failures.set(key, { ...failure, until: o.clock() + NEGATIVE_TTL_MS });
    while (failures.size > MAX_NEGATIVE) {
      const oldest = failures.keys().next();
      if (oldest.done === true) break;
      failures.delete(oldest.value);
    }
  };

  const recalled = (key: string): Failure | undefined => {
    const f = failures.get(key);
    if (f === undefined) return undefined;
    if (o.clock() >= f.until) {
      failures.delete(key);
      return undefined;
    }
    return { ok: false, reason: f.reason, detail: `${f.detail} (remembered for ${NEGATIVE_TTL_MS / 1000} s)` };
  };

  const takeToken = (): boolean => {
    const now = o.clock();
    tokens = Math.min(FETCH_BUDGET, tokens + (Math.max(0, now - refilledAt) * FETCH_BUDGET) / NEGATIVE_TTL_MS);
    refilledAt = now;
    if (tokens < 1) return false;
    tokens -= 1;
    return true;
  };

  async function load(key: string, origin: string): Promise<CertLookup> {
    let pem: string;
    try {
      pem = await o.fetchCert(key);
    } catch (err) {
      const detail = err instanceof Error ? err.message : String(err);
      o.log?.debug({ certUrl: key, err: detail }, 'webhook certificate fetch failed');
      const failure: Failure = { ok: false, reason: 'cert_unavailable', detail };
      remember(err instanceof CertFetchError && err.hostDown ? origin : key, failure);
      return failure;
    }
    let cert: SigningCert;
    try {
      cert = o.accept(pem);
    } catch (err) {
      const detail = err instanceof Error ? err.message : String(err);
      o.log?.debug({ certUrl: key, err: detail }, 'webhook certificate rejected');
      const failure: Failure = { ok: false, reason: 'bad_certificate', detail };
      remember(key, failure);
      return failure;
    }
    entries.set(key, cert);
    while (entries.size > o.size) {
      const oldest = entries.keys().next();
      if (oldest.done === true) break;
      entries.delete(oldest.value);
    }
    o.log?.debug({ certUrl: key, validTo: new Date(cert.validTo).toISOString() }, 'webhook certificate cached');
    return { ok: true, cert };
  }

  return {
    get(key) {
      const hit = entries.get(key);
      if (hit !== undefined) {
        entries.delete(key);
        entries.set(key, hit);
        return Promise.resolve({ ok: true, cert: hit });
      }
      // Concurrent first deliveries share one fetch.
      const pending = inFlight.get(key);
      if (pending !== undefined) return pending;
      const origin = key.slice(0, key.indexOf('/', 'https://'.length));
      const known = recalled(key) ?? recalled(origin);
      if (known !== undefined) return Promise.resolve(known);
      if (inFlight.size >= MAX_IN_FLIGHT || !takeToken()) {
        // Not remembered: nothing is known about this URL yet.
        return Promise.resolve({ ok: false, reason: 'cert_unavailable', detail: 'too many new certificate URLs at once; PayPal retries' });
      }
      const loading = load(key, origin).finally(() => inFlight.delete(key));
      inFlight.set(key, loading);
      return loading;
    },
  };
}

import type { Logger } from '../log.ts';
import type { MarketplaceAnswer, MarketplaceGateway } from '../app/sync-marketplace.ts';
import { translateMarketplaceAnswer, translateMarketplaceFailure, type Exchange } from './errors.ts';
import { signMarketplaceRequest, SIGNATURE_HEADER, TIMESTAMP_HEADER } from './signature.ts';

/**
 * The marketplace API adapter (SPEC "Marketplace contract"): signed JSON
 * PUTs to MARKETPLACE_API_URL with Node's fetch, each with a timeout. It
 * implements app/'s MarketplaceGateway; what to send and when is the use
 * case's (app/sync-marketplace.ts), what an answer means is errors.ts's.
 */

export interface MarketplaceClientOptions {
  /** MARKETPLACE_API_URL, without a trailing slash (config.ts strips it). */
  url: string;
  /** MARKETPLACE_API_KEY: the HMAC key; never sent itself. */
  key: string;
  /** The service's clock: the signed timestamp is its time in unix seconds. */
  clock: () => number;
  timeoutMs?: number;
  log: Logger;
}

/**
 * A PUT that takes longer has met a stalled server; the job retries it. Well
 * under the 30 s job lease, so a timed-out attempt ends before its lease.
 */
const DEFAULT_TIMEOUT_MS = 10_000;
/** Read of an error answer: enough for the audit entry's excerpt, never an unbounded body. */
const MAX_ANSWER_BYTES = 8 * 1024;

export function createMarketplaceClient(o: MarketplaceClientOptions): MarketplaceGateway {
  const timeoutMs = o.timeoutMs ?? DEFAULT_TIMEOUT_MS;

  async function put(path: string, payload: unknown, signal: AbortSignal): Promise<MarketplaceAnswer> {
    const exchange: Exchange = { method: 'PUT', path };
    // Signed and sent as the same bytes: a receiver verifies the raw body, so nothing may re-serialise it in between.
    const body = Buffer.from(JSON.stringify(payload), 'utf8');
    const timestamp = String(Math.floor(o.clock() / 1000));
    const timeout = AbortSignal.timeout(timeoutMs);
    let res: Response;
    try {
      res = await fetch(`${o.url}${path}`, {
        method: 'PUT',
        headers: {
          'content-type': 'application/json',
          [TIMESTAMP_HEADER]: timestamp,
          [SIGNATURE_HEADER]: signMarketplaceRequest(o.key, timestamp, body),
        },
        body,
        redirect: 'manual',
        signal: AbortSignal.any([signal, timeout]),
      });
    } catch (err) {
      throw translateMarketplaceFailure(exchange, err, timeout.aborted, [o.key]);
    }
    // The status is the answer; a body cut off mid-read only loses the excerpt of an error.
    const text = await readAnswer(res).catch(() => '');
    if (res.ok) return 'accepted';
    if (res.status === 409) {
      o.log.info({ path, status: 409 }, 'the marketplace holds a newer version; nothing to send');
      return 'superseded';
    }
    throw translateMarketplaceAnswer(exchange, { status: res.status, retryAfter: res.headers.get('retry-after'), body: text }, [o.key], o.clock());
  }

  return {
    putMember: (memberId, state, signal) => put(`/v1/members/${encodeURIComponent(memberId)}`, state, signal),
    putPublisher: (state, signal) => put('/v1/publisher', state, signal),
  };
}

/** The answer's first MAX_ANSWER_BYTES as text; the rest is not downloaded. */
async function readAnswer(res: Response): Promise<string> {
  if (res.body === null) return '';
  const chunks: Uint8Array[] = [];
  let size = 0;
  const reader = res.body.getReader();
  try {
    while (size < MAX_ANSWER_BYTES) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      size += value.byteLength;
    }
  } finally {
    await reader.cancel().catch(() => undefined);
  }
  return Buffer.concat(chunks).subarray(0, MAX_ANSWER_BYTES).toString('utf8');
}

/**
 * Fetching a webhook signing certificate. Only URLs that passed
 * `checkCertUrl` get here (see cert-cache.ts for how often).
 */

export const CERT_FETCH_TIMEOUT_MS = 5_000;
/** PayPal serves one leaf plus its chain, a few KiB; anything bigger is not a certificate. */
export const CERT_MAX_BYTES = 64 * 1024;

/**
 * A failed fetch. `hostDown`: no HTTP answer at all (refused, TLS failure,
 * timeout), so other URLs on that host would fail the same way; an HTTP
 * error status or an oversized answer concerns this URL only.
 */
export class CertFetchError extends Error {
  constructor(
    message: string,
    readonly hostDown: boolean,
  ) {
    super(message);
    this.name = 'CertFetchError';
  }
}

/**
 * The default `fetchCert`: global fetch with Node's normal TLS trust, so tests
 * can serve their own certificates through NODE_EXTRA_CA_CERTS. Redirects are
 * not followed because their target has not passed `checkCertUrl` (manual
 * mode: a 3xx is an answer of this URL, not a failure of its host).
 */
export async function fetchCertPem(url: string): Promise<string> {
  if (!url.startsWith('https://')) throw new CertFetchError(`refusing to fetch non-https ${url}`, false);
  const signal = AbortSignal.timeout(CERT_FETCH_TIMEOUT_MS);
  let res: Response;
  try {
    res = await fetch(url, { signal, redirect: 'manual', headers: { accept: 'application/x-pem-file, text/plain, */*' } });
  } catch (err) {
    const cause = err instanceof Error && err.cause instanceof Error ? `: ${err.cause.message}` : '';
    throw new CertFetchError(`GET ${url} failed: ${err instanceof Error ? err.message : String(err)}${cause}`, true);
  }
  if (res.status !== 200) {
    await res.body?.cancel();
    throw new CertFetchError(`GET ${url} -> ${res.status}`, false);
  }
  const declared = Number(res.headers.get('content-length') ?? '0');
  if (declared > CERT_MAX_BYTES) {
    await res.body?.cancel();
    throw new CertFetchError(`GET ${url} -> ${declared} bytes, over ${CERT_MAX_BYTES}`, false);
  }
  if (res.body === null) throw new CertFetchError(`GET ${url} -> empty body`, false);
  const chunks: Uint8Array[] = [];
  let total = 0;
  const reader = res.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > CERT_MAX_BYTES) {
      await reader.cancel();
      throw new CertFetchError(`GET ${url} -> body over ${CERT_MAX_BYTES} bytes`, false);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * Decides whether a webhook's `paypal-cert-url` may be fetched. Pure: no I/O.
 *
 * The URL arrives in a request header, so anyone can send one; fetching it
 * unchecked would let a caller choose both the certificate that "proves" the
 * signature and the host we connect to (SSRF). Real PayPal URLs look like
 * `https://api.sandbox.paypal.com/v1/notifications/certs/CERT-360caa42-fca2a594-a5cafa77`,
 * so the rules are deliberately narrower than what WHATWG URL parsing accepts:
 * the raw text must already be in plain form (printable ASCII, no `\`, `%`,
 * `@`, `?`, `#`), because the parser silently rewrites those (`\` becomes `/`,
 * `%2E` in a host becomes `.`, `https:host` gains its `//`), and a check on the
 * rewritten form would approve text that other software reads differently.
 */

const CERT_PATH = /^\/v1\/notifications\/certs\/([A-Za-z0-9._~-]+)$/;
const MAX_URL_LENGTH = 2048;

/** `null` when the URL may be fetched, else why not (safe to log). */
export function checkCertUrl(url: string, certHosts: readonly string[]): string | null {
  if (url.length === 0 || url.length > MAX_URL_LENGTH) return 'length must be 1..2048';
  // Printable ASCII only: no spaces, control characters or Unicode look-alikes.
  if (!/^[\x21-\x7e]+$/.test(url)) return 'must be printable ASCII without spaces';
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return 'not a parseable URL';
  }
  if (parsed.protocol !== 'https:') return 'protocol must be https:';
  if (!/^https:\/\/[^/]/i.test(url)) return 'must start with https://host';
  if (url.includes('\\')) return 'backslashes not allowed';
  if (url.includes('%')) return 'percent-encoding not allowed';
  if (url.includes('@') || parsed.username !== '' || parsed.password !== '') return 'user info not allowed';
  if (url.includes('?')) return 'query not allowed';
  if (url.includes('#')) return 'fragment not allowed';

  const path = CERT_PATH.exec(parsed.pathname);
  const name = path?.[1];
  if (name === undefined || name === '.' || name === '..') return 'path must be /v1/notifications/certs/<name>';

  const host = normaliseHost(parsed.hostname);
  if (host.startsWith('[')) return 'IP literal hosts not allowed';
  if (host.split('.').some((label) => label === '')) return 'host has an empty label';
  if (!certHosts.some((entry) => hostMatches(host, entry))) return `host ${host} not in PAYPAL_CERT_HOSTS`;
  return null;
}

/**
 * `.paypal.com` matches `paypal.com` and every subdomain (`api.paypal.com`,
 * `api.sandbox.paypal.com`) but not `evilpaypal.com` or `paypal.com.evil.com`;
 * any other entry (`127.0.0.1`, `localhost`) matches only itself.
 */
function hostMatches(host: string, rawEntry: string): boolean {
  const entry = normaliseHost(rawEntry.trim());
  if (entry.startsWith('.')) {
    const domain = entry.slice(1);
    return domain !== '' && (host === domain || host.endsWith(`.${domain}`));
  }
  return entry !== '' && host === entry;
}

function normaliseHost(host: string): string {
  const lower = host.toLowerCase();
  return lower.endsWith('.') ? lower.slice(0, -1) : lower;
}

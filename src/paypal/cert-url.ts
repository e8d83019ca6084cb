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
const IPV4_LOOPBACK = /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/;

/**
 * `key`: the URL in one canonical spelling (lower-case host without a trailing
 * dot, no default port), so every spelling of one certificate shares one
 * cache entry. `problem` is safe to log.
 */
export type CertUrlCheck = { ok: true; key: string } | { ok: false; problem: string };

/** Whether the URL may be fetched (SPEC "Webhook certificates"). */
export function checkCertUrl(url: string, certHosts: readonly string[]): CertUrlCheck {
  const problem = (text: string): CertUrlCheck => ({ ok: false, problem: text });
  if (url.length === 0 || url.length > MAX_URL_LENGTH) return problem('length must be 1..2048');
  // Printable ASCII only: no spaces, control characters or Unicode look-alikes.
  if (!/^[\x21-\x7e]+$/.test(url)) return problem('must be printable ASCII without spaces');
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return problem('not a parseable URL');
  }
  if (parsed.protocol !== 'https:') return problem('protocol must be https:');
  if (!/^https:\/\/[^/]/i.test(url)) return problem('must start with https://host');
  if (url.includes('\\')) return problem('backslashes not allowed');
  if (url.includes('%')) return problem('percent-encoding not allowed');
  if (url.includes('@') || parsed.username !== '' || parsed.password !== '') return problem('user info not allowed');
  if (url.includes('?')) return problem('query not allowed');
  if (url.includes('#')) return problem('fragment not allowed');

  const path = CERT_PATH.exec(parsed.pathname);
  const name = path?.[1];
  if (name === undefined || name === '.' || name === '..') return problem('path must be /v1/notifications/certs/<name>');

  const host = normaliseHost(parsed.hostname);
  // The one IPv6 literal with a use (a loopback stand-in); others would need rules of their own.
  if (host.startsWith('[') && host !== '[::1]') return problem('IP literal hosts not allowed');
  if (host.split('.').some((label) => label === '')) return problem('host has an empty label');
  // Exact names only: a suffix rule would trust every host PayPal ever delegates under paypal.com.
  if (!certHosts.some((entry) => normaliseHost(entry.trim()) === host || (host === '[::1]' && entry.trim() === '::1'))) {
    return problem(`host ${host} not in PAYPAL_CERT_HOSTS`);
  }
  // The URL parser already dropped a default :443, so any port left is another one.
  if (parsed.port !== '' && !isLoopback(host)) return problem(`port ${parsed.port} not allowed: only 443, or any port on a loopback host`);
  return { ok: true, key: `https://${host}${parsed.port === '' ? '' : `:${parsed.port}`}${parsed.pathname}` };
}

/** 127.0.0.0/8, localhost and ::1: where a local stand-in may listen on any port. */
function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '[::1]' || IPV4_LOOPBACK.test(host);
}

/** Lower case, one trailing dot dropped (`api.paypal.com.` is the same host). */
export function normaliseHost(host: string): string {
  const lower = host.toLowerCase();
  return lower.endsWith('.') ? lower.slice(0, -1) : lower;
}

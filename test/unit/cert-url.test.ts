import { describe, expect, it } from 'vitest';
import { checkCertUrl } from '../../src/paypal/cert-url.ts';

const LIVE = ['api.paypal.com', 'api-m.paypal.com'];
const SANDBOX = ['api.sandbox.paypal.com', 'api-m.sandbox.paypal.com'];
const LOCAL = ['127.0.0.1', 'localhost'];
const CERT = '/v1/notifications/certs/CERT-360caa42-fca2a594-a5cafa77';

const allowed: [string, readonly string[]][] = [
  [`https://api.paypal.com${CERT}`, LIVE],
  [`https://api-m.paypal.com${CERT}`, LIVE],
  [`https://api.sandbox.paypal.com${CERT}`, SANDBOX],
  [`https://API.PayPal.COM${CERT}`, LIVE],
  [`HTTPS://api.paypal.com${CERT}`, LIVE],
  [`https://api.paypal.com.${CERT}`, LIVE],
  [`https://api.paypal.com:443${CERT}`, LIVE],
  [`https://api.paypal.com${CERT}`, ['API.PayPal.com.']],
  [`https://127.0.0.1:4443${CERT}`, LOCAL],
  [`https://localhost:4443${CERT}`, LOCAL],
  [`https://LOCALHOST${CERT}`, LOCAL],
  [`https://127.0.0.5:4443${CERT}`, ['127.0.0.5']],
  [`https://[::1]:4443${CERT}`, ['::1']],
];

const denied: [string, string, readonly string[]][] = [
  ['empty', '', LIVE],
  ['not a URL', 'api.paypal.com/v1/notifications/certs/x', LIVE],
  ['http:', `http://api.paypal.com${CERT}`, LIVE],
  ['ftp:', `ftp://api.paypal.com${CERT}`, LIVE],
  ['https: without //', `https:api.paypal.com${CERT}`, LIVE],
  ['https: with ///', `https:///api.paypal.com${CERT}`, LIVE],
  ['foreign host', `https://example.com${CERT}`, LIVE],
  ['evilpaypal.com', `https://evilpaypal.com${CERT}`, LIVE],
  ['paypal.com.evil.com', `https://paypal.com.evil.com${CERT}`, LIVE],
  ['paypal.com as a label elsewhere', `https://api.paypal.com-evil.com${CERT}`, LIVE],
  ['a subdomain of an allowed host', `https://x.api.paypal.com${CERT}`, LIVE],
  ['a sibling of an allowed host', `https://www.paypal.com${CERT}`, LIVE],
  ['a suffix entry is no wildcard', `https://api.paypal.com${CERT}`, ['.paypal.com']],
  ['a suffix entry does not match its own domain either', `https://paypal.com${CERT}`, ['.paypal.com']],
  ['a port other than 443 on a non-loopback host', `https://api.paypal.com:8443${CERT}`, LIVE],
  ['port 80 on an allowed host', `https://api.paypal.com:80${CERT}`, LIVE],
  ['user:pass@', `https://user:pass@api.paypal.com${CERT}`, LIVE],
  ['empty user info', `https://@api.paypal.com${CERT}`, LIVE],
  ['paypal.com as user info', `https://api.paypal.com@evil.com${CERT}`, LIVE],
  ['query', `https://api.paypal.com${CERT}?x=1`, LIVE],
  ['empty query', `https://api.paypal.com${CERT}?`, LIVE],
  ['fragment', `https://api.paypal.com${CERT}#x`, LIVE],
  ['empty fragment', `https://api.paypal.com${CERT}#`, LIVE],
  ['wrong path', 'https://api.paypal.com/v1/oauth2/token', LIVE],
  ['path prefix without a slash', 'https://api.paypal.com/v1/notifications/certsX', LIVE],
  ['no name after the prefix', 'https://api.paypal.com/v1/notifications/certs/', LIVE],
  ['prefix without trailing slash', 'https://api.paypal.com/v1/notifications/certs', LIVE],
  ['nested path', `https://api.paypal.com${CERT}/more`, LIVE],
  ['dot segments out of the prefix', 'https://api.paypal.com/v1/notifications/certs/../../oauth2/token', LIVE],
  ['percent-encoded path', 'https://api.paypal.com/v1/notifications/certs/%2e%2e/x', LIVE],
  ['percent-encoded host', `https://api%2Epaypal.com${CERT}`, ['api.paypal.com']],
  ['backslash before @', `https://api.paypal.com\\@evil.com${CERT}`, LIVE],
  ['backslash as path separator', 'https://api.paypal.com\\v1\\notifications\\certs\\x', LIVE],
  ['space', `https://api.paypal.com${CERT} x`, LIVE],
  ['Unicode look-alike host', `https://аpi.paypal.com${CERT}`, LIVE],
  ['IPv6 literal other than ::1', `https://[::2]${CERT}`, ['::2', '[::2]']],
  ['IPv4-mapped IPv6 literal', `https://[::ffff:127.0.0.1]${CERT}`, LOCAL],
  ['::1 when not listed', `https://[::1]:4443${CERT}`, LOCAL],
  ['empty label', `https://api..paypal.com${CERT}`, LIVE],
  ['two trailing dots', `https://api.paypal.com..${CERT}`, LIVE],
  ['exact entry does not match subdomains', `https://x.localhost${CERT}`, LOCAL],
  ['exact entry does not match other IPs', `https://127.0.0.2${CERT}`, LOCAL],
  ['sandbox list refuses live', `https://api.paypal.com${CERT}`, SANDBOX],
  ['live list refuses sandbox', `https://api.sandbox.paypal.com${CERT}`, LIVE],
  ['a bare dot entry matches nothing', `https://api.paypal.com${CERT}`, ['.']],
  ['empty list', `https://api.paypal.com${CERT}`, []],
];

/** Spellings of one URL that must share one cache entry. */
const canonical: [string, string][] = [
  [`https://API.PayPal.com.${CERT}`, `https://api.paypal.com${CERT}`],
  [`https://api.paypal.com:443${CERT}`, `https://api.paypal.com${CERT}`],
  [`HTTPS://LocalHost.:4443${CERT}`, `https://localhost:4443${CERT}`],
];

describe('checkCertUrl', () => {
  it.each(allowed)('allows %s with %j', (url, hosts) => {
    expect(checkCertUrl(url, hosts)).toEqual({ ok: true, key: expect.any(String) });
  });

  it.each(denied)('denies %s', (_name, url, hosts) => {
    expect(checkCertUrl(url, hosts)).toEqual({ ok: false, problem: expect.any(String) });
  });

  it.each(canonical)('keys %s as %s', (url, key) => {
    expect(checkCertUrl(url, ['api.paypal.com', 'localhost'])).toEqual({ ok: true, key });
  });
});

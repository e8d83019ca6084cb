import { describe, expect, it } from 'vitest';
import { checkCertUrl } from '../../src/paypal/cert-url.ts';

const PAYPAL = ['.paypal.com'];
const LOCAL = ['127.0.0.1', 'localhost'];
const CERT = '/v1/notifications/certs/CERT-360caa42-fca2a594-a5cafa77';

const allowed: [string, readonly string[]][] = [
  [`https://api.paypal.com${CERT}`, PAYPAL],
  [`https://api.sandbox.paypal.com${CERT}`, PAYPAL],
  [`https://paypal.com${CERT}`, PAYPAL],
  [`https://API.PayPal.COM${CERT}`, PAYPAL],
  [`HTTPS://api.paypal.com${CERT}`, PAYPAL],
  [`https://api.paypal.com.${CERT}`, PAYPAL],
  [`https://api.paypal.com:8443${CERT}`, PAYPAL],
  [`https://api.paypal.com${CERT}`, ['.PayPal.com.']],
  [`https://127.0.0.1:4443${CERT}`, LOCAL],
  [`https://localhost:4443${CERT}`, LOCAL],
  [`https://LOCALHOST${CERT}`, LOCAL],
  [`https://api.sandbox.paypal.com${CERT}`, ['api.sandbox.paypal.com']],
];

const denied: [string, string, readonly string[]][] = [
  ['empty', '', PAYPAL],
  ['not a URL', 'api.paypal.com/v1/notifications/certs/x', PAYPAL],
  ['http:', `http://api.paypal.com${CERT}`, PAYPAL],
  ['ftp:', `ftp://api.paypal.com${CERT}`, PAYPAL],
  ['https: without //', `https:api.paypal.com${CERT}`, PAYPAL],
  ['https: with ///', `https:///api.paypal.com${CERT}`, PAYPAL],
  ['foreign host', `https://example.com${CERT}`, PAYPAL],
  ['evilpaypal.com', `https://evilpaypal.com${CERT}`, PAYPAL],
  ['paypal.com.evil.com', `https://paypal.com.evil.com${CERT}`, PAYPAL],
  ['paypal.com as a label elsewhere', `https://api.paypal.com-evil.com${CERT}`, PAYPAL],
  ['user:pass@', `https://user:pass@api.paypal.com${CERT}`, PAYPAL],
  ['empty user info', `https://@api.paypal.com${CERT}`, PAYPAL],
  ['paypal.com as user info', `https://api.paypal.com@evil.com${CERT}`, PAYPAL],
  ['query', `https://api.paypal.com${CERT}?x=1`, PAYPAL],
  ['empty query', `https://api.paypal.com${CERT}?`, PAYPAL],
  ['fragment', `https://api.paypal.com${CERT}#x`, PAYPAL],
  ['empty fragment', `https://api.paypal.com${CERT}#`, PAYPAL],
  ['wrong path', 'https://api.paypal.com/v1/oauth2/token', PAYPAL],
  ['path prefix without a slash', 'https://api.paypal.com/v1/notifications/certsX', PAYPAL],
  ['no name after the prefix', 'https://api.paypal.com/v1/notifications/certs/', PAYPAL],
  ['prefix without trailing slash', 'https://api.paypal.com/v1/notifications/certs', PAYPAL],
  ['nested path', `https://api.paypal.com${CERT}/more`, PAYPAL],
  ['dot segments out of the prefix', 'https://api.paypal.com/v1/notifications/certs/../../oauth2/token', PAYPAL],
  ['percent-encoded path', 'https://api.paypal.com/v1/notifications/certs/%2e%2e/x', PAYPAL],
  ['percent-encoded host', `https://api%2Epaypal.com${CERT}`, ['api.paypal.com']],
  ['backslash before @', `https://api.paypal.com\\@evil.com${CERT}`, PAYPAL],
  ['backslash as path separator', 'https://api.paypal.com\\v1\\notifications\\certs\\x', PAYPAL],
  ['space', `https://api.paypal.com${CERT} x`, PAYPAL],
  ['Unicode look-alike host', `https://аpi.paypal.com${CERT}`, PAYPAL],
  ['IPv6 literal', `https://[::1]${CERT}`, ['::1', '[::1]', '.paypal.com']],
  ['IPv4-mapped IPv6 literal', `https://[::ffff:127.0.0.1]${CERT}`, LOCAL],
  ['empty label', `https://api..paypal.com${CERT}`, PAYPAL],
  ['two trailing dots', `https://api.paypal.com..${CERT}`, PAYPAL],
  ['exact entry does not match subdomains', `https://x.localhost${CERT}`, LOCAL],
  ['exact entry does not match other IPs', `https://127.0.0.2${CERT}`, LOCAL],
  ['sandbox-only list refuses live', `https://api.paypal.com${CERT}`, ['.sandbox.paypal.com']],
  ['a bare dot entry matches nothing', `https://api.paypal.com${CERT}`, ['.']],
  ['empty list', `https://api.paypal.com${CERT}`, []],
];

describe('checkCertUrl', () => {
  it.each(allowed)('allows %s with %j', (url, hosts) => {
    expect(checkCertUrl(url, hosts)).toBeNull();
  });

  it.each(denied)('denies %s', (_name, url, hosts) => {
    expect(checkCertUrl(url, hosts)).toEqual(expect.any(String));
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SIGNING_CERT_PEM, TEST_CA_PEM, signWebhook } from '../../src/stand-ins/paypal/sign-webhook.ts';
import { BODY, CERT_PREFIX, MAX_AGE_SECONDS, WEBHOOK_ID, serveSigningCert as serveSigningCert_, startCertHost, stopCertHost, testVerifier, type CertHost } from '../helpers/cert-host.ts';

/**
 * The signature, the headers and the time: real TLS, real global fetch and
 * real RSA against a tiny certificate host (test/helpers/cert-host.ts).
 * Which certificates are trusted and how they are fetched and cached:
 * webhook-certs.test.ts.
 */

let host: CertHost;
const serveSigningCert = (body?: string): string => serveSigningCert_(host, body);
const verifier = testVerifier;

beforeAll(async () => {
  host = await startCertHost();
});
afterAll(async () => {
  await stopCertHost(host.server);
});

describe('webhook verification', () => {
  it('accepts a delivery signed as PayPal signs it', async () => {
    const url = host.url(serveSigningCert());
    const time = new Date().toISOString();
    const headers = signWebhook({ body: BODY, webhookId: WEBHOOK_ID, certUrl: url, transmissionId: 'tx-1', transmissionTime: time });
    await expect(verifier().verify(headers, BODY)).resolves.toEqual({ ok: true, transmissionId: 'tx-1', transmissionTime: Date.parse(time) });
  });

  it('accepts a certificate served with its chain, using the first (leaf) certificate', async () => {
    const url = host.url(serveSigningCert(`${SIGNING_CERT_PEM}\n${TEST_CA_PEM}`));
    const headers = signWebhook({ body: BODY, webhookId: WEBHOOK_ID, certUrl: url });
    await expect(verifier().verify(headers, BODY)).resolves.toMatchObject({ ok: true });
  });

  it('rejects a body changed by one byte', async () => {
    const url = host.url(serveSigningCert());
    const headers = signWebhook({ body: BODY, webhookId: WEBHOOK_ID, certUrl: url });
    const tampered = Buffer.from(BODY);
    tampered[tampered.length - 3] = 0x32; // "I-1" -> "I-2"
    await expect(verifier().verify(headers, tampered)).resolves.toMatchObject({ ok: false, reason: 'bad_signature' });
  });

  it('rejects a delivery signed for another webhook id', async () => {
    const url = host.url(serveSigningCert());
    const headers = signWebhook({ body: BODY, webhookId: 'WH-SOMEONE-ELSE', certUrl: url });
    await expect(verifier().verify(headers, BODY)).resolves.toMatchObject({ ok: false, reason: 'bad_signature' });
  });

  it.each([
    ['http', (name: string) => `http://127.0.0.1:${host.port}${CERT_PREFIX}${name}`],
    ['a foreign host', (name: string) => `https://evil.example.com:${host.port}${CERT_PREFIX}${name}`],
    ['a query string', (name: string) => `${host.url(name)}?x=1`],
    ['a foreign port on an allowed non-loopback host', (name: string) => `https://api.paypal.com:${host.port}${CERT_PREFIX}${name}`],
    ['a subdomain of an allowed host (no suffix matching)', (name: string) => `https://certs.localhost:${host.port}${CERT_PREFIX}${name}`],
  ])('refuses a cert URL using %s without any request', async (_label, makeUrl) => {
    const name = serveSigningCert();
    const before = host.requests.length;
    const headers = signWebhook({ body: BODY, webhookId: WEBHOOK_ID, certUrl: makeUrl(name) });
    await expect(verifier().verify(headers, BODY)).resolves.toMatchObject({ ok: false, reason: 'bad_cert_url' });
    expect(host.requests.length).toBe(before);
  });

  it('rejects a transmission older than the maximum age or too far in the future', async () => {
    const name = serveSigningCert();
    const now = Date.now();
    const v = verifier({ clock: () => now });
    const old = signWebhook({ body: BODY, webhookId: WEBHOOK_ID, certUrl: host.url(name), transmissionTime: new Date(now - (MAX_AGE_SECONDS + 1) * 1000).toISOString() });
    const future = signWebhook({ body: BODY, webhookId: WEBHOOK_ID, certUrl: host.url(name), transmissionTime: new Date(now + 10 * 60 * 1000).toISOString() });
    await expect(v.verify(old, BODY)).resolves.toMatchObject({ ok: false, reason: 'stale_transmission' });
    await expect(v.verify(future, BODY)).resolves.toMatchObject({ ok: false, reason: 'stale_transmission' });
    // Stale deliveries are refused before fetching anything.
    expect(host.countFor(name)).toBe(0);
  });


  it.each([
    'paypal-transmission-id',
    'paypal-transmission-time',
    'paypal-transmission-sig',
    'paypal-cert-url',
  ] as const)('answers missing_headers without %s, with it empty or repeated', async (header) => {
    const url = host.url(serveSigningCert());
    const v = verifier();
    const headers: Record<string, string | string[] | undefined> = signWebhook({ body: BODY, webhookId: WEBHOOK_ID, certUrl: url });
    const value = headers[header] as string;
    for (const variant of [undefined, '', [value, value]]) {
      await expect(v.verify({ ...headers, [header]: variant }, BODY)).resolves.toMatchObject({ ok: false, reason: 'missing_headers' });
    }
  });

  it('answers missing_headers for a transmission time that is not ISO 8601', async () => {
    const url = host.url(serveSigningCert());
    const headers = signWebhook({ body: BODY, webhookId: WEBHOOK_ID, certUrl: url, transmissionTime: 'yesterday' });
    await expect(verifier().verify(headers, BODY)).resolves.toMatchObject({ ok: false, reason: 'missing_headers' });
  });

  it('accepts an absent auth algo and refuses any other than SHA256withRSA', async () => {
    const url = host.url(serveSigningCert());
    const v = verifier();
    const { 'paypal-auth-algo': _algo, ...withoutAlgo } = signWebhook({ body: BODY, webhookId: WEBHOOK_ID, certUrl: url });
    await expect(v.verify(withoutAlgo, BODY)).resolves.toMatchObject({ ok: true });
    for (const algo of ['SHA1withRSA', 'sha256withrsa', 'none', '']) {
      await expect(v.verify({ ...withoutAlgo, 'paypal-auth-algo': algo }, BODY)).resolves.toMatchObject({ ok: false, reason: 'unsupported_algorithm' });
    }
  });

  it('answers bad_signature for garbage or truncated signatures', async () => {
    const url = host.url(serveSigningCert());
    const v = verifier();
    const headers = signWebhook({ body: BODY, webhookId: WEBHOOK_ID, certUrl: url });
    const sig = headers['paypal-transmission-sig'];
    for (const garbage of ['!!!not base64!!!', 'AAAA', sig.slice(0, 40), `${sig}AAAA`, Buffer.alloc(256, 7).toString('base64')]) {
      await expect(v.verify({ ...headers, 'paypal-transmission-sig': garbage }, BODY)).resolves.toMatchObject({ ok: false, reason: 'bad_signature' });
    }
  });
});

import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTrustAnchors } from '../../src/paypal/signing-cert.ts';
import { createWebhookVerifier, type WebhookVerifierOptions } from '../../src/paypal/verify-webhook.ts';
import {
  CERTS,
  SERVER_CERT_PEM,
  SERVER_KEY_PEM,
  SIGNING_CERT_PEM,
  SIGNING_KEY,
  TEST_CA_PEM,
  WRONG_CN_CERT_PEM,
  WRONG_CN_KEY,
  signWebhook,
} from '../fakes/paypal/sign-webhook.ts';

/**
 * Real TLS (the test CA comes in through NODE_EXTRA_CA_CERTS), real global
 * fetch and real RSA: a tiny certificate host that records what it is asked.
 */

const WEBHOOK_ID = 'WH-TEST-1';
const MAX_AGE_SECONDS = 600;
const BODY = Buffer.from('{"id":"WH-1","event_type":"BILLING.SUBSCRIPTION.ACTIVATED","resource":{"id":"I-1"}}');
const CERT_PREFIX = '/v1/notifications/certs/';

interface CertHost {
  server: Server;
  port: number;
  /** name -> what GET /v1/notifications/certs/<name> answers; absent -> 404. */
  served: Map<string, { status: number; body: string; location?: string }>;
  requests: string[];
  countFor(name: string): number;
  url(name: string): string;
}

function startCertHost(port = 0): Promise<CertHost> {
  const served: CertHost['served'] = new Map();
  const requests: string[] = [];
  const server = createServer({ cert: SERVER_CERT_PEM, key: SERVER_KEY_PEM }, (req, res) => {
    const path = req.url ?? '';
    requests.push(path);
    const entry = path.startsWith(CERT_PREFIX) ? served.get(path.slice(CERT_PREFIX.length)) : undefined;
    if (entry === undefined) {
      res.writeHead(404).end('not found');
      return;
    }
    res.writeHead(entry.status, { 'content-type': 'application/x-pem-file', ...(entry.location ? { location: entry.location } : {}) }).end(entry.body);
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      const actual = (server.address() as AddressInfo).port;
      resolve({
        server,
        port: actual,
        served,
        requests,
        countFor: (name) => requests.filter((r) => r === `${CERT_PREFIX}${name}`).length,
        url: (name) => `https://127.0.0.1:${actual}${CERT_PREFIX}${name}`,
      });
    });
  });
}

function stop(server: Server): Promise<void> {
  server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}

let host: CertHost;
let nameSeq = 0;
/** A fresh certificate name per test, so request counts never mix. */
function serveSigningCert(body = SIGNING_CERT_PEM): string {
  const name = `CERT-${++nameSeq}`;
  host.served.set(name, { status: 200, body });
  return name;
}

/** Node's bundled roots plus the test CA, as PAYPAL_CERT_CA_FILE=test/fixtures/tls/ca.pem gives the service. */
const ANCHORS = createTrustAnchors(TEST_CA_PEM);

function verifier(extra: Partial<WebhookVerifierOptions> = {}) {
  return createWebhookVerifier({
    webhookId: WEBHOOK_ID,
    mode: 'sandbox',
    certHosts: ['127.0.0.1', 'localhost', 'api.paypal.com'],
    trustAnchors: ANCHORS,
    maxAgeSeconds: MAX_AGE_SECONDS,
    ...extra,
  });
}

beforeAll(async () => {
  host = await startCertHost();
});
afterAll(async () => {
  await stop(host.server);
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

  it('rejects a CA-issued certificate whose CN is not PayPal signing name', async () => {
    host.served.set('wrong-cn', { status: 200, body: WRONG_CN_CERT_PEM });
    const headers = signWebhook({ body: BODY, webhookId: WEBHOOK_ID, certUrl: host.url('wrong-cn'), key: WRONG_CN_KEY });
    await expect(verifier().verify(headers, BODY)).resolves.toMatchObject({ ok: false, reason: 'bad_certificate' });
  });

  describe('signing certificate chain and name', () => {
    const deliverWith = async (body: string, key: typeof SIGNING_KEY, extra: Partial<WebhookVerifierOptions> = {}) => {
      const url = host.url(serveSigningCert(body));
      return verifier(extra).verify(signWebhook({ body: BODY, webhookId: WEBHOOK_ID, certUrl: url, key }), BODY);
    };

    it('rejects a self-signed certificate with PayPal\'s signing name', async () => {
      await expect(deliverWith(CERTS.selfSigned.pem, CERTS.selfSigned.key)).resolves.toMatchObject({ ok: false, reason: 'bad_certificate' });
    });

    it('trusts the TLS trust store for fetching only: without PAYPAL_CERT_CA_FILE the test CA signs nothing', async () => {
      await expect(deliverWith(SIGNING_CERT_PEM, SIGNING_KEY, { trustAnchors: createTrustAnchors(null) })).resolves.toMatchObject({ ok: false, reason: 'bad_certificate' });
    });

    it('follows a served intermediate CA up to the trusted root, and rejects the leaf without it', async () => {
      const { viaIntermediate, intermediate } = CERTS;
      await expect(deliverWith(`${viaIntermediate.pem}\n${intermediate.pem}`, viaIntermediate.key)).resolves.toMatchObject({ ok: true });
      await expect(deliverWith(viaIntermediate.pem, viaIntermediate.key)).resolves.toMatchObject({ ok: false, reason: 'bad_certificate' });
    });

    it('rejects a PayPal-named certificate issued by a CA-signed leaf that is no CA', async () => {
      await expect(deliverWith(`${CERTS.issuedByLeaf.pem}\n${WRONG_CN_CERT_PEM}`, CERTS.issuedByLeaf.key)).resolves.toMatchObject({ ok: false, reason: 'bad_certificate' });
    });

    it('accepts only the signing name of the configured mode', async () => {
      await expect(deliverWith(CERTS.live.pem, CERTS.live.key, { mode: 'live' })).resolves.toMatchObject({ ok: true });
      await expect(deliverWith(SIGNING_CERT_PEM, SIGNING_KEY, { mode: 'live' })).resolves.toMatchObject({ ok: false, reason: 'bad_certificate' });
      await expect(deliverWith(CERTS.live.pem, CERTS.live.key, { mode: 'sandbox' })).resolves.toMatchObject({ ok: false, reason: 'bad_certificate' });
    });
  });

  it('rejects the certificate once the clock is past its validTo, even from the cache', async () => {
    const url = host.url(serveSigningCert());
    let now = Date.now();
    const v = verifier({ clock: () => now });
    await expect(v.verify(signWebhook({ body: BODY, webhookId: WEBHOOK_ID, certUrl: url }), BODY)).resolves.toMatchObject({ ok: true });
    now = Date.parse('2200-01-01T00:00:00Z');
    const later = signWebhook({ body: BODY, webhookId: WEBHOOK_ID, certUrl: url, transmissionTime: new Date(now).toISOString() });
    await expect(v.verify(later, BODY)).resolves.toMatchObject({ ok: false, reason: 'bad_certificate' });
    // Also when the first sight of the certificate is already past its validTo.
    const fresh = verifier({ clock: () => now });
    await expect(fresh.verify(later, BODY)).resolves.toMatchObject({ ok: false, reason: 'bad_certificate' });
  });

  it('answers cert_unavailable for a 404, from memory for a minute, then fetches again', async () => {
    const name = `CERT-LATER-${++nameSeq}`;
    let now = Date.now();
    const v = verifier({ clock: () => now });
    const headers = signWebhook({ body: BODY, webhookId: WEBHOOK_ID, certUrl: host.url(name), transmissionTime: new Date(now).toISOString() });
    await expect(v.verify(headers, BODY)).resolves.toMatchObject({ ok: false, reason: 'cert_unavailable' });
    host.served.set(name, { status: 200, body: SIGNING_CERT_PEM });
    now += 59_000;
    await expect(v.verify(headers, BODY)).resolves.toMatchObject({ ok: false, reason: 'cert_unavailable' });
    expect(host.countFor(name)).toBe(1);
    now += 2_000;
    await expect(v.verify(headers, BODY)).resolves.toMatchObject({ ok: true });
    expect(host.countFor(name)).toBe(2);
  });

  it('does not fetch a rejected certificate again for a minute: bad_certificate from memory', async () => {
    host.served.set('wrong-cn-memo', { status: 200, body: WRONG_CN_CERT_PEM });
    const v = verifier();
    const headers = signWebhook({ body: BODY, webhookId: WEBHOOK_ID, certUrl: host.url('wrong-cn-memo'), key: WRONG_CN_KEY });
    for (let i = 0; i < 3; i++) await expect(v.verify(headers, BODY)).resolves.toMatchObject({ ok: false, reason: 'bad_certificate' });
    expect(host.countFor('wrong-cn-memo')).toBe(1);
  });

  it('shares one cache entry between spellings of one URL (case, trailing dot)', async () => {
    const name = serveSigningCert();
    const v = verifier();
    for (const base of [`https://localhost:${host.port}`, `https://LocalHost.:${host.port}`, `HTTPS://LOCALHOST:${host.port}`]) {
      const headers = signWebhook({ body: BODY, webhookId: WEBHOOK_ID, certUrl: `${base}${CERT_PREFIX}${name}` });
      await expect(v.verify(headers, BODY)).resolves.toMatchObject({ ok: true });
    }
    expect(host.countFor(name)).toBe(1);
  });

  it('answers cert_unavailable while the certificate host is down, then succeeds once it is up', async () => {
    const down = await startCertHost();
    const port = down.port;
    await stop(down.server);
    const url = (name: string) => `https://127.0.0.1:${port}${CERT_PREFIX}${name}`;
    let now = Date.now();
    const v = verifier({ clock: () => now });
    const signed = (name: string) => signWebhook({ body: BODY, webhookId: WEBHOOK_ID, certUrl: url(name), transmissionTime: new Date(now).toISOString() });
    await expect(v.verify(signed('CERT-DOWN'), BODY)).resolves.toMatchObject({ ok: false, reason: 'cert_unavailable' });
    const up = await startCertHost(port);
    try {
      up.served.set('CERT-DOWN', { status: 200, body: SIGNING_CERT_PEM });
      up.served.set('CERT-OTHER', { status: 200, body: SIGNING_CERT_PEM });
      // A host that gave no answer is left alone for a minute, for every URL on it.
      await expect(v.verify(signed('CERT-OTHER'), BODY)).resolves.toMatchObject({ ok: false, reason: 'cert_unavailable' });
      expect(up.requests).toHaveLength(0);
      now += 61_000;
      await expect(v.verify(signed('CERT-DOWN'), BODY)).resolves.toMatchObject({ ok: true });
    } finally {
      await stop(up.server);
    }
  });

  it('does not follow redirects, whose target never passed the URL check', async () => {
    const target = serveSigningCert();
    const name = `CERT-REDIRECT-${++nameSeq}`;
    host.served.set(name, { status: 302, body: '', location: host.url(target) });
    const headers = signWebhook({ body: BODY, webhookId: WEBHOOK_ID, certUrl: host.url(name) });
    await expect(verifier().verify(headers, BODY)).resolves.toMatchObject({ ok: false, reason: 'cert_unavailable' });
    expect(host.countFor(target)).toBe(0);
  });

  it('refuses a certificate response over 64 KiB', async () => {
    const name = serveSigningCert(`${SIGNING_CERT_PEM}\n${'#'.repeat(64 * 1024)}`);
    const headers = signWebhook({ body: BODY, webhookId: WEBHOOK_ID, certUrl: host.url(name) });
    await expect(verifier().verify(headers, BODY)).resolves.toMatchObject({ ok: false, reason: 'cert_unavailable' });
  });

  it('fetches a certificate once for 200 verifications', async () => {
    const name = serveSigningCert();
    const v = verifier();
    const headers = signWebhook({ body: BODY, webhookId: WEBHOOK_ID, certUrl: host.url(name) });
    for (let i = 0; i < 200; i++) {
      const result = await v.verify(headers, BODY);
      expect(result.ok).toBe(true);
    }
    expect(host.countFor(name)).toBe(1);
  });

  it('coalesces 20 concurrent first verifications into one fetch', async () => {
    const name = serveSigningCert();
    const v = verifier();
    const headers = signWebhook({ body: BODY, webhookId: WEBHOOK_ID, certUrl: host.url(name) });
    const results = await Promise.all(Array.from({ length: 20 }, () => v.verify(headers, BODY)));
    expect(results.every((r) => r.ok)).toBe(true);
    expect(host.countFor(name)).toBe(1);
  });

  it('keeps at most cacheSize certificates, dropping the least recently used', async () => {
    const [a, b, c] = [serveSigningCert(), serveSigningCert(), serveSigningCert()];
    const v = verifier({ cacheSize: 2 });
    const run = async (name: string) => (await v.verify(signWebhook({ body: BODY, webhookId: WEBHOOK_ID, certUrl: host.url(name) }), BODY)).ok;
    for (const name of [a, b, a, c, a, b]) expect(await run(name)).toBe(true);
    // a stayed recent; b was dropped when c arrived and had to be fetched again.
    expect([host.countFor(a), host.countFor(b), host.countFor(c)]).toEqual([1, 2, 1]);
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

  it('sustains cached verification throughput (printed, not asserted)', async () => {
    const url = host.url(serveSigningCert());
    const v = verifier();
    // Signing costs ~1 ms each, so sign a handful and cycle through them.
    const signed = Array.from({ length: 20 }, (_, i) => {
      const body = Buffer.from(`{"id":"WH-${i}","event_type":"PAYMENT.SALE.COMPLETED","resource":{"billing_agreement_id":"I-${i}"}}`);
      return { body, headers: signWebhook({ body, webhookId: WEBHOOK_ID, certUrl: url }) };
    });
    await v.verify(signed[0]!.headers, signed[0]!.body); // warm the cache
    const n = 2_000;
    const start = process.hrtime.bigint();
    for (let i = 0; i < n; i++) {
      const s = signed[i % signed.length]!;
      const result = await v.verify(s.headers, s.body);
      if (!result.ok) throw new Error(`verification ${i} failed: ${result.reason}`);
    }
    const seconds = Number(process.hrtime.bigint() - start) / 1e9;
    console.info(`webhook verification: ${n} cached verifications in ${(seconds * 1000).toFixed(0)} ms = ${Math.round(n / seconds)}/s on one core`);
  });
});

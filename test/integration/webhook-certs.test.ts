import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTrustAnchors } from '../../src/paypal/signing-cert.ts';
import type { WebhookVerifierOptions } from '../../src/paypal/verify-webhook.ts';
import { CERTS, SIGNING_CERT_PEM, SIGNING_KEY, WRONG_CN_CERT_PEM, WRONG_CN_KEY, signWebhook } from '../../src/stand-ins/paypal/sign-webhook.ts';
import { BODY, CERT_PREFIX, WEBHOOK_ID, serveSigningCert as serveSigningCert_, startCertHost, stopCertHost, testVerifier, unservedName, type CertHost } from '../helpers/cert-host.ts';

/**
 * Webhook signing certificates: which are trusted (chain to a trusted root,
 * validity, the CN of the mode) and how they are fetched and cached (one
 * fetch per canonical URL, failures remembered for a minute, redirects and
 * oversized answers refused), against a real TLS certificate host.
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

describe('webhook signing certificates', () => {
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
    const name = unservedName('CERT-LATER');
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
    await stopCertHost(down.server);
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
      await stopCertHost(up.server);
    }
  });

  it('does not follow redirects, whose target never passed the URL check', async () => {
    const target = serveSigningCert();
    const name = unservedName('CERT-REDIRECT');
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

});

import { signWebhook } from '../src/stand-ins/paypal/sign-webhook.ts';
import { WEBHOOK_ID, serveSigningCert, startCertHost, stopCertHost, testVerifier } from '../test/helpers/cert-host.ts';

/**
 * npm run bench:verify — webhook signature verification with the signing
 * certificate cached: VERIFICATIONS deliveries through the verifier the
 * service builds (real RSA, the certificate fetched once over real TLS from
 * a loopback host), on one core. Prints the rate; asserts nothing (it was a
 * test that printed its number; a speed is measured here, not claimed in
 * the suite).
 */

// 20,000: with 2,000 the JIT's warm-up dominated and runs moved between 13,000 and 21,000/s (20,000: ~33,000/s, stable).
const VERIFICATIONS = Number(process.env['BENCH_VERIFICATIONS'] ?? 20_000);

const host = await startCertHost();
try {
  const url = host.url(serveSigningCert(host));
  const v = testVerifier();
  // Signing costs ~1 ms each, so sign a handful and cycle through them.
  const signed = Array.from({ length: 20 }, (_, i) => {
    const body = Buffer.from(`{"id":"WH-${i}","event_type":"PAYMENT.SALE.COMPLETED","resource":{"billing_agreement_id":"I-${i}"}}`);
    return { body, headers: signWebhook({ body, webhookId: WEBHOOK_ID, certUrl: url }) };
  });
  const warm = signed[0];
  if (warm === undefined) throw new Error('nothing signed');
  await v.verify(warm.headers, warm.body); // fetches and caches the certificate
  const start = process.hrtime.bigint();
  for (let i = 0; i < VERIFICATIONS; i++) {
    const s = signed[i % signed.length];
    if (s === undefined) continue;
    const result = await v.verify(s.headers, s.body);
    if (!result.ok) throw new Error(`verification ${i} failed: ${result.reason}`);
  }
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  process.stdout.write(`webhook verification: ${VERIFICATIONS} cached verifications in ${(seconds * 1000).toFixed(0)} ms = ${Math.round(VERIFICATIONS / seconds)}/s on one core\n`);
} finally {
  await stopCertHost(host.server);
}

import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { CERTS, signWebhook, SIGNING_KEY, WRONG_CN_KEY, type CertFixture } from './sign-webhook.ts';
import type { WebhookEvent } from './events.ts';

/**
 * Webhook delivery the way PayPal does it: the event serialised once, those
 * exact bytes signed and POSTed. Tampering happens after signing, so a
 * verifier that re-serialises the JSON or skips the check is caught.
 */

export const DEFAULT_CERT_NAME = 'CERT-360caa42-fca2a594-test';
/** Served with WRONG_CN_CERT_PEM; delivering with it also signs with that certificate's key. */
export const WRONG_CN_CERT_NAME = 'wrong-cn';
/** More certificate names the stand-in serves with a certificate of their own (and delivery signs with its key); any other name gets SIGNING_CERT_PEM. */
export const SPECIAL_CERTS: Readonly<Record<string, CertFixture>> = {
  'self-signed': CERTS.selfSigned,
  'live-cn': CERTS.live,
};

export interface SignedRequestOptions {
  webhookId: string;
  /** Certificate served at `/v1/notifications/certs/<certName>`; default a sandbox-like name. */
  certName?: string;
  /** `body`: change the bytes after signing; `signature`: corrupt the signature. */
  tamper?: 'body' | 'signature';
  /** ISO time for `paypal-transmission-time`; default now. */
  transmissionTime?: string;
  transmissionId?: string;
  /** Replace or add headers after signing (e.g. a foreign `paypal-cert-url`). */
  headersOverride?: Record<string, string>;
}

export interface DeliverOptions extends SignedRequestOptions {
  /** The receiver, e.g. `http://127.0.0.1:3000/webhooks/paypal`. */
  url: string;
}

export interface SignedRequest {
  body: string;
  headers: Record<string, string>;
}

export function buildSignedRequest(certBase: string, event: WebhookEvent<unknown>, o: SignedRequestOptions): SignedRequest {
  const certName = o.certName ?? DEFAULT_CERT_NAME;
  const signed = JSON.stringify(event);
  const headers: Record<string, string> = {
    ...signWebhook({
      body: signed,
      webhookId: o.webhookId,
      certUrl: `${certBase}/v1/notifications/certs/${certName}`,
      key: certName === WRONG_CN_CERT_NAME ? WRONG_CN_KEY : (SPECIAL_CERTS[certName]?.key ?? SIGNING_KEY),
      ...(o.transmissionId ? { transmissionId: o.transmissionId } : {}),
      ...(o.transmissionTime ? { transmissionTime: o.transmissionTime } : {}),
    }),
  };
  let body = signed;
  if (o.tamper === 'body') body = JSON.stringify({ ...event, summary: `${event.summary} (tampered)` });
  if (o.tamper === 'signature') headers['paypal-transmission-sig'] = corrupt(headers['paypal-transmission-sig'] ?? '');
  return { body, headers: { ...headers, ...o.headersOverride } };
}

/** Still valid base64 of the right length, so only the cryptographic check can catch it. */
function corrupt(sig: string): string {
  const first = sig[0] === 'A' ? 'B' : 'A';
  return first + sig.slice(1);
}

/** With `timeoutMs`, a request without a complete answer by then is abandoned (socket closed) and rejects. */
export function postRaw(url: string, req: SignedRequest, timeoutMs?: number): Promise<{ status: number; body: string }> {
  const target = new URL(url);
  const send = target.protocol === 'https:' ? httpsRequest : httpRequest;
  const payload = Buffer.from(req.body);
  return new Promise((resolve, reject) => {
    const r = send(
      target,
      { method: 'POST', headers: { ...req.headers, 'content-length': String(payload.length) } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      },
    );
    r.on('error', reject);
    if (timeoutMs !== undefined) r.setTimeout(timeoutMs, () => r.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    r.end(payload);
  });
}

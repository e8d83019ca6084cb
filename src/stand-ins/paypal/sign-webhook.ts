import { createPrivateKey, randomUUID, sign, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { crc32 } from 'node:zlib';

/**
 * Signs a webhook body exactly as PayPal does: RSA-SHA256 (PKCS#1 v1.5) over
 * `transmissionId|transmissionTime|webhookId|crc32(body)`, the CRC as an
 * unsigned decimal, the signature base64 in `paypal-transmission-sig`.
 */

const TLS_DIR = fileURLToPath(new URL('../tls/', import.meta.url));

export const TEST_CA_PEM = readFileSync(`${TLS_DIR}ca.pem`, 'utf8');
export const SERVER_CERT_PEM = readFileSync(`${TLS_DIR}server.pem`, 'utf8');
export const SERVER_KEY_PEM = readFileSync(`${TLS_DIR}server.key`, 'utf8');
/** CN messageverificationcerts.sandbox.paypal.com, issued by the test CA. */
export const SIGNING_CERT_PEM = readFileSync(`${TLS_DIR}signing.pem`, 'utf8');
export const SIGNING_KEY: KeyObject = createPrivateKey(readFileSync(`${TLS_DIR}signing.key`, 'utf8'));
/** A CA-issued certificate whose CN PayPal never uses. */
export const WRONG_CN_CERT_PEM = readFileSync(`${TLS_DIR}wrong-cn.pem`, 'utf8');
export const WRONG_CN_KEY: KeyObject = createPrivateKey(readFileSync(`${TLS_DIR}wrong-cn.key`, 'utf8'));

export interface CertFixture {
  pem: string;
  key: KeyObject;
}
const fixture = (name: string): CertFixture => ({ pem: readFileSync(`${TLS_DIR}${name}.pem`, 'utf8'), key: createPrivateKey(readFileSync(`${TLS_DIR}${name}.key`, 'utf8')) });
/** More signing certificates (src/stand-ins/tls/README.md says what each is). */
export const CERTS = {
  selfSigned: fixture('self-signed'),
  live: fixture('signing-live'),
  intermediate: fixture('intermediate'),
  viaIntermediate: fixture('signing-via-intermediate'),
  issuedByLeaf: fixture('issued-by-leaf'),
} as const;

export interface SignOptions {
  body: string | Buffer;
  webhookId: string;
  certUrl: string;
  key?: KeyObject;
  transmissionId?: string;
  /** ISO time; default now. */
  transmissionTime?: string;
}

export type WebhookHeaders = Record<
  'paypal-transmission-id' | 'paypal-transmission-time' | 'paypal-transmission-sig' | 'paypal-cert-url' | 'paypal-auth-algo' | 'content-type',
  string
>;

export function signWebhook(o: SignOptions): WebhookHeaders {
  const transmissionId = o.transmissionId ?? randomUUID();
  const transmissionTime = o.transmissionTime ?? new Date().toISOString();
  const body = typeof o.body === 'string' ? Buffer.from(o.body) : o.body;
  const message = `${transmissionId}|${transmissionTime}|${o.webhookId}|${crc32(body) >>> 0}`;
  const sig = sign('sha256', Buffer.from(message), o.key ?? SIGNING_KEY).toString('base64');
  return {
    'paypal-transmission-id': transmissionId,
    'paypal-transmission-time': transmissionTime,
    'paypal-transmission-sig': sig,
    'paypal-cert-url': o.certUrl,
    'paypal-auth-algo': 'SHA256withRSA',
    'content-type': 'application/json',
  };
}

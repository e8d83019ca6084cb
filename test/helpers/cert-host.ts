import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { createTrustAnchors } from '../../src/paypal/signing-cert.ts';
import { createWebhookVerifier, type WebhookVerifierOptions } from '../../src/paypal/verify-webhook.ts';
import { SERVER_CERT_PEM, SERVER_KEY_PEM, SIGNING_CERT_PEM, TEST_CA_PEM } from '../../src/stand-ins/paypal/sign-webhook.ts';

/**
 * For tests of the webhook verifier: a tiny certificate host on real TLS
 * (the test CA comes in through NODE_EXTRA_CA_CERTS) that records what it is
 * asked, and a verifier as the service builds one.
 */

export const WEBHOOK_ID = 'WH-TEST-1';
export const MAX_AGE_SECONDS = 600;
export const BODY = Buffer.from('{"id":"WH-1","event_type":"BILLING.SUBSCRIPTION.ACTIVATED","resource":{"id":"I-1"}}');
export const CERT_PREFIX = '/v1/notifications/certs/';

export interface CertHost {
  server: Server;
  port: number;
  /** name -> what GET /v1/notifications/certs/<name> answers; absent -> 404. */
  served: Map<string, { status: number; body: string; location?: string }>;
  requests: string[];
  countFor(name: string): number;
  url(name: string): string;
}

export function startCertHost(port = 0): Promise<CertHost> {
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

export function stopCertHost(server: Server): Promise<void> {
  server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}

let nameSeq = 0;
/** Serves `body` under a fresh certificate name, so request counts never mix between tests. */
export function serveSigningCert(host: CertHost, body = SIGNING_CERT_PEM): string {
  const name = `CERT-${++nameSeq}`;
  host.served.set(name, { status: 200, body });
  return name;
}

/** A fresh name nothing serves yet. */
export const unservedName = (prefix: string): string => `${prefix}-${++nameSeq}`;

/** Node's bundled roots plus the test CA, as PAYPAL_CERT_CA_FILE=src/stand-ins/tls/ca.pem gives the service. */
export const TEST_ANCHORS = createTrustAnchors(TEST_CA_PEM);

export function testVerifier(extra: Partial<WebhookVerifierOptions> = {}) {
  return createWebhookVerifier({
    webhookId: WEBHOOK_ID,
    mode: 'sandbox',
    certHosts: ['127.0.0.1', 'localhost', 'api.paypal.com'],
    trustAnchors: TEST_ANCHORS,
    maxAgeSeconds: MAX_AGE_SECONDS,
    ...extra,
  });
}

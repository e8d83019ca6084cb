import { X509Certificate, type KeyObject } from 'node:crypto';
import { rootCertificates } from 'node:tls';

/**
 * Which certificate may sign PayPal webhooks (SPEC "Webhook certificates"):
 * the served chain leads to a trusted root, every certificate on the way is
 * within its validity period, and the leaf's subject CN is PayPal's signing
 * name for the configured mode.
 *
 * The trusted roots are Node's bundled ones plus PAYPAL_CERT_CA_FILE, never
 * NODE_EXTRA_CA_CERTS: that variable widens TLS trust for fetching (to reach
 * a private host), which says nothing about who may sign webhooks. Without
 * this check, anyone who could serve a PEM on an allowed host path would
 * choose the key that "proves" the signature.
 */

export const SIGNING_CN = { live: 'messageverificationcerts.paypal.com', sandbox: 'messageverificationcerts.sandbox.paypal.com' } as const;

export interface SigningCert {
  publicKey: KeyObject;
  /** The chain's common validity window, ms since the epoch: the latest notBefore and the earliest notAfter. */
  validFrom: number;
  validTo: number;
}

/** Trusted roots indexed by subject, so finding a certificate's issuer is a lookup, not a scan of ~140 roots. */
export interface TrustAnchors {
  bySubject: ReadonlyMap<string, readonly X509Certificate[]>;
}

/** PayPal serves a leaf and one or two intermediates; more is not a PayPal chain. */
const MAX_CHAIN = 5;
const PEM_CERT = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

/** Every certificate of a PEM text, in order. Throws when there is none or one does not parse. */
export function parsePemCertificates(text: string): X509Certificate[] {
  const blocks = text.match(PEM_CERT) ?? [];
  if (blocks.length === 0) throw new Error('no PEM certificate found');
  return blocks.map((block, i) => {
    try {
      return new X509Certificate(block);
    } catch (err) {
      throw new Error(`PEM certificate #${i + 1} does not parse: ${err instanceof Error ? err.message : String(err)}`);
    }
  });
}

/** Node's bundled roots plus the certificates of `extraPem` (PAYPAL_CERT_CA_FILE's contents), if any. */
export function createTrustAnchors(extraPem: string | null): TrustAnchors {
  const bySubject = new Map<string, X509Certificate[]>();
  const roots = [...rootCertificates.map((pem) => new X509Certificate(pem)), ...(extraPem === null ? [] : parsePemCertificates(extraPem))];
  for (const root of roots) bySubject.set(root.subject, [...(bySubject.get(root.subject) ?? []), root]);
  return { bySubject };
}

/**
 * Checks a fetched PEM chain (leaf first) and returns what verification
 * needs; throws with the reason when the certificate must not be used.
 */
export function acceptSigningChain(pem: string, o: { anchors: TrustAnchors; expectedCn: string; now: number }): SigningCert {
  const chain = parsePemCertificates(pem);
  if (chain.length > MAX_CHAIN) throw new Error(`chain of ${chain.length} certificates, more than ${MAX_CHAIN}`);
  const [leaf] = chain;
  if (leaf === undefined) throw new Error('no PEM certificate found');
  const publicKey = leaf.publicKey;
  if (publicKey.asymmetricKeyType !== 'rsa') throw new Error(`certificate key is ${publicKey.asymmetricKeyType ?? 'unknown'}, not RSA`);
  const cns = leaf.subject.split('\n').filter((line) => line.startsWith('CN='));
  const cn = cns.length === 1 ? cns[0]?.slice(3) : undefined;
  if (cn !== o.expectedCn) throw new Error(`certificate subject CN ${cns.map((c) => c.slice(3)).join(', ') || '(none)'} is not ${o.expectedCn}`);

  let validFrom = -Infinity;
  let validTo = Infinity;
  const within = (cert: X509Certificate): void => {
    validFrom = Math.max(validFrom, Date.parse(cert.validFrom));
    validTo = Math.min(validTo, Date.parse(cert.validTo));
    if (Number.isNaN(validFrom) || Number.isNaN(validTo)) throw new Error(`validity dates of ${cert.subject} unreadable`);
  };
  const issues = (issuer: X509Certificate, cert: X509Certificate): boolean => cert.checkIssued(issuer) && cert.verify(issuer.publicKey);

  let current = leaf;
  const used = new Set([leaf]);
  for (;;) {
    within(current);
    const anchor = o.anchors.bySubject.get(current.issuer)?.find((root) => issues(root, current));
    if (anchor !== undefined) {
      within(anchor);
      break;
    }
    // Only CA certificates may issue: a leaf a public CA gave anyone must not vouch for a "PayPal" certificate.
    const next = chain.find((c) => !used.has(c) && c.ca && issues(c, current));
    if (next === undefined) throw new Error(`certificate chain does not lead to a trusted root (stops at "${current.subject}", issued by "${current.issuer}")`);
    used.add(next);
    current = next;
  }
  if (o.now < validFrom) throw new Error(`certificate chain not valid before ${new Date(validFrom).toISOString()}`);
  if (o.now > validTo) throw new Error(`certificate chain expired ${new Date(validTo).toISOString()}`);
  return { publicKey, validFrom, validTo };
}

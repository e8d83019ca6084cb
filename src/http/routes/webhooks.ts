import type { FastifyInstance } from 'fastify';
import type { WebhookIngest } from '../../app/ingest-webhook.ts';
import type { WebhookVerifier } from '../../paypal/verify-webhook.ts';
import type { Metrics } from '../metrics.ts';

/** SPEC: raw body up to 1 MiB; larger → 413. */
export const WEBHOOK_BODY_LIMIT = 1024 * 1024;

export interface SecurityAudit {
  /** A delivery failed verification: log, and audit (throttled so a flood cannot fill the disk). */
  rejected(reason: string, detail: string, meta: { ip: string; transmissionId: string | null }): void;
}

/**
 * POST /webhooks/paypal: verify the raw bytes, then hand them to the webhook
 * writer, which parses them and stores the event and its processing job in
 * one (group-)commit; answer 200 once that is durable. Never waits
 * on PayPal or Discord. A 5xx only when the event could not be stored, so
 * PayPal retries; a permanent problem is a 4xx (a 5xx would be retried for
 * three days).
 */
export function registerWebhookRoute(app: FastifyInstance, deps: { verifier: WebhookVerifier; ingest: WebhookIngest; metrics: Metrics; securityAudit: SecurityAudit }): void {
  app.register(async (scope) => {
    // The signature covers the exact bytes: keep them, parse nothing before verifying.
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: WEBHOOK_BODY_LIMIT }, (_req, body, done) => done(null, body));

    scope.post('/webhooks/paypal', { bodyLimit: WEBHOOK_BODY_LIMIT }, async (req, reply) => {
      const raw = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
      const verdict = await deps.verifier.verify(req.headers, raw);
      if (!verdict.ok) {
        deps.metrics.webhooks.inc({ result: verdict.reason });
        const transmissionId = typeof req.headers['paypal-transmission-id'] === 'string' ? req.headers['paypal-transmission-id'] : null;
        req.log.warn({ reason: verdict.reason, detail: verdict.detail, ip: req.ip, transmissionId }, 'webhook rejected');
        deps.securityAudit.rejected(verdict.reason, verdict.detail, { ip: req.ip, transmissionId });
        return reply.code(400).send({ error: verdict.reason });
      }

      try {
        const receipt = await deps.ingest.submit({ text: raw.toString('utf8'), transmissionId: verdict.transmissionId });
        if (receipt.outcome === 'replayed') {
          // Same transmission id, different body: a CRC32-forged body under captured headers (the signature covers only the CRC).
          deps.metrics.webhooks.inc({ result: 'replayed_transmission' });
          const detail = 'transmission id already accepted with a different body';
          req.log.warn({ reason: 'replayed_transmission', ip: req.ip, transmissionId: verdict.transmissionId }, 'webhook rejected');
          deps.securityAudit.rejected('replayed_transmission', detail, { ip: req.ip, transmissionId: verdict.transmissionId });
          return reply.code(400).send({ error: 'replayed_transmission' });
        }
        if (receipt.outcome === 'invalid') {
          deps.metrics.webhooks.inc({ result: 'invalid_event' });
          req.log.warn({ transmissionId: verdict.transmissionId }, 'signed webhook is not a PayPal event envelope');
          return reply.code(400).send({ error: 'invalid_event' });
        }
        deps.metrics.webhooks.inc({ result: receipt.outcome });
        return reply.code(200).send({ status: receipt.outcome });
      } catch (err) {
        deps.metrics.webhooks.inc({ result: 'store_error' });
        req.log.error({ err, transmissionId: verdict.transmissionId }, 'webhook could not be stored; PayPal will retry');
        return reply.code(503).send({ error: 'store_unavailable' });
      }
    });
  });
}

import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { SecurityAudit } from '../../ingest/security-audit.ts';
import type { WebhookIngest } from '../../ingest/webhook-ingest.ts';
import type { SignedHeaders, WebhookVerifier } from '../../paypal/verify-webhook.ts';
import type { Metrics } from '../../metrics/registry.ts';

/** SPEC: raw body up to 1 MiB; larger → 413. */
export const WEBHOOK_BODY_LIMIT = 1024 * 1024;

/** What a 503 during shutdown asks for: about a restart's time. */
const SHUTDOWN_RETRY_AFTER_S = 30;

/**
 * POST /webhooks/paypal: check the signature headers before the body is
 * read, verify the raw bytes, then hand them to the webhook writer, which
 * parses them and stores the event and its processing job in one
 * (group-)commit; answer 200 once that is durable. Never waits on PayPal or
 * Discord. A 5xx only when the event could not be stored, so PayPal retries;
 * a permanent problem is a 4xx (a 5xx would be retried for three days).
 */
export function registerWebhookRoute(app: FastifyInstance, deps: WebhookRouteDeps): void {
  /** What the onRequest hook found in the headers, for the handler. */
  const checked = new WeakMap<FastifyRequest, SignedHeaders>();
  const refuse = (req: FastifyRequest, reply: FastifyReply, reason: string, detail: string): FastifyReply => refuseDelivery(deps, req, reply, reason, detail);

  /** `headersDistinct`: Node's `headers` joins a repeated header into one value, which would hide the repeat. */
  const checkHeaders = (req: FastifyRequest) => deps.verifier.checkHeaders(req.raw.headersDistinct);

  app.register(async (scope) => {
    // The signature covers the exact bytes: keep them, parse nothing before verifying.
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: WEBHOOK_BODY_LIMIT }, (_req, body, done) => done(null, body));

    scope.post(
      '/webhooks/paypal',
      {
        bodyLimit: WEBHOOK_BODY_LIMIT,
        // Runs before the body is read: a delivery whose headers can never verify costs no buffering of up to 1 MiB.
        onRequest: async (req, reply) => {
          // Shutting down: PayPal retries a 503, and the next start takes the delivery.
          if (!deps.ingest.accepting()) return reply.code(503).header('retry-after', String(SHUTDOWN_RETRY_AFTER_S)).send({ error: 'shutting_down' });
          // A declared oversize body keeps its 413 (SPEC), answered by the body parser.
          if (Number(req.headers['content-length']) > WEBHOOK_BODY_LIMIT) return;
          const check = checkHeaders(req);
          if (!check.ok) return refuse(req, reply, check.reason, check.detail);
          checked.set(req, check.headers);
        },
      },
      async (req, reply) => {
        let signed = checked.get(req);
        if (signed === undefined) {
          const check = checkHeaders(req);
          if (!check.ok) return refuse(req, reply, check.reason, check.detail);
          signed = check.headers;
        }
        const raw = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
        const verdict = await deps.verifier.verifyBody(signed, raw);
        if (!verdict.ok) return refuse(req, reply, verdict.reason, verdict.detail);
        return storeDelivery(deps, req, reply, raw.toString('utf8'), verdict.transmissionId);
      },
    );
  });
}

interface WebhookRouteDeps {
  verifier: WebhookVerifier;
  ingest: WebhookIngest;
  metrics: Metrics;
  securityAudit: SecurityAudit;
}

/** A 400 that is counted, logged and audited (a delivery that failed verification, or a replay). */
function refuseDelivery(deps: WebhookRouteDeps, req: FastifyRequest, reply: FastifyReply, reason: string, detail: string): FastifyReply {
  deps.metrics.webhook(null, 'rejected');
  deps.metrics.verificationFailure(reason);
  const id = req.headers['paypal-transmission-id'];
  const transmissionId = typeof id === 'string' ? id.slice(0, 200) : null;
  req.log.warn({ reason, detail, ip: req.ip, transmissionId }, 'webhook rejected');
  deps.securityAudit.rejected(reason, detail, { ip: req.ip, transmissionId });
  return reply.code(400).send({ error: reason });
}

/** Hands a verified body to the writer and answers from what became of it: 200 once durable, 400 when it never can be, 503 to have PayPal retry. */
async function storeDelivery(deps: WebhookRouteDeps, req: FastifyRequest, reply: FastifyReply, text: string, transmissionId: string): Promise<FastifyReply> {
  try {
    const receipt = await deps.ingest.submit({ text, transmissionId });
    // Same transmission id, another body: a CRC32-forged body under captured headers (the signature covers only the CRC).
    if (receipt.outcome === 'replayed') return refuseDelivery(deps, req, reply, 'replayed_transmission', 'transmission id already accepted with a different body');
    if (receipt.outcome === 'invalid') {
      deps.metrics.webhook(null, 'invalid_event');
      req.log.warn({ transmissionId }, 'signed webhook is not a PayPal event envelope');
      return reply.code(400).send({ error: 'invalid_event' });
    }
    deps.metrics.webhook(receipt.eventType, receipt.outcome);
    return reply.code(200).send({ status: receipt.outcome });
  } catch (err) {
    deps.metrics.webhook(null, 'store_error');
    req.log.error({ err, transmissionId }, 'webhook could not be stored; PayPal will retry');
    return reply.code(503).send({ error: 'store_unavailable' });
  }
}

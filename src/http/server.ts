import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { ReadinessProbe } from '../app/readiness.ts';
import type { SecurityAudit } from '../ingest/security-audit.ts';
import type { WebhookIngest } from '../ingest/webhook-ingest.ts';
import type { Logger } from '../log.ts';
import type { WebhookVerifier } from '../paypal/verify-webhook.ts';
import type { Store } from '../store/db.ts';
import type { Metrics } from '../metrics/registry.ts';
import { registerHealthRoutes } from './routes/health.ts';
import { registerLicenseRoutes, type LicenseRouteDeps } from './routes/licenses.ts';
import { registerMetricsRoute } from './routes/metrics.ts';
import { registerPaypalReturnRoutes, type PaypalReturnDeps } from './routes/paypal-return.ts';
import { registerWebhookRoute } from './routes/webhooks.ts';

export interface ServerDeps {
  log: Logger;
  store: Store;
  verifier: WebhookVerifier;
  ingest: WebhookIngest;
  metrics: Metrics;
  metricsToken: string | null;
  readiness: ReadinessProbe;
  securityAudit: SecurityAudit;
  /** Where PayPal sends the buyer back (`/paypal/return`, `/paypal/cancel`). */
  paypalReturn: PaypalReturnDeps;
  /** `POST /api/v1/licenses/verify`: serial checks by scripts. */
  licenses: LicenseRouteDeps;
  /** Proxies whose X-Forwarded-For names the client (TRUST_PROXY); false: the peer is the client. */
  trustProxy: string[] | false;
}

/** Builds the HTTP app without listening (tests use inject or listen on port 0). */
export function buildServer(deps: ServerDeps): FastifyInstance {
  const app = Fastify({
    loggerInstance: deps.log.child({ component: 'http' }) as FastifyBaseLogger,
    // Per-request access logs would cost more than the webhook itself at thousands/s; errors are still logged.
    logController: new LogController({ disableRequestLogging: true }),
    // Per-IP rate limits key on req.ip: behind nginx that is the forwarded address, believed only from these peers.
    trustProxy: deps.trustProxy,
    return503OnClosing: true,
  });

  app.setErrorHandler((err: Error & { statusCode?: number; code?: string }, req, reply) => {
    const status = err.statusCode ?? 500;
    if (status >= 500) {
      req.log.error({ err }, 'request failed');
      return reply.code(status).send({ error: 'internal_error' });
    }
    return reply.code(status).send({ error: err.code === 'FST_ERR_CTP_BODY_TOO_LARGE' ? 'body_too_large' : (err.code ?? 'bad_request').toLowerCase() });
  });
  app.setNotFoundHandler((_req, reply) => reply.code(404).send({ error: 'not_found' }));

  registerWebhookRoute(app, deps);
  registerHealthRoutes(app, deps.readiness);
  registerMetricsRoute(app, deps.metrics, deps.metricsToken);
  registerPaypalReturnRoutes(app, deps.paypalReturn);
  registerLicenseRoutes(app, deps.licenses);
  return app;
}

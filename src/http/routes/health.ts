import type { FastifyInstance } from 'fastify';
import type { ReadinessProbe } from '../../app/readiness.ts';

/** GET /healthz: the process answers. GET /readyz: every dependency check, 503 naming the failing ones. */
export function registerHealthRoutes(app: FastifyInstance, probe: ReadinessProbe): void {
  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_req, reply) => {
    const r = probe();
    const failing = Object.entries(r.checks)
      .filter(([, c]) => !c.ok)
      .map(([name]) => name);
    return reply.code(r.ok ? 200 : 503).send({ status: r.ok ? 'ready' : 'not_ready', failing, checks: r.checks });
  });
}

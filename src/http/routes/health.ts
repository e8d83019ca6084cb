import type { FastifyInstance } from 'fastify';

export interface Check {
  ok: boolean;
  detail?: string;
  [k: string]: unknown;
}
export interface Readiness {
  ok: boolean;
  checks: Record<string, Check>;
}
export type ReadinessProbe = () => Readiness;

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

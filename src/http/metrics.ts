import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';

/** Concierge's Prometheus metrics, one registry per service instance (tests build several). */
export function createMetrics(collect: { jobCounts: () => Record<string, number> }) {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'concierge_' });
  const webhooks = new Counter({
    name: 'concierge_webhooks_total',
    help: 'PayPal webhook deliveries by result (stored, duplicate, rejected reason, store_error)',
    labelNames: ['result'] as const,
    registers: [registry],
  });
  new Gauge({
    name: 'concierge_jobs',
    help: 'Jobs in the queue by status',
    labelNames: ['status'] as const,
    registers: [registry],
    collect() {
      this.reset();
      for (const [status, n] of Object.entries(collect.jobCounts())) this.set({ status }, n);
    },
  });
  return { registry, webhooks };
}

export type Metrics = ReturnType<typeof createMetrics>;

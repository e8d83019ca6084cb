import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { JobObserver } from '../jobs/launch-job.ts';
import { processWebhookJob } from '../jobs/definitions.ts';
import { templateRoute, type HttpCall, type HttpCallObserver } from './http-call.ts';
import { registerStateGauges, type StateSources } from './state-gauges.ts';

/**
 * Concierge's Prometheus metrics: one registry per service instance (created
 * at start in service.ts; tests start several services in one process), the
 * counters the adapters feed through observers, and the gauges read from the
 * store on each scrape (state-gauges.ts). Every label has a bounded set of
 * values: job kinds, tiers, PayPal event types, templated routes, statuses.
 * The list, with the alerts over it, is README "Monitoring".
 */

/** Seconds. Webhook processing is normally well under a second; PayPal down for hours is the far end. */
const LAG_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600];
/** Seconds. One REST call: tens of ms normally, the adapters' timeouts (10 s) at the far end. */
const CALL_BUCKETS = [0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** What the webhook route reports: verified deliveries by PayPal event type, refused ones by reason. */
export type WebhookOutcome = 'stored' | 'duplicate' | 'invalid_event' | 'store_error' | 'rejected';

/** A PayPal event type as a label: PayPal's catalogue (`BILLING.SUBSCRIPTION.ACTIVATED`), anything else `other`. */
function eventTypeLabel(type: string | null): string {
  return type !== null && /^[A-Z][A-Z0-9_.]{0,63}$/.test(type) ? type : 'other';
}

export function createMetrics(state: StateSources) {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'concierge_' });
  const registers = [registry];

  const webhooks = new Counter({
    name: 'concierge_webhooks_total',
    help: 'PayPal webhook deliveries by event type (unverified when refused) and outcome: stored, duplicate, rejected, invalid_event, store_error (count)',
    labelNames: ['event_type', 'outcome'] as const,
    registers,
  });
  const verificationFailures = new Counter({
    name: 'concierge_webhook_verification_failures_total',
    help: 'PayPal webhook deliveries refused with 400, by reason (bad_signature, stale_transmission, missing_headers, bad_cert_url, replayed_transmission, ...) (count)',
    labelNames: ['reason'] as const,
    registers,
  });
  const processingLag = new Histogram({
    name: 'concierge_webhook_processing_lag_seconds',
    help: 'Time from acknowledging a PayPal webhook (200) to its processing job completing, retries included (seconds)',
    buckets: LAG_BUCKETS,
    registers,
  });
  const byKind = (name: string, help: string) => new Counter({ name, help, labelNames: ['kind'] as const, registers });
  const completed = byKind('concierge_jobs_completed_total', 'Jobs completed, by kind (count)');
  const retries = byKind('concierge_job_retries_total', 'Job runs that failed and were queued again (backoff, or a rate limit wait), by kind (count)');
  const deadLettered = byKind(
    'concierge_jobs_dead_lettered_total',
    'Jobs dead-lettered (out of attempts, or a permanent error), by kind; see concierge_jobs{status="dead"} for those still dead (count)',
  );
  const calls = callMetrics(registers);
  registerStateGauges(registers, state);

  const jobs: JobObserver = {
    completed(job, now) {
      completed.inc({ kind: job.kind });
      if (job.kind === processWebhookJob.kind) processingLag.observe(Math.max(0, now - job.createdAt) / 1000);
    },
    retried: (kind) => retries.inc({ kind }),
    deadLettered: (kind) => deadLettered.inc({ kind }),
  };

  return {
    registry,
    /** A delivery's outcome; `eventType` is null when refused or not an event envelope. */
    webhook(eventType: string | null, outcome: WebhookOutcome): void {
      webhooks.inc({ event_type: outcome === 'rejected' ? 'unverified' : eventTypeLabel(eventType), outcome });
    },
    verificationFailure: (reason: string) => verificationFailures.inc({ reason }),
    jobs,
    discordCall: calls('discord', true),
    paypalCall: calls('paypal', false),
  };
}

export type Metrics = ReturnType<typeof createMetrics>;

/** Per API: requests by templated route and status, their latency, and 429s. */
function callMetrics(registers: Registry[]) {
  const requests = new Counter({
    name: 'concierge_api_requests_total',
    help: 'HTTP requests to Discord or PayPal (api), by method, templated route and status (error: no response) (count)',
    labelNames: ['api', 'method', 'route', 'status'] as const,
    registers,
  });
  const duration = new Histogram({
    name: 'concierge_api_request_duration_seconds',
    help: 'Latency of HTTP requests to Discord or PayPal (api), by method and templated route, until the response headers (seconds)',
    labelNames: ['api', 'method', 'route'] as const,
    buckets: CALL_BUCKETS,
    registers,
  });
  const rateLimited = new Counter({
    name: 'concierge_api_rate_limited_total',
    help: 'HTTP 429 answers from Discord or PayPal (api), by templated route (count)',
    labelNames: ['api', 'route'] as const,
    registers,
  });
  return (api: 'discord' | 'paypal', afterVersion: boolean): HttpCallObserver =>
    (call: HttpCall) => {
      const route = templateRoute(call.path, { afterVersion });
      const method = call.method.toUpperCase();
      requests.inc({ api, method, route, status: call.status === null ? 'error' : String(call.status) });
      duration.observe({ api, method, route }, call.seconds);
      if (call.status === 429) rateLimited.inc({ api, route });
    };
}

import { processWebhookEvent, type ProcessDeps } from '../app/process-event.ts';
import { processWebhookJob } from '../jobs/definitions.ts';
import { handleJob } from '../jobs/handler.ts';

/** Processes a stored PayPal event (fetch-on-notify, state change, follow-up jobs). */
export function processWebhookHandler(deps: ProcessDeps) {
  return handleJob(processWebhookJob, (p, ctx) => processWebhookEvent(deps, p.eventId, ctx.log));
}

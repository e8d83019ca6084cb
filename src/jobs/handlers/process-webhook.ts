import { processWebhookEvent, type ProcessDeps } from '../../app/process-event.ts';
import { processWebhookJob } from '../definitions.ts';
import { handleJob } from '../handler.ts';

/** Processes a stored PayPal event (fetch-on-notify, state change, follow-up jobs). */
export function processWebhookHandler(deps: ProcessDeps) {
  return handleJob(processWebhookJob, (payload, ctx) => processWebhookEvent(deps, payload.eventId, ctx.log));
}

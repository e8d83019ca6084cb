import { z } from 'zod';
import { processWebhookEvent, type ProcessDeps } from '../../app/process-event.ts';
import { PROCESS_WEBHOOK_MAX_ATTEMPTS } from '../../store/ingest-batch.ts';
import { defineJobHandler } from '../handler.ts';

/** Processes a stored PayPal event (fetch-on-notify, state change, follow-up jobs). */
export function processWebhookHandler(deps: ProcessDeps) {
  return defineJobHandler({
    schema: z.object({ eventId: z.string().min(1) }),
    maxAttempts: PROCESS_WEBHOOK_MAX_ATTEMPTS,
    run: (payload, ctx) => processWebhookEvent(deps, payload.eventId, ctx.log),
  });
}

import { z } from 'zod';
import { processWebhookEvent, type ProcessDeps } from '../../app/process-event.ts';
import { defineJobHandler } from '../runner.ts';

/** Processes a stored PayPal event (fetch-on-notify, state change, follow-up jobs). */
export function processWebhookHandler(deps: ProcessDeps) {
  return defineJobHandler({
    schema: z.object({ eventId: z.string().min(1) }),
    // PayPal may be down for a while: retry for about a day (backoff caps at 15 min).
    maxAttempts: 100,
    run: (payload) => processWebhookEvent(deps, payload.eventId),
  });
}

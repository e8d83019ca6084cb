import { z } from 'zod';
import { cancelReplaced, type ReplaceDeps } from '../../app/replace-subscription.ts';
import { defineJobHandler } from '../handler.ts';

/** Cancels at PayPal a subscription an instant upgrade replaced (app/replace-subscription.ts). */
export function cancelReplacedHandler(deps: ReplaceDeps) {
  return defineJobHandler({
    schema: z.object({ subscriptionId: z.string().min(1), replacedBy: z.string().min(1) }),
    maxAttempts: 12,
    run: (p, ctx) => cancelReplaced(deps, p, ctx.log),
  });
}

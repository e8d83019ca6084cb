import { cancelReplaced, type ReplaceDeps } from '../app/replace-subscription.ts';
import { cancelReplacedJob } from '../jobs/definitions.ts';
import { handleJob } from '../jobs/handler.ts';

/** Cancels at PayPal a subscription an instant upgrade replaced (app/replace-subscription.ts). */
export function cancelReplacedHandler(deps: ReplaceDeps) {
  return handleJob(cancelReplacedJob, (p, ctx) => cancelReplaced(deps, p, ctx.log));
}

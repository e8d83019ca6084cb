import { refreshCheckout } from '../app/refresh-checkout.ts';
import type { RefreshDeps } from '../app/refresh-subscription.ts';
import { refreshSubscriptionJob } from '../jobs/definitions.ts';
import { handleJob } from '../jobs/handler.ts';

/** Re-reads a checkout from PayPal and applies it, or schedules the next round (app/refresh-checkout.ts). */
export function refreshSubscriptionHandler(deps: RefreshDeps) {
  return handleJob(refreshSubscriptionJob, (p, ctx) => refreshCheckout(deps, p, ctx));
}

import type { Logger } from '../log.ts';
import { enqueueRefresh, REFRESH_DELAYS_MS, refreshFromPaypal, type RefreshDeps } from './refresh-subscription.ts';

/**
 * One round of re-reading a checkout from PayPal after the buyer came back
 * (or PayPal was down when they did) and applying it. While PayPal still
 * reports it not yet active it schedules the next round (REFRESH_DELAYS_MS);
 * after the last one the checkout is left to the webhooks: a buyer who
 * walked away is not a failure. A PayPal error throws (the job retries with backoff).
 */
export async function refreshCheckout(deps: RefreshDeps, p: { subscriptionId: string; round: number }, ctx: { now: () => number; log: Logger }): Promise<void> {
  const result = await refreshFromPaypal(deps, p.subscriptionId);
  switch (result.kind) {
    case 'unknown':
      ctx.log.warn({ subscriptionId: p.subscriptionId }, 'PayPal does not know this subscription; nothing to refresh');
      return;
    case 'applied':
      ctx.log.info({ subscriptionId: p.subscriptionId, state: result.state, memberId: result.memberId }, 'subscription refreshed from PayPal');
      return;
    case 'waiting': {
      const next = p.round + 1;
      if (next >= REFRESH_DELAYS_MS.length) {
        ctx.log.info({ subscriptionId: p.subscriptionId, paypalStatus: result.paypalStatus }, 'checkout still not approved; leaving it to the webhooks');
        return;
      }
      deps.store.transaction((tx) => enqueueRefresh(tx, p.subscriptionId, ctx.now(), next));
      ctx.log.debug({ subscriptionId: p.subscriptionId, paypalStatus: result.paypalStatus, round: next }, 'checkout not active yet; reading again later');
      return;
    }
  }
}

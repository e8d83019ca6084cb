import { cancelReplacedJob, type ParsedJobPayload } from '../jobs/definitions.ts';
import { enqueue } from '../jobs/queue.ts';
import type { Logger } from '../log.ts';
import type { Store, Tx } from '../store/db.ts';
import type { TiersSource } from '../tiers.ts';
import { applySubscription } from './apply-subscription.ts';
import { readSubscription, type PaypalReads } from './paypal-reads.ts';
import { ConciergeError } from '../errors.ts';
import type { MemberEffects } from './member-effects.ts';

/**
 * An instant upgrade replaces the member's subscription with one on the
 * higher plan. Once the new one's prorated fee is paid, the old one is
 * cancelled at PayPal so it bills no more; its period was already paid for,
 * so there is nothing to refund, and it keeps giving its own (lower) tier
 * until its paid-through, exactly when the new one's regular billing starts.
 */

export type CancelReplacedPayload = ParsedJobPayload<typeof cancelReplacedJob>;

export function enqueueReplacedCancel(tx: Tx, subscriptionId: string, replacedBy: string, now: number): void {
  enqueue(tx, cancelReplacedJob, { subscriptionId, replacedBy }, now, { dedupeKey: subscriptionId });
}

export interface ReplaceDeps {
  store: Store;
  paypal: Pick<PaypalReads, 'getSubscription' | 'getPlan'> & { cancelSubscription(id: string, reason: string): Promise<void> };
  tiers: TiersSource;
  clock: () => number;
  effects: MemberEffects;
}

/** Cancels the replaced subscription (422: PayPal has it cancelled already) and applies PayPal's answer. Throws to retry. */
export async function cancelReplaced(deps: ReplaceDeps, p: CancelReplacedPayload, log: Logger): Promise<void> {
  try {
    await deps.paypal.cancelSubscription(p.subscriptionId, `Upgraded to ${p.replacedBy}`.slice(0, 128));
  } catch (err) {
    if (!(err instanceof ConciergeError && err.context['status'] === 422)) throw err;
    log.info({ subscriptionId: p.subscriptionId }, 'replaced subscription was no longer active at PayPal');
  }
  const read = await readSubscription(deps.paypal, p.subscriptionId);
  deps.store.transaction((tx) => {
    applySubscription(tx, read, { catalog: deps.tiers.current(), effects: deps.effects, now: deps.clock(), eventId: null, cause: `replaced by the upgrade ${p.replacedBy}` });
  });
}

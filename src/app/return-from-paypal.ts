import type { TierCatalog } from '../core/tiers.ts';
import type { Store } from '../store/db.ts';
import { getSubscription, listPendingWithApproveToken, markSubscriptionAbandoned } from '../store/subscription-repo.ts';
import { enqueueRefresh, refreshFromPaypal, type RefreshDeps } from './refresh-subscription.ts';

/**
 * `GET /paypal/return?subscription_id=I-…`: the buyer is back from PayPal.
 * The subscription is read from PayPal and applied at once (the webhook that
 * follows then finds nothing to change), so the role does not wait for the
 * webhook. A checkout PayPal has not activated yet, or a PayPal outage, is
 * handed to the `refresh-subscription` job. Only subscriptions in the store
 * (created by /subscribe, or already heard of through a webhook) are read:
 * the id comes from the query string, so any other id would let strangers
 * make us call PayPal and fill the queue; one created elsewhere is applied
 * by its webhook. `GET /paypal/cancel` (abandonCheckout, below) is the other
 * way back.
 */

/** PayPal subscription ids: `I-` and upper-case letters and digits (`I-BW452GLLEP1G`). */
export const SUBSCRIPTION_ID = /^I-[A-Z0-9]{6,40}$/;

export type ReturnDeps = RefreshDeps;

export type ReturnOutcome =
  | { kind: 'invalid' }
  | { kind: 'unknown' }
  | {
      kind: 'active';
      tierName: string;
      /** False when PayPal's custom_id names no Discord member (staff are told through the audit channel). */
      linked: boolean;
      /** After a downgrade: the higher tier kept until the end of the paid period. */
      carried: { tierName: string; until: number } | null;
    }
  | { kind: 'waiting'; tierName: string | null }
  | { kind: 'ended'; tierName: string | null }
  | { kind: 'unavailable'; error: unknown };

const nameOf = (catalog: TierCatalog, key: string | null): string | null => (key === null ? null : (catalog.byKey(key)?.name ?? key));

/**
 * The subscription the buyer came back for: `subscription_id`, or else the
 * pending checkout whose approve link carries the `ba_token` PayPal handed
 * back (in case a redirect arrives without the id).
 */
function subscriptionIdOf(store: Store, q: PaypalRedirectQuery): string | undefined {
  if (q.subscriptionId !== undefined) return SUBSCRIPTION_ID.test(q.subscriptionId) ? q.subscriptionId : undefined;
  return q.baToken === undefined ? undefined : pendingWithToken(store, q.baToken)[0];
}

export async function returnFromPaypal(deps: ReturnDeps, q: PaypalRedirectQuery): Promise<ReturnOutcome> {
  const subscriptionId = subscriptionIdOf(deps.store, q);
  if (subscriptionId === undefined) return { kind: 'invalid' };
  const stored = () => getSubscription(deps.store.db, subscriptionId);
  // An arbitrary id from the query string reaches neither PayPal nor the queue.
  if (stored() === undefined) return { kind: 'unknown' };
  const catalog = deps.tiers.current();
  const later = () => deps.store.transaction((tx) => enqueueRefresh(tx, subscriptionId, deps.clock()));

  let result;
  try {
    result = await refreshFromPaypal(deps, subscriptionId);
  } catch (error) {
    later();
    return { kind: 'unavailable', error };
  }
  switch (result.kind) {
    case 'unknown':
      return { kind: 'unknown' };
    case 'waiting':
      later();
      return { kind: 'waiting', tierName: nameOf(catalog, stored()?.tierKey ?? null) };
    case 'applied': {
      const tierName = nameOf(catalog, result.tierKey);
      if (result.state === 'active' || result.state === 'past_due') {
        const carried = result.carry === null ? null : { tierName: nameOf(catalog, result.carry.tierKey) ?? result.carry.tierKey, until: result.carry.until };
        return { kind: 'active', tierName: tierName ?? 'your tier', linked: result.memberId !== null, carried };
      }
      if (result.state === 'pending' || result.state === 'abandoned') {
        later();
        return { kind: 'waiting', tierName };
      }
      return { kind: 'ended', tierName };
    }
  }
}

/** The approval token PayPal puts in the approve link and hands back on its redirects (`ba_token=BA-…`, `token=…`). */
const APPROVAL_TOKEN = /^[A-Z0-9-]{6,60}$/;

/** What PayPal appends to the return and cancel URLs. */
export interface PaypalRedirectQuery {
  subscriptionId?: string | undefined;
  baToken?: string | undefined;
  token?: string | undefined;
}

/** Ids of pending checkouts whose stored approve link has `token` as a query value. */
function pendingWithToken(store: Store, token: string): string[] {
  if (!APPROVAL_TOKEN.test(token)) return [];
  return listPendingWithApproveToken(store.db, token)
    .filter((row) => carriesToken(row.approveUrl, token))
    .map((row) => row.id);
}

function carriesToken(approveUrl: string | null, token: string): boolean {
  if (approveUrl === null) return false;
  try {
    return [...new URL(approveUrl).searchParams.values()].includes(token);
  } catch {
    return false; // a stored link that is not a URL cannot be this checkout's
  }
}

/**
 * `GET /paypal/cancel`: the buyer left PayPal without approving. The pending
 * checkout (found by its id, or by the approval token in its stored approve
 * link) is marked abandoned; anything else, an active subscription above
 * all (a declined plan change comes back here too), is left alone.
 * Returns the ids marked.
 */
export function abandonCheckout(store: Store, q: PaypalRedirectQuery, now: number): string[] {
  const ids = new Set<string>();
  if (q.subscriptionId !== undefined && SUBSCRIPTION_ID.test(q.subscriptionId) && getSubscription(store.db, q.subscriptionId)?.state === 'pending') ids.add(q.subscriptionId);
  // PayPal's `token` may be the approval token without its `BA-` prefix.
  const tokens = [q.baToken, q.token, q.token === undefined || q.token.startsWith('BA-') ? undefined : `BA-${q.token}`];
  for (const token of tokens) if (token !== undefined) for (const id of pendingWithToken(store, token)) ids.add(id);
  if (ids.size === 0) return [];
  return store.transaction((tx) => [...ids].filter((id) => markSubscriptionAbandoned(tx, id, now)));
}

import type { SubscriptionState } from './subscription-state.ts';

/**
 * What a subscription's state change tells staff (the audit channel) and the
 * member (a DM). Pure; app/apply-subscription.ts records and enqueues them.
 */

export interface Transition {
  memberId: string | null;
  subscriptionId: string;
  /** The stored state before the read; null for a subscription seen for the first time. */
  before: SubscriptionState | null;
  after: SubscriptionState;
  accessUntil: number | null;
  graceUntil: number | null;
  /** Who caused the change, when Concierge knows (e.g. "by the member from Discord"). */
  cause?: string | undefined;
}

export interface TransitionNote {
  kind: `subscription.${SubscriptionState}`;
  severity: 'warning';
  message: string;
}

const fmt = (t: number | null) => (t === null ? 'unknown' : new Date(t).toISOString());

/** The audit entry for a subscription entering a state; null when the state did not change or is not announced. */
export function describeTransition(t: Transition): TransitionNote | null {
  if (t.before === t.after) return null;
  const who = t.memberId === null ? 'An unlinked member’s' : `<@${t.memberId}>`;
  const id = t.subscriptionId;
  let message: string;
  switch (t.after) {
    case 'past_due':
      message = `${who} payment failed on ${id}; access kept until ${fmt(t.graceUntil)}`;
      break;
    case 'suspended':
      message = `${who} subscription ${id} suspended by PayPal; access until ${fmt(t.accessUntil)}`;
      break;
    case 'cancelled':
      message = `${who} subscription ${id} cancelled; access until ${fmt(t.accessUntil)}`;
      break;
    case 'expired':
      message = `${who} subscription ${id} expired; access until ${fmt(t.accessUntil)}`;
      break;
    default:
      // 'active' is announced once, by the tier change it causes (one embed per role change); the rest by what caused them.
      return null;
  }
  return { kind: `subscription.${t.after}`, severity: 'warning', message: t.cause === undefined ? message : `${message} (${t.cause})` };
}

/** A DM to the member (the shape of jobs/definitions.ts DmPayload, which core does not import). */
export interface TransitionDm {
  memberId: string;
  kind: 'payment_failed' | 'cancelled';
  tierKey: string | null;
  until: number | null;
}

/**
 * The DM a state change sends: a failed payment (with the grace end) or a
 * cancellation (with the end of access), naming the tier paid for. Null for
 * an unlinked subscription or any other change.
 */
export function chooseTransitionDm(t: Transition, tier: { paidTierKey: string | null; tierKey: string | null }): TransitionDm | null {
  if (t.memberId === null || t.before === t.after) return null;
  const tierKey = tier.paidTierKey ?? tier.tierKey;
  if (t.after === 'past_due') return { memberId: t.memberId, kind: 'payment_failed', tierKey, until: t.graceUntil };
  if (t.after === 'cancelled') return { memberId: t.memberId, kind: 'cancelled', tierKey, until: t.accessUntil };
  return null;
}

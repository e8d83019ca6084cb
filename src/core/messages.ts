import { listUnlockedScripts, type TierCatalog } from './tiers.ts';

/**
 * What Concierge says, as data: audit-channel embeds and member DMs. Pure
 * (no discord.js): the Discord adapter sends these objects as they are.
 */

export interface Embed {
  title: string;
  description: string;
  color: number;
  timestamp?: string;
  fields?: { name: string; value: string; inline?: boolean }[];
  footer?: { text: string };
}

export const SEVERITY_COLORS = {
  info: 0x5865f2,
  success: 0x57f287,
  warning: 0xfee75c,
  danger: 0xed4245,
} as const;

const TITLES: Record<string, string> = {
  'entitlement.changed': 'Tier changed',
  'payment.recorded': 'Payment recorded',
  'payment.partially_refunded': 'Partial refund (access kept)',
  'payment.uncounted': 'Payment not counted',
  'subscription.active': 'Subscription active',
  'subscription.past_due': 'Payment failed',
  'subscription.suspended': 'Subscription suspended',
  'subscription.cancelled': 'Subscription cancelled',
  'subscription.member_cancelled': 'Cancelled by the member (Discord)',
  'subscription.expired': 'Subscription expired',
  'subscription.revoked': 'Access revoked (refund / chargeback)',
  'subscription.revocation_superseded': 'Refund / chargeback after a later payment (access kept)',
  'subscription.unlinked': 'Subscription without a member',
  'webhook.rejected': 'Rejected webhook (security)',
  'job.dead': 'Job dead-lettered',
  'roles.manual_edit': 'Manual role edit',
  'security.unconfirmed_event': 'Unconfirmed PayPal event (security)',
  'member.joined': 'Member rejoined',
  'dm.closed': 'DM not delivered',
  'discord.setup': 'Discord setup problem',
  'webhook.replayed': 'Webhook replayed (operator)',
  'backup.failed': 'Backup failed',
  'staff.lookup': 'Staff looked up a member',
  'staff.grant': 'Staff grant',
  'staff.extend': 'Staff extended access',
  'staff.revoke': 'Staff revoked access',
  'staff.cancel': 'Staff cancelled a subscription',
  'staff.end_access': 'Staff ended access now',
  'staff.publisher': 'Publisher profile changed',
};

export interface AuditFacts {
  id: number;
  at: number;
  kind: string;
  severity: string;
  message: string;
  memberId: string | null;
  subscriptionId: string | null;
  eventId: string | null;
}

/** One embed per audit entry: colour by severity, and the ids staff search for. */
export function auditEmbed(a: AuditFacts): Embed {
  const fields: Embed['fields'] = [];
  if (a.memberId !== null) fields.push({ name: 'Member', value: `<@${a.memberId}> (${a.memberId})`, inline: true });
  if (a.subscriptionId !== null) fields.push({ name: 'Subscription', value: a.subscriptionId, inline: true });
  if (a.eventId !== null) fields.push({ name: 'PayPal event', value: a.eventId, inline: true });
  const color = SEVERITY_COLORS[a.severity as keyof typeof SEVERITY_COLORS] ?? SEVERITY_COLORS.info;
  return {
    title: TITLES[a.kind] ?? a.kind,
    description: a.message.slice(0, 4000),
    color,
    timestamp: new Date(a.at).toISOString(),
    ...(fields.length > 0 ? { fields } : {}),
    footer: { text: `audit #${a.id} · ${a.kind}` },
  };
}

export type DmKind = 'welcome' | 'payment_failed' | 'cancelled' | 'access_ended' | 'expiry_warning';

export interface DmFacts {
  kind: DmKind;
  tierKey: string | null;
  /** Grace end (payment_failed) or access end (cancelled, expiry_warning). */
  until: number | null;
  serverName: string;
  /** When the DM is written: a cancellation whose access already ended says so instead of "you keep access until". */
  now: number;
}

/** A date the reader's own Discord client renders in their time zone and language (`<t:unix:D>`). */
export function formatDiscordDate(t: number): string {
  return `<t:${Math.floor(t / 1000)}:D>`;
}

/** Date and time, in the reader's time zone (`<t:unix:f>`): for moments that matter to the minute, such as a grant's end. */
export function formatDiscordTime(t: number): string {
  return `<t:${Math.floor(t / 1000)}:f>`;
}

const day = (t: number | null) => (t === null ? 'soon' : formatDiscordDate(t));

/** The member's DM for a lifecycle moment: what happened, until when, and what to do. */
export function memberDm(f: DmFacts, catalog: TierCatalog): Embed {
  const tier = f.tierKey === null ? undefined : catalog.byKey(f.tierKey);
  const tierName = tier?.name ?? 'your tier';
  switch (f.kind) {
    case 'welcome': {
      const unlocked = tier === undefined ? [] : listUnlockedScripts(catalog, tier).map((s) => s.name);
      return {
        title: `Welcome to ${tierName}!`,
        description: `Your ${tierName} membership in **${f.serverName}** is active and your role is on its way.${unlocked.length > 0 ? `\n\nUnlocked: ${unlocked.join(', ')}. Use /scripts to see them.` : ''}\n\nUse /status any time to see your membership.`,
        color: SEVERITY_COLORS.success,
      };
    }
    case 'payment_failed':
      return {
        title: 'Your payment did not go through',
        description: `PayPal could not collect the payment for your ${tierName} membership in **${f.serverName}**. You keep access until ${day(f.until)}.\n\nTo fix it, update your payment method in PayPal (Settings → Payments → Manage automatic payments); PayPal will retry the payment.`,
        color: SEVERITY_COLORS.warning,
      };
    case 'cancelled':
      return {
        title: 'Your membership was cancelled',
        // Under on_cancel: immediate (or with no paid-through known) access ends with the cancel: no "you keep it until today".
        description: `Your ${tierName} membership in **${f.serverName}** is cancelled. ${f.until === null || f.until <= f.now ? 'Your access has ended.' : `You keep access until ${day(f.until)}.`}\n\nChanged your mind? Use /subscribe in the server to start again.`,
        color: SEVERITY_COLORS.warning,
      };
    case 'expiry_warning':
      return {
        title: 'Your membership ends soon',
        description: `Your ${tierName} access in **${f.serverName}** ends on ${day(f.until)} and will not renew.\n\nWant to keep it? Use /subscribe in the server before then.`,
        color: SEVERITY_COLORS.warning,
      };
    case 'access_ended':
      return {
        title: 'Your membership has ended',
        description: `Your ${tierName} access in **${f.serverName}** has ended. Use /subscribe in the server whenever you want it back.`,
        color: SEVERITY_COLORS.info,
      };
  }
}

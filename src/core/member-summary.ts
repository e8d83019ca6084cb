import { entitlement, resolvePaidTiers, pendingDowngrade, type Entitlement, type GrantFacts, type SubscriptionFacts } from './entitlement.ts';
import { formatDiscordDate, SEVERITY_COLORS, type Embed } from './messages.ts';
import { listScriptAccess, type ScriptAccess } from './script-access.ts';
import type { MemberSerial } from './serial.ts';
import { decideAccess } from './subscription-state.ts';
import type { Tier, TierCatalog } from './tiers.ts';

/**
 * The /status embed, from the member's rows, the catalog and `now`. Pure.
 * The tier shown is entitlement()'s answer, the same one role sync acts on,
 * so /status never disagrees with the role the member holds.
 */

/** A stored subscription as /status needs it (SubscriptionRow fits). */
export interface SummarySubscription extends SubscriptionFacts {
  /** Instant upgrades only (the subscription replaced); optional so hand-built facts may leave the paid-plan details out. */
  upgradeFrom?: string | null;
  paidPrice?: string | null;
  paidCurrency?: string | null;
  intervalUnit?: string | null;
  paidUntil?: number | null;
  nextBillingAt: number | null;
  paidThrough: number | null;
  graceUntil: number | null;
  lastPaymentAt: number | null;
  createdAt: number;
}

/** The latest recorded sale (PaymentRow fits). */
export interface SummaryPayment {
  amount: string;
  currency: string;
  /** completed | refunded | reversed | disputed */
  state: string;
  paidAt: number;
}

export interface MemberFacts {
  subscriptions: readonly SummarySubscription[];
  grants: readonly GrantFacts[];
  lastPayment: SummaryPayment | null;
  /** The member's serials, opened (none issued: left out or empty). */
  serials?: readonly MemberSerial[];
}

type Field = NonNullable<Embed['fields']>[number];


/** The tier a subscription was paid for (else the one its plan would buy), under the current file; stored keys cover a plan since removed. */
export function resolveSubscriptionTier(s: Pick<SubscriptionFacts, 'planId' | 'tierKey' | 'paidPlanId' | 'paidTierKey'>, catalog: TierCatalog): Tier | undefined {
  return resolvePaidTiers(s, catalog)?.paid ?? catalog.byPlan(s.planId) ?? (s.tierKey === null ? undefined : catalog.byKey(s.tierKey));
}

const STATE_LABELS: Record<string, string> = {
  active: 'Active',
  past_due: 'Past due (payment failed)',
  cancelled: 'Cancelled',
  suspended: 'Suspended by PayPal',
  expired: 'Expired',
};

export function statusEmbed(f: MemberFacts, catalog: TierCatalog, now: number): Embed {
  const e = entitlement(f.subscriptions, f.grants, catalog, now);
  if (e.tier === null) return noMembershipEmbed(f, catalog, now);
  const { description, fields, color } = e.source.kind === 'subscription' ? subscriptionPart(f, e, catalog, now) : grantPart(f, e);
  const access = listScriptAccess(e.tier, catalog);
  if (access.length > 0) fields.push({ name: 'Scripts', value: `${access.filter((a) => a.unlocked).length} of ${access.length} unlocked — see /scripts`, inline: true });
  const serials = serialsField(access, f.serials ?? []);
  if (serials !== null) fields.push(serials);
  const others = otherAccess(f, e, catalog, now);
  if (others.length > 0) fields.push({ name: 'Also', value: others.join('\n') });
  return { title: `Your membership: ${e.tier.name}`, description, color, fields };
}

type Entitled = Extract<Entitlement, { tier: Tier }>;

function subscriptionPart(f: MemberFacts, e: Entitled, catalog: TierCatalog, now: number): { description: string; fields: Field[]; color: number } {
  const sub = f.subscriptions.find((s) => e.source.kind === 'subscription' && s.id === e.source.id);
  const tier = e.tier.name;
  const until = e.until === null ? 'the end of the paid period' : formatDiscordDate(e.until);
  const fields: Field[] = [
    { name: 'Tier', value: tier, inline: true },
    { name: 'Source', value: `PayPal subscription \`${e.source.kind === 'subscription' ? e.source.id : ''}\``, inline: true },
  ];
  let description: string;
  let color: number = SEVERITY_COLORS.warning;
  switch (sub?.state) {
    case 'active': {
      const renews = sub.nextBillingAt ?? sub.paidThrough;
      description = `Your **${tier}** membership is active.`;
      // An instant upgrade: the fee paid the difference until the old period's end, where regular billing at the new price starts.
      if (sub.upgradeFrom != null && sub.paidPrice != null && renews !== null && sub.nextBillingAt !== null && sub.nextBillingAt === sub.paidUntil) {
        description += ` You upgraded and paid the difference up to ${formatDiscordDate(renews)}; from then PayPal charges ${sub.paidPrice} ${sub.paidCurrency ?? ''} each ${(sub.intervalUnit ?? 'period').toLowerCase()}.`;
      }
      color = SEVERITY_COLORS.success;
      fields.push({ name: 'State', value: STATE_LABELS['active'] ?? 'Active', inline: true }, { name: 'Next billing', value: renews === null ? 'not known yet' : formatDiscordDate(renews), inline: true });
      break;
    }
    case 'past_due':
      description = `PayPal could not collect your last payment. You keep **${tier}** until ${until}. Update your payment method in PayPal (Settings → Payments → Manage automatic payments); PayPal will retry.`;
      fields.push({ name: 'State', value: `${STATE_LABELS['past_due']}; grace until ${sub.graceUntil === null ? 'soon' : formatDiscordDate(sub.graceUntil)}`, inline: true }, { name: 'Access until', value: until, inline: true });
      break;
    case 'cancelled':
      description = `Your subscription is cancelled: nothing more will be charged. You keep **${tier}** until ${until}. Use \`/subscribe\` to start again.`;
      fields.push({ name: 'State', value: STATE_LABELS['cancelled'] ?? 'Cancelled', inline: true }, { name: 'Access until', value: until, inline: true });
      break;
    default:
      // suspended or expired: PayPal stopped billing; access runs out at `until`.
      description = `PayPal ${sub?.state === 'expired' ? 'ended' : 'suspended'} your subscription. You keep **${tier}** until ${until}. Use \`/subscribe\` to start again.`;
      fields.push({ name: 'State', value: STATE_LABELS[sub?.state ?? ''] ?? sub?.state ?? 'unknown', inline: true }, { name: 'Access until', value: until, inline: true });
  }
  const downgrade = sub === undefined ? null : downgradeNote(sub, e, catalog, now);
  if (downgrade !== null) description = `${downgrade}\n\n${description}`;
  fields.push({ name: 'Last payment', value: lastPaymentText(f), inline: true });
  return { description, fields, color };
}

/** "Titan until <date>, then Elite": a downgrade keeps the tier already paid for until the paid period ends. */
function downgradeNote(sub: SummarySubscription, e: Entitled, catalog: TierCatalog, now: number): string | null {
  const d = pendingDowngrade(sub, catalog, now);
  if (d === null || d.paid.key !== e.tier.key) return null;
  const access = decideAccess(sub, now);
  const nextPart = !access.has ? '' : access.until === null ? `, then **${d.next.name}**` : access.until > d.until ? `, then **${d.next.name}** until ${formatDiscordDate(access.until)}` : '';
  return `**${d.paid.name}** until ${formatDiscordDate(d.until)}${nextPart} (you changed plans; you keep what you already paid for).`;
}

function grantPart(f: MemberFacts, e: Entitled): { description: string; fields: Field[]; color: number } {
  const until = e.until === null ? 'No end date' : formatDiscordDate(e.until);
  const fields: Field[] = [
    { name: 'Tier', value: e.tier.name, inline: true },
    { name: 'Source', value: 'Staff grant', inline: true },
    { name: 'Access until', value: until, inline: true },
  ];
  if (f.subscriptions.length > 0) fields.push({ name: 'Last payment', value: lastPaymentText(f), inline: true });
  const description = `Staff granted you **${e.tier.name}**${e.until === null ? ' with no end date' : ` until ${formatDiscordDate(e.until)}`}.`;
  return { description, fields, color: SEVERITY_COLORS.success };
}

function lastPaymentText(f: MemberFacts): string {
  const p = f.lastPayment;
  if (p !== null) return `${p.amount} ${p.currency} on ${formatDiscordDate(p.paidAt)}${p.state === 'completed' ? '' : ` (${p.state})`}`;
  // No sale recorded yet (its webhook may still be on its way): PayPal's billing_info still dates the last payment.
  const at = Math.max(...f.subscriptions.map((s) => s.lastPaymentAt ?? -Infinity));
  return Number.isFinite(at) ? `on ${formatDiscordDate(at)}` : 'none recorded yet';
}

/** Other subscriptions and grants that give access now, besides the one shown (what /cancel would and would not end). */
function otherAccess(f: MemberFacts, e: Entitled, catalog: TierCatalog, now: number): string[] {
  const lines: string[] = [];
  for (const s of f.subscriptions) {
    if (e.source.kind === 'subscription' && s.id === e.source.id) continue;
    const tier = resolveSubscriptionTier(s, catalog);
    if (tier === undefined || !decideAccess(s, now).has) continue;
    lines.push(`${tier.name} through PayPal subscription \`${s.id}\` (${(STATE_LABELS[s.state] ?? s.state).toLowerCase()})`);
  }
  for (const g of f.grants) {
    if ((e.source.kind === 'grant' && g.id === e.source.id) || g.revokedAt !== null || g.startsAt > now || (g.expiresAt !== null && g.expiresAt <= now)) continue;
    const tier = catalog.byKey(g.tierKey);
    if (tier !== undefined) lines.push(`${tier.name} granted by staff${g.expiresAt === null ? '' : ` until ${formatDiscordDate(g.expiresAt)}`}`);
  }
  return lines.slice(0, 5);
}

/** Lines in the Serials field: Discord caps a field value at 1,024 characters, and /scripts lists them all. */
const MAX_SERIAL_LINES = 12;

/** The member's active serials of the scripts their tier unlocks, one per line, as /scripts shows them. */
function serialsField(access: readonly ScriptAccess[], serials: readonly MemberSerial[]): Field | null {
  const active = new Map(serials.filter((s) => s.status === 'active').map((s) => [s.scriptKey, s.serial]));
  const lines = access.flatMap((a) => {
    const serial = a.unlocked ? active.get(a.script.key) : undefined;
    return serial === undefined ? [] : [`${a.script.name.slice(0, 40)}: \`${serial}\``];
  });
  if (lines.length === 0) return null;
  const shown = lines.slice(0, MAX_SERIAL_LINES);
  if (lines.length > shown.length) shown.push(`…and ${lines.length - shown.length} more in /scripts`);
  return { name: 'Serials', value: shown.join('\n') };
}

/** Discord allows 25 fields and 6,000 characters per embed; ten tiers with a short blurb stay well inside. */
const MAX_TIER_FIELDS = 10;

function noMembershipEmbed(f: MemberFacts, catalog: TierCatalog, now: number): Embed {
  const lines = ['You have no membership in this server yet.'];
  const past = pastNote(f, catalog, now);
  if (past !== null) lines[0] = past;
  for (const g of f.grants) {
    const tier = catalog.byKey(g.tierKey);
    if (tier !== undefined && g.revokedAt === null && g.startsAt > now) lines.push(`Staff granted you **${tier.name}** from ${formatDiscordDate(g.startsAt)}.`);
  }
  if (f.subscriptions.some((s) => s.state === 'pending')) lines.push('A subscription is waiting for your approval on PayPal: run `/subscribe` again to get the link.');
  const suspended = (f.serials ?? []).filter((s) => s.status === 'suspended').length;
  if (suspended > 0) lines.push(`Your ${suspended === 1 ? 'serial is' : `${suspended} serials are`} suspended; the same ${suspended === 1 ? 'serial works' : 'serials work'} again once you subscribe.`);
  lines.push('', 'Pick a tier with `/subscribe` and pay with PayPal; your role arrives within seconds.');
  const fields: Field[] = catalog.tiers.slice(0, MAX_TIER_FIELDS).map((t) => ({
    name: t.name,
    value: [t.price ?? 'Price shown in /subscribe', t.description?.slice(0, 150)].filter(Boolean).join('\n'),
    inline: true,
  }));
  if (catalog.tiers.length > MAX_TIER_FIELDS) fields.push({ name: 'More', value: `…and ${catalog.tiers.length - MAX_TIER_FIELDS} more tiers in /subscribe` });
  return { title: 'No membership', description: lines.join('\n'), color: SEVERITY_COLORS.info, fields };
}

/** What ended most recently, so a former member reads why they have nothing now. */
function pastNote(f: MemberFacts, catalog: TierCatalog, now: number): string | null {
  const ended: { at: number; text: string }[] = [];
  for (const s of f.subscriptions) {
    const name = resolveSubscriptionTier(s, catalog)?.name ?? 'previous';
    if (s.revokedAt !== null) ended.push({ at: s.revokedAt, text: `Your **${name}** membership was revoked after a refund or chargeback; ask staff if this is a mistake.` });
    else if (s.accessUntil !== null && s.accessUntil <= now && s.state !== 'active') ended.push({ at: s.accessUntil, text: `Your **${name}** membership ended on ${formatDiscordDate(s.accessUntil)}.` });
  }
  for (const g of f.grants) {
    const name = catalog.byKey(g.tierKey)?.name ?? g.tierKey;
    if (g.revokedAt !== null) ended.push({ at: g.revokedAt, text: `Your staff-granted **${name}** access was revoked on ${formatDiscordDate(g.revokedAt)}.` });
    else if (g.expiresAt !== null && g.expiresAt <= now) ended.push({ at: g.expiresAt, text: `Your staff-granted **${name}** access ended on ${formatDiscordDate(g.expiresAt)}.` });
  }
  return ended.sort((a, b) => b.at - a.at)[0]?.text ?? null;
}

import { entitlement, type GrantFacts } from './entitlement.ts';
import { resolveSubscriptionTier, type SummaryPayment, type SummarySubscription } from './member-summary.ts';
import { formatDiscordDate, formatDiscordTime as time, SEVERITY_COLORS, type Embed } from './messages.ts';
import { maskSerial, type MemberSerial } from './serial.ts';
import type { TierCatalog } from './tiers.ts';

/**
 * The `/admin lookup member` embed: everything staff need on a support call,
 * from the member's rows. Pure. The tier shown is entitlement()'s, the one
 * role sync acts on; serials are masked (the last group tells two apart, the
 * whole serial stays with its member).
 */

export interface LookupGrant extends GrantFacts {
  grantedBy: string;
}

export interface LookupAudit {
  at: number;
  kind: string;
  message: string;
}

export interface LookupFacts {
  memberId: string;
  subscriptions: readonly SummarySubscription[];
  /** The latest recorded sale of each subscription, by subscription id. */
  lastPayments: ReadonlyMap<string, SummaryPayment>;
  grants: readonly LookupGrant[];
  serials: readonly MemberSerial[];
  /** Newest first. */
  audit: readonly LookupAudit[];
}

type Field = NonNullable<Embed['fields']>[number];

/** Discord's cap on a field value. */
const FIELD_MAX = 1024;
/** Each list shows its newest rows; the lookup is a summary, the store keeps the rest. */
const MAX_SUBSCRIPTIONS = 5;
const MAX_GRANTS = 6;
const MAX_SERIALS = 10;
const AUDIT_LINE_MAX = 150;

function clip(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

/** Lines joined into one field value, cut at a line boundary with a count of what was left out. */
function fieldValue(lines: readonly string[], total: number): string {
  const out: string[] = [];
  let length = 0;
  for (const line of lines) {
    if (length + line.length + 40 > FIELD_MAX) break;
    out.push(line);
    length += line.length + 1;
  }
  if (total > out.length) out.push(`…and ${total - out.length} more`);
  return out.join('\n');
}

function entitlementField(f: LookupFacts, catalog: TierCatalog, now: number): Field {
  const e = entitlement(f.subscriptions, f.grants, catalog, now);
  if (e.tier === null) return { name: 'Entitlement', value: 'None' };
  const source = e.source.kind === 'subscription' ? `PayPal subscription \`${e.source.id}\` (${e.source.state})` : `staff grant #${e.source.id}`;
  return { name: 'Entitlement', value: `**${e.tier.name}** from ${source}, until ${e.until === null ? 'no end date' : time(e.until)}` };
}

function subscriptionLines(f: LookupFacts, catalog: TierCatalog): string[] {
  return [...f.subscriptions]
    .sort((a, b) => b.createdAt - a.createdAt)
    .map((s) => {
      const tier = resolveSubscriptionTier(s, catalog)?.name ?? 'no tier';
      const paid = f.lastPayments.get(s.id);
      const last = paid !== undefined ? `${paid.amount} ${paid.currency} ${formatDiscordDate(paid.paidAt)}${paid.state === 'completed' ? '' : ` (${paid.state})`}` : s.lastPaymentAt !== null ? formatDiscordDate(s.lastPaymentAt) : 'none';
      const revoked = s.revokedAt === null ? '' : `, revoked ${formatDiscordDate(s.revokedAt)}`;
      return `\`${s.id}\` ${s.state}${revoked} · plan \`${s.planId}\` (${tier}) · paid through ${s.paidThrough === null ? 'unknown' : formatDiscordDate(s.paidThrough)} · last payment ${last}`;
    });
}

function grantLines(f: LookupFacts, catalog: TierCatalog, now: number): string[] {
  return [...f.grants]
    .sort((a, b) => b.id - a.id)
    .map((g) => {
      const state = g.revokedAt !== null ? `revoked ${formatDiscordDate(g.revokedAt)}` : g.startsAt > now ? `starts ${formatDiscordDate(g.startsAt)}` : g.expiresAt !== null && g.expiresAt <= now ? 'ended' : 'running';
      const until = g.expiresAt === null ? 'lifetime' : `until ${time(g.expiresAt)}`;
      return `#${g.id} **${catalog.byKey(g.tierKey)?.name ?? g.tierKey}** ${until}, ${state}, by <@${g.grantedBy}>`;
    });
}

export function lookupEmbed(f: LookupFacts, catalog: TierCatalog, now: number): Embed {
  const subs = subscriptionLines(f, catalog);
  const grants = grantLines(f, catalog, now);
  const serials = f.serials.map((s) => `${s.scriptKey}: \`${maskSerial(s.serial)}\` (${s.status})`);
  const audit = f.audit.map((a) => `${time(a.at)} ${a.kind}: ${clip(a.message, AUDIT_LINE_MAX)}`);
  return {
    title: 'Member lookup',
    description: `<@${f.memberId}> (${f.memberId})`,
    color: SEVERITY_COLORS.info,
    fields: [
      entitlementField(f, catalog, now),
      { name: `Subscriptions (${subs.length})`, value: subs.length === 0 ? 'None' : fieldValue(subs.slice(0, MAX_SUBSCRIPTIONS), subs.length) },
      { name: `Grants (${grants.length})`, value: grants.length === 0 ? 'None' : fieldValue(grants.slice(0, MAX_GRANTS), grants.length) },
      { name: `Serials (${serials.length})`, value: serials.length === 0 ? 'None' : fieldValue(serials.slice(0, MAX_SERIALS), serials.length) },
      { name: 'Last audit entries', value: audit.length === 0 ? 'None' : fieldValue(audit, audit.length) },
    ],
  };
}

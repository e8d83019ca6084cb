import type { CheckoutOutcome } from './checkout.ts';
import { formatDiscordDate, SEVERITY_COLORS, type Embed } from './messages.ts';
import { listUnlockedScripts, type Tier, type TierCatalog } from './tiers.ts';

/**
 * What `/subscribe` shows the member, as data (pure, no discord.js): a line
 * of text, or an embed describing the tier with a link to PayPal that the
 * Discord adapter turns into a link button.
 */

export interface CheckoutReply {
  content?: string;
  embed?: Embed;
  /** A link button: where the member approves on PayPal. */
  link?: { label: string; url: string };
}


function tierFields(tier: Tier, catalog: TierCatalog, plan: { name: string } | null): NonNullable<Embed['fields']> {
  const fields: NonNullable<Embed['fields']> = [];
  if (tier.price) fields.push({ name: 'Price', value: tier.price, inline: true });
  if (plan !== null && tier.plan_options.length > 1) fields.push({ name: 'Plan', value: plan.name, inline: true });
  const scripts = listUnlockedScripts(catalog, tier).map((s) => s.name);
  fields.push({ name: 'Unlocks', value: scripts.length > 0 ? `The ${tier.name} role and ${scripts.join(', ')}` : `The ${tier.name} role` });
  return fields;
}

export function checkoutReply(o: CheckoutOutcome, catalog: TierCatalog, serverName: string): CheckoutReply {
  switch (o.kind) {
    case 'refused':
      return { content: o.message };
    case 'held-subscription':
      if (o.pastDueUntil !== null) {
        return {
          content: `You already have **${o.tier.name}**, but PayPal could not collect your last payment: update your payment method on PayPal before ${formatDiscordDate(o.pastDueUntil)} to keep it (PayPal retries the payment by itself).`,
        };
      }
      return {
        content: `You already have **${o.tier.name}** in **${serverName}**: ${o.renewsAt === null ? 'your subscription is active' : `your subscription renews on ${formatDiscordDate(o.renewsAt)}`}. Use /status to see it.`,
      };
    case 'checkout':
      return {
        embed: {
          title: `Subscribe to ${o.tier.name}`,
          description: `${o.tier.description ? `${o.tier.description}\n\n` : ''}Approve the subscription on PayPal: your **${o.tier.name}** role in **${serverName}** arrives as soon as PayPal confirms, usually within seconds.`,
          color: SEVERITY_COLORS.info,
          fields: tierFields(o.tier, catalog, o.plan),
          footer: {
            text: `${o.reused ? 'This is the link from your earlier /subscribe. ' : ''}Nothing is charged until you approve on PayPal. The link is yours alone and works for about 3 hours.`,
          },
        },
        link: { label: 'Pay with PayPal', url: o.approveUrl },
      };
    case 'changing': {
      const when = o.paidThrough === null ? 'the end of the period you paid for' : `${formatDiscordDate(o.paidThrough)}, the end of the period you paid for`;
      const what =
        o.direction === 'upgrade'
          ? `your subscription moves from ${o.from.name} to **${o.tier.name}** at your next billing date: PayPal charges the new price from then, and ${o.tier.name} takes effect once that payment completes. You keep ${o.from.name} until then.`
          : o.direction === 'downgrade'
            ? `your subscription moves from ${o.from.name} to **${o.tier.name}**. You keep ${o.from.name} until ${when}; ${o.tier.name} starts then.`
            : `your ${o.tier.name} subscription moves to the **${o.plan.name}** plan.`;
      const title = o.direction === 'upgrade' ? `Upgrade to ${o.tier.name}` : o.direction === 'downgrade' ? `Change to ${o.tier.name}` : `Switch ${o.tier.name} to ${o.plan.name}`;
      const lead = o.approveUrl === null ? 'PayPal accepted the change without needing your approval:' : 'Approve the change on PayPal (it shows the new price first):';
      return {
        embed: {
          title,
          description: `${lead} ${what}${o.approveUrl === null ? ' This usually takes under a minute.' : ''}`,
          color: SEVERITY_COLORS.info,
          fields: tierFields(o.tier, catalog, o.plan),
          ...(o.approveUrl === null ? {} : { footer: { text: 'Nothing changes until you approve on PayPal.' } }),
        },
        ...(o.approveUrl === null ? {} : { link: { label: 'Approve on PayPal', url: o.approveUrl } }),
      };
    }
    case 'upgrading':
      return {
        embed: {
          title: `Upgrade to ${o.tier.name} now`,
          description:
            `Approve on PayPal and pay **${o.fee} ${o.currency} today**: the difference for the rest of the period you already paid for, until ${formatDiscordDate(o.startsAt)}. ` +
            `Your **${o.tier.name}** role arrives as soon as PayPal confirms that payment; your ${o.from.name} subscription then ends, with nothing more charged for it. ` +
            `From ${formatDiscordDate(o.startsAt)} the new subscription renews at **${o.price}**.`,
          color: SEVERITY_COLORS.info,
          fields: [{ name: 'Today', value: `${o.fee} ${o.currency}`, inline: true }, { name: `From ${formatDiscordDate(o.startsAt)}`, value: o.price, inline: true }, ...tierFields(o.tier, catalog, o.plan).slice(-1)],
          footer: { text: `${o.reused ? 'This is the link from your earlier /subscribe. ' : ''}Nothing is charged until you approve on PayPal. The link works for about 3 hours.` },
        },
        link: { label: `Pay ${o.fee} ${o.currency} with PayPal`, url: o.approveUrl },
      };
  }
}

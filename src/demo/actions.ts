import type { APIMessage } from 'discord-api-types/v10';
import type { InteractionHandle } from '../stand-ins/discord/interactions.ts';
import type { MessageBody } from '../stand-ins/discord/validate-message.ts';
import type { WebhookEvent } from '../stand-ins/paypal/events.ts';
import type { StoredSale, StoredSubscription } from '../stand-ins/paypal/state.ts';
import type { Stage } from './stage.ts';

/**
 * What a member, PayPal or a moderator can do, each through the real
 * interfaces: slash commands and buttons dispatched by the Discord stand-in to
 * Concierge's discord.js client, the approve link and the return page, signed
 * webhooks, edits in the Discord client. Each call returns what the person
 * would see; the story and `--serve` buttons both use these.
 */

export interface Reply {
  /** The reply as the member reads it: content, embed titles, descriptions and fields. */
  text: string;
  title: string | null;
  /** The "Pay with PayPal" link button, when the reply has one. */
  approveUrl: string | null;
  buttons: { customId: string | null; label: string }[];
}

export interface Delivery {
  event: WebhookEvent<unknown>;
  status: number;
  body: string;
}

const REPLY_TIMEOUT_MS = 10_000;

/** A message body as plain text (Discord's markdown kept). */
export function textOf(b: MessageBody | APIMessage | undefined): string {
  const embeds = (b?.embeds ?? []) as { title?: string; description?: string; fields?: { name: string; value: string }[] }[];
  return [b?.content ?? '', ...embeds.flatMap((e) => [e.title ?? '', e.description ?? '', ...(e.fields ?? []).map((f) => `${f.name}: ${f.value}`)])].filter((s) => s !== '').join('\n');
}

function replyOf(b: MessageBody | undefined): Reply {
  const rows = (b?.components ?? []) as { components?: { url?: string; custom_id?: string; label?: string }[] }[];
  const buttons = rows.flatMap((r) => r.components ?? []);
  const embeds = (b?.embeds ?? []) as { title?: string }[];
  return {
    text: textOf(b),
    title: embeds[0]?.title ?? null,
    approveUrl: buttons.find((x) => x.url !== undefined)?.url ?? null,
    buttons: buttons.map((x) => ({ customId: x.custom_id ?? null, label: x.label ?? '' })),
  };
}

export interface LicenseAnswer {
  status: number;
  retryAfter: string | null;
  body: string;
}

export type Actions = ReturnType<typeof createActions>;

export function createActions(stage: Stage) {
  const { discord, paypal } = stage;

  /** The member's subscriptions at PayPal, newest first. */
  const subscriptionsOf = (userId: string): StoredSubscription[] =>
    paypal
      .subscriptions()
      .filter((s) => s.customId === userId)
      .sort((a, b) => Date.parse(b.createTime) - Date.parse(a.createTime));

  /** The subscription PayPal bills the member on now (ACTIVE, newest). */
  function billedSubscription(userId: string): StoredSubscription {
    const s = subscriptionsOf(userId).find((x) => x.status === 'ACTIVE');
    if (s === undefined) throw new Error(`member ${userId} has no ACTIVE subscription at PayPal`);
    return s;
  }

  async function deliver(event: WebhookEvent<unknown>, opts: { tamper?: 'body' | 'signature' } = {}): Promise<Delivery> {
    const answer = await stage.deliver(event, opts);
    return { event, ...answer };
  }

  /** A slash command whose reply may be deferred: the reply the member ends up with. */
  async function command(name: string, userId: string, options: Record<string, string> = {}): Promise<Reply> {
    const handle = discord.interact({ type: 'command', name, userId, options });
    const first = await handle.response(REPLY_TIMEOUT_MS);
    if (!first.accepted) throw new Error(`/${name}: Discord refused Concierge's answer (${first.status})`);
    if (first.type !== 5) return replyOf(first.data);
    const [edit] = await handle.waitForEdits(1, REPLY_TIMEOUT_MS);
    return replyOf(edit?.body);
  }

  /** Clicks a button on a message the member can see; the message as it ends up. */
  async function click(userId: string, customId: string): Promise<Reply> {
    const handle = discord.interact({ type: 'button', customId, userId });
    const first = await handle.response(REPLY_TIMEOUT_MS);
    if (first.type !== 6) return replyOf(first.data);
    const [edit] = await handle.waitForEdits(1, REPLY_TIMEOUT_MS);
    return replyOf(edit?.body);
  }

  /**
   * A staff command (/admin, /publisher: deferred and ephemeral) run by `userId`: the reply it first
   * becomes, and the interaction, for replies edited as the work goes on (/admin resync) or carrying a file.
   */
  async function staff(command: 'admin' | 'publisher', subcommand: string, userId: string, options: Record<string, string> = {}): Promise<{ reply: Reply; handle: InteractionHandle }> {
    const handle = discord.interact({ type: 'command', name: command, subcommand, userId, options });
    const first = await handle.response(REPLY_TIMEOUT_MS);
    if (!first.accepted) throw new Error(`/${command} ${subcommand}: Discord refused Concierge's answer (${first.status})`);
    if (first.type !== 5) return { reply: replyOf(first.data), handle };
    const [edit] = await handle.waitForEdits(1, REPLY_TIMEOUT_MS);
    return { reply: replyOf(edit?.body), handle };
  }

  return {
    subscriptionsOf,
    billedSubscription,
    staff,
    /** Clicks a button (by custom id) on a message the user can see; the message as it ends up. */
    click,
    /** A file the bot attached to a message, as text (by the attachment's URL). */
    attachmentText: (url: string): string | null => discord.attachment(url)?.toString('utf8') ?? null,

    /** A script asks the license API about a serial, from `clientIp` (forwarded by the proxy in front, as nginx does). */
    async verifyLicense(serial: string, script: string, clientIp: string): Promise<LicenseAnswer> {
      const res = await fetch(`${stage.serviceUrl}/api/v1/licenses/verify`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-forwarded-for': clientIp },
        body: JSON.stringify({ serial, script }),
      });
      return { status: res.status, retryAfter: res.headers.get('retry-after'), body: await res.text() };
    },

    /** A person joins the server (a rejoin is the same call). */
    join(userId: string, username: string): void {
      discord.addMember(userId, { username });
    },
    leave(userId: string): void {
      discord.removeMember(userId);
    },

    subscribe: (userId: string, tierKey: string): Promise<Reply> => command('subscribe', userId, { tier: tierKey }),
    status: (userId: string): Promise<Reply> => command('status', userId),
    scripts: (userId: string): Promise<Reply> => command('scripts', userId),

    /** /cancel, then Confirm (or Keep) on the question. */
    async cancel(userId: string, answer: 'confirm' | 'keep' = 'confirm'): Promise<{ question: Reply; result: Reply }> {
      const question = await command('cancel', userId);
      const button = question.buttons.find((b) => b.customId?.includes(`:${answer}:`));
      if (button?.customId == null) throw new Error(`/cancel offered no ${answer} button: ${question.text}`);
      return { question, result: await click(userId, button.customId) };
    },

    /** The buyer follows the approve link: PayPal approves and sends them to Concierge's return page. */
    async approve(approveUrl: string): Promise<{ status: number; heading: string; text: string }> {
      const res = await fetch(approveUrl, { redirect: 'manual' });
      const back = res.headers.get('location');
      if (res.status !== 302 || back === null) throw new Error(`PayPal's approve page answered ${res.status}`);
      const page = await fetch(back);
      const html = await page.text();
      const plain = (s: string) =>
        s
          .replace(/<[^>]+>/g, ' ')
          .replace(/&amp;/g, '&')
          .replace(/&#39;|&#x27;|&apos;/g, "'")
          .replace(/&quot;/g, '"')
          .replace(/\s+/g, ' ')
          .trim();
      const heading = plain(/<h1>([\s\S]*?)<\/h1>/.exec(html)?.[1] ?? '');
      return { status: page.status, heading, text: plain(html.replace(/<head>[\s\S]*?<\/head>/, '')) };
    },

    /** PayPal charges the renewal and tells Concierge. */
    async renew(userId: string): Promise<{ sale: StoredSale; delivery: Delivery }> {
      const sale = paypal.recordPayment(billedSubscription(userId).id);
      return { sale, delivery: await deliver(paypal.saleEvent('PAYMENT.SALE.COMPLETED', sale.id)) };
    },

    /** PayPal's renewal charge is declined; it tells Concierge. */
    async failPayment(userId: string): Promise<Delivery> {
      const s = billedSubscription(userId);
      paypal.failPayment(s.id);
      return deliver(paypal.subscriptionEvent('BILLING.SUBSCRIPTION.PAYMENT.FAILED', s.id));
    },

    /** The member cancels on PayPal's site (not through /cancel); PayPal tells Concierge. */
    async cancelAtPaypal(userId: string): Promise<Delivery> {
      const s = billedSubscription(userId);
      paypal.setStatus(s.id, 'CANCELLED');
      return deliver(paypal.subscriptionEvent('BILLING.SUBSCRIPTION.CANCELLED', s.id));
    },

    /**
     * A refund of the member's latest payment. `confirmed`: PayPal really refunded it, then notified;
     * otherwise only a validly signed notification arrives that PayPal's records do not back.
     */
    async refund(userId: string, confirmed: boolean): Promise<Delivery> {
      const s = subscriptionsOf(userId).find((x) => x.sales.length > 0);
      const sale = s?.sales.at(-1);
      if (sale === undefined) throw new Error(`member ${userId} has no payment to refund`);
      if (confirmed) paypal.refundSale(sale.id);
      return deliver(paypal.saleEvent('PAYMENT.SALE.REFUNDED', sale.id));
    },

    /** Sends an event again exactly as before (PayPal retries; a network replays). */
    deliverAgain: (event: WebhookEvent<unknown>): Promise<Delivery> => deliver(event),

    /** Someone who is not PayPal posts `event` with a signature that does not verify. */
    forge: (event: WebhookEvent<unknown>): Promise<Delivery> => deliver(event, { tamper: 'signature' }),

    /** A moderator sets the member's roles by hand in the Discord client (role ids). */
    editRoles(userId: string, roleIds: readonly string[]): void {
      discord.setMemberRoles(userId, roleIds, { reason: 'edited by hand' });
    },

    /** The member's tier role names at Discord now, highest first; null when not in the server. */
    tierRoles(userId: string): string[] | null {
      const roles = discord.member(userId);
      if (roles === undefined) return null;
      return [...stage.catalog.tiers]
        .reverse()
        .filter((t) => roles.includes(t.role_id))
        .map((t) => t.name);
    },

    /** The audit channel's messages about a member (newest last). */
    auditAbout: (userId: string): APIMessage[] => discord.messages(discord.auditChannelId).filter((m) => JSON.stringify(m.embeds).includes(userId)),
    dms: (userId: string): APIMessage[] => discord.dms(userId),
  };
}

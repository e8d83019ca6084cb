import { randomBytes } from 'node:crypto';
import { Events, MessageFlags, type ButtonInteraction, type ChatInputCommandInteraction, type Client, type Interaction } from 'discord.js';
import { ConciergeError } from '../errors.ts';
import type { Logger } from '../log.ts';
import { MemberFacingError, type ButtonHandler, type CommandReply, type Invocation, type SlashCommand } from './commands/types.ts';

/**
 * The one INTERACTION_CREATE listener: finds the command or button, enforces
 * the interaction rules (configured guild only, ephemeral replies, defer
 * before slow work, per-member cooldowns, button owner and expiry), runs the
 * handler and turns any failure into a short message with a reference id
 * that is also in the log line with the detail.
 */

export interface InteractionRouterOptions {
  guildId: string;
  commands: readonly SlashCommand[];
  buttons: readonly ButtonHandler[];
  clock: () => number;
  log: Logger;
}

interface Cooldown {
  until: number;
  /** The request's identity (command + options); a repeat of it shares `answer`. */
  key: string;
  /** The reply, failures already turned into a message (never rejects). */
  answer: Promise<CommandReply>;
}

const EPHEMERAL = MessageFlags.Ephemeral;

/** A short id the member can quote and staff can grep for. */
function referenceId(): string {
  return randomBytes(4).toString('hex');
}

/** What the member reads when a handler failed; the detail stays in the log. */
function failureReply(err: unknown, ref: string): CommandReply {
  if (err instanceof MemberFacingError) return { content: err.message };
  if (err instanceof ConciergeError && err.code.startsWith('paypal_') && err.retry) {
    return { content: `PayPal is not answering right now, so nothing was changed. Please try again in a few minutes. (reference \`${ref}\`)` };
  }
  return { content: `Something went wrong on our side and nothing was changed. Please try again later; if it keeps happening, give staff the reference \`${ref}\`.` };
}

function optionKey(i: ChatInputCommandInteraction): string {
  const parts = [i.commandName, i.options.getSubcommand(false) ?? ''];
  for (const o of i.options.data) parts.push(`${o.name}=${String(o.value ?? '')}`);
  return parts.join('|');
}

export function registerInteractions(client: Client, o: InteractionRouterOptions): void {
  const commands = new Map(o.commands.map((c) => [c.name, c]));
  const buttons = new Map(o.buttons.map((b) => [b.prefix, b]));
  const cooldowns = new Map<string, Cooldown>();

  function invocation(i: Interaction, log: Logger): Invocation {
    return { userId: i.user.id, now: o.clock(), log };
  }

  async function runCommand(i: ChatInputCommandInteraction): Promise<void> {
    const log = o.log.child({ interactionId: i.id, command: i.commandName, userId: i.user.id });
    const command = commands.get(i.commandName);
    if (command === undefined) {
      await i.reply({ content: 'This command is not available any more.', flags: EPHEMERAL });
      return;
    }
    const inv = invocation(i, log);
    const key = optionKey(i);
    const slot = `${command.name}:${i.user.id}`;
    const previous = cooldowns.get(slot);
    if (previous !== undefined && previous.until > inv.now && previous.key !== key) {
      const wait = Math.ceil((previous.until - inv.now) / 1000);
      await i.reply({ content: `Please wait ${wait} s before using /${command.name} again.`, flags: EPHEMERAL });
      return;
    }
    // The cooldown entry is taken before the first await: a second click arriving while this one defers must find it.
    let answer: Promise<CommandReply>;
    if (previous !== undefined && previous.until > inv.now) {
      log.info('repeat inside the cooldown: answering with the first request’s result');
      answer = previous.answer;
    } else {
      const run = command.run(i, inv);
      // Settled once: a failure is logged with one reference id, whoever else waits on it.
      answer = run.catch((err: unknown) => failed(err, log));
      if (command.cooldownMs !== undefined) {
        const entry: Cooldown = { until: inv.now + command.cooldownMs, key, answer };
        cooldowns.set(slot, entry);
        // A failed request does not hold the member back.
        run.catch(() => cooldowns.get(slot) === entry && cooldowns.delete(slot));
        pruneCooldowns(inv.now);
      }
    }
    const defer = typeof command.defer === 'function' ? command.defer(i) : command.defer;
    if (defer) await i.deferReply({ flags: EPHEMERAL });
    const reply = await answer;
    if (defer) await i.editReply(reply);
    else await i.reply({ ...reply, flags: EPHEMERAL });
  }

  async function runButton(i: ButtonInteraction): Promise<void> {
    const [prefix = '', ownerId = '', issuedAt = '', ...args] = i.customId.split(':');
    const log = o.log.child({ interactionId: i.id, button: prefix, userId: i.user.id });
    const handler = buttons.get(prefix);
    if (handler === undefined) {
      await i.reply({ content: 'This button is not in use any more.', flags: EPHEMERAL });
      return;
    }
    if (ownerId !== i.user.id) {
      log.warn({ ownerId }, 'button clicked by someone other than its owner');
      await i.reply({ content: 'This button belongs to someone else’s request; run the command yourself.', flags: EPHEMERAL });
      return;
    }
    const inv = invocation(i, log);
    const issued = Number(issuedAt) * 1000;
    if (!Number.isFinite(issued) || inv.now - issued > handler.ttlMs) {
      await i.update(clearComponents(handler.expired()));
      return;
    }
    if (handler.defer) await i.deferUpdate();
    const reply = await handler.run(i, inv, args).catch((err: unknown) => failed(err, log));
    // Otherwise running the command again inside the cooldown would replay the question just answered.
    cooldowns.delete(`${prefix}:${i.user.id}`);
    if (handler.defer) await i.editReply(clearComponents(reply));
    else await i.update(clearComponents(reply));
  }

  function failed(err: unknown, log: Logger): CommandReply {
    if (err instanceof MemberFacingError) {
      log.info({ reason: err.message }, 'request refused');
      return failureReply(err, '');
    }
    const ref = referenceId();
    log.error({ err, ref }, 'interaction failed');
    return failureReply(err, ref);
  }

  function pruneCooldowns(now: number): void {
    if (cooldowns.size < 1000) return;
    for (const [slot, c] of cooldowns) if (c.until <= now) cooldowns.delete(slot);
  }

  client.on(Events.InteractionCreate, (i: Interaction) => {
    if (i.user.bot) return;
    if (i.guildId !== o.guildId) {
      if (i.isRepliable()) void i.reply({ content: 'Use Concierge’s commands in the server.', flags: EPHEMERAL }).catch(() => undefined);
      return;
    }
    const work = i.isChatInputCommand() ? runCommand(i) : i.isButton() ? runButton(i) : null;
    // Only Discord itself can fail here (the interaction expired, the network): nothing to tell the member.
    work?.catch((err: unknown) => o.log.warn({ err, interactionId: i.id }, 'could not answer an interaction'));
  });
}

/** A reply without components unless it brings its own: a used or expired button must not stay clickable. */
function clearComponents(r: CommandReply): CommandReply {
  return { content: r.content ?? '', embeds: r.embeds ?? [], components: r.components ?? [] };
}

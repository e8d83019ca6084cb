import type { ButtonInteraction, ChatInputCommandInteraction } from 'discord.js';
import type { APIActionRowComponent, APIButtonComponent } from 'discord-api-types/v10';
import type { AdminMaintenance } from './admin-maintenance.ts';
import type { Embed } from '../../core/messages.ts';
import type { Logger } from '../../log.ts';
import type { PaypalClient } from '../../paypal/client.ts';
import type { Store } from '../../store/db.ts';
import type { TiersSource } from '../../tiers.ts';
import type { MemberEffects } from '../../app/member-effects.ts';

/**
 * The seams between the interaction router (src/discord/interactions.ts) and
 * the member commands: a command returns what to show, as data; the router
 * does the Discord part (defer, ephemeral reply, errors with a reference id,
 * cooldowns, button ownership and expiry).
 */

/** What a command or a button shows the member (always ephemeral). */
export interface CommandReply {
  content?: string;
  embeds?: Embed[];
  components?: APIActionRowComponent<APIButtonComponent>[];
}

/** Who is asking, already checked by the router (right guild, not a bot). */
export interface Invocation {
  userId: string;
  now: number;
  /** Logger bound to this interaction (command, user, interaction id). */
  log: Logger;
}

export interface SlashCommand {
  name: string;
  /**
   * Defer (ephemeral "thinking…") before running: required when the handler
   * calls PayPal, whose answer may take longer than Discord's 3 s. A function
   * decides per interaction (per subcommand): an answer from the store alone
   * goes out in the interaction's own callback, one round trip and outside
   * the bot's global request limit, which the deferred reply's edit is not.
   */
  defer: boolean | ((i: ChatInputCommandInteraction) => boolean);
  /**
   * Per-member cooldown. A repeat of the same request (same options) inside it
   * gets the first request's answer (a double click does the work once); a
   * different request is asked to wait.
   */
  cooldownMs?: number;
  run(i: ChatInputCommandInteraction, inv: Invocation): Promise<CommandReply>;
}

/**
 * A button Concierge put on an ephemeral reply. Its custom id is
 * `<prefix>:<ownerId>:<issuedAtSeconds>[:args…]` (build it with `buttonId`):
 * the router refuses a click by anyone but the owner and answers an expired
 * click without running the handler.
 */
export interface ButtonHandler {
  /** When it names a command (e.g. `cancel`), using the button ends the member's cooldown on that command: the question was answered. */
  prefix: string;
  /** How long after issue the button may be used. */
  ttlMs: number;
  /** Defer the update (the message keeps showing) before running: required when the handler calls PayPal. */
  defer: boolean;
  /** Replaces the message the button is on. */
  run(i: ButtonInteraction, inv: Invocation, args: readonly string[]): Promise<CommandReply>;
  /** What the message becomes when the button is clicked after `ttlMs`. */
  expired(): CommandReply;
}

/** Thrown by a command for a problem the member can fix: shown as-is, logged at info, no reference id. */
export class MemberFacingError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MemberFacingError';
  }
}

/** Everything the member commands need, wired by service.ts. */
export interface CommandDeps {
  store: Store;
  tiers: TiersSource;
  paypal: PaypalClient;
  clock: () => number;
  /** The serial key and the marketplace switch, for the use cases that recompute or show a member (app/member-effects.ts). */
  effects: MemberEffects;
  /** `PUBLIC_URL`: return and cancel URLs given to PayPal live under it. */
  publicUrl: string;
  /** The guild's name, for replies ("You are now Titan in <server>"). */
  serverName(): string;
  log: Logger;
  /** `/admin resync`, `export` and `reconcile` (admin-maintenance.ts); absent where no service runs them. */
  maintenance?: AdminMaintenance;
}

/** `<prefix>:<ownerId>:<issuedAtSeconds>[:args…]`; Discord allows 100 characters. */
export function buttonId(prefix: string, ownerId: string, now: number, ...args: string[]): string {
  const id = [prefix, ownerId, String(Math.floor(now / 1000)), ...args].join(':');
  if (id.length > 100) throw new Error(`button custom id over 100 characters: ${id}`);
  return id;
}

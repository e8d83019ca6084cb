import type { ChatInputCommandInteraction, User } from 'discord.js';
import { extendAccess } from '../../app/extend-access.ts';
import { grantAccess } from '../../app/grant-access.ts';
import { lookupMember } from '../../app/lookup-member.ts';
import { LIFETIME, parseDuration, type Duration } from '../../core/duration.ts';
import { lookupEmbed } from '../../core/member-lookup.ts';
import { extendReply, grantReply } from '../../core/staff-replies.ts';
import { MemberFacingError, type CommandDeps, type CommandReply, type Invocation } from './types.ts';

/**
 * `/admin lookup`, `grant` and `extend`: read the options, call the use
 * case, turn its answer into the staff member's reply. The staff check has
 * passed (admin.ts); every refusal is a MemberFacingError, shown as-is.
 */

/** The `member` option: a person, not a bot (bots hold no tiers). */
export function targetMember(i: ChatInputCommandInteraction): User {
  const user = i.options.getUser('member', true);
  if (user.bot) throw new MemberFacingError(`<@${user.id}> is a bot; bots hold no membership.`);
  return user;
}

function durationOption(i: ChatInputCommandInteraction, required: boolean): { duration: Duration; defaulted: boolean } {
  const text = i.options.getString('duration', required);
  // Grant's duration is optional: a comp without one lasts until revoked, the plainest reading of "grant".
  if (text === null) return { duration: LIFETIME, defaulted: true };
  const parsed = parseDuration(text);
  if (!parsed.ok) throw new MemberFacingError(parsed.message);
  return { duration: parsed.duration, defaulted: false };
}

export async function runLookup(deps: CommandDeps, i: ChatInputCommandInteraction, inv: Invocation): Promise<CommandReply> {
  const member = targetMember(i);
  const facts = lookupMember(deps, { actorId: inv.userId, memberId: member.id }, inv.now);
  inv.log.info({ memberId: member.id }, '/admin lookup');
  return { embeds: [lookupEmbed(facts, deps.tiers.current(), inv.now)] };
}

export async function runGrant(deps: CommandDeps, i: ChatInputCommandInteraction, inv: Invocation): Promise<CommandReply> {
  const member = targetMember(i);
  const { duration, defaulted } = durationOption(i, false);
  const outcome = grantAccess(deps, { actorId: inv.userId, memberId: member.id, tierKey: i.options.getString('tier', true), duration }, inv.now);
  if (outcome.kind === 'unknown_tier') throw new MemberFacingError(`There is no tier \`${outcome.tierKey}\` in the tiers file any more; run the command again to see the current tiers.`);
  inv.log.info({ memberId: member.id, tier: outcome.tier.key, grantId: outcome.grantId, expiresAt: outcome.expiresAt }, '/admin grant');
  return { content: grantReply({ memberId: member.id, tier: outcome.tier, duration, defaulted, expiresAt: outcome.expiresAt, grantId: outcome.grantId, held: outcome.after }) };
}

export async function runExtend(deps: CommandDeps, i: ChatInputCommandInteraction, inv: Invocation): Promise<CommandReply> {
  const member = targetMember(i);
  const { duration } = durationOption(i, true);
  const outcome = extendAccess(deps, { actorId: inv.userId, memberId: member.id, duration }, inv.now);
  if (outcome.kind === 'refused') throw new MemberFacingError(outcome.message);
  inv.log.info({ memberId: member.id, kind: outcome.plan.kind, tier: outcome.plan.tier.key }, '/admin extend');
  return { content: extendReply(member.id, outcome.summary, outcome.after) };
}

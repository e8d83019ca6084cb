import { ButtonStyle, ComponentType } from 'discord-api-types/v10';
import type { ChatInputCommandInteraction } from 'discord.js';
import { cancelRevokedSubscription, revokeAccess } from '../../app/revoke-access.ts';
import { NOTHING_TO_REVOKE, revokeDecisionText, revokeEmbed, STALE_REVOKE } from '../../core/staff-replies.ts';
import { targetMember } from './admin-access.ts';
import { assertStaff } from './admin-guard.ts';
import { buttonId, MemberFacingError, type ButtonHandler, type CommandDeps, type CommandReply, type Invocation } from './types.ts';

/**
 * `/admin revoke member [reason]`: grants end at once; a PayPal subscription
 * still giving access gets buttons under the reply (cancel at PayPal, or
 * cancel and end access now). A button's custom id is
 * `admin-revoke:<staff>:<issued>:<cancel|end>:<member>:<auditId>`: the
 * router lets only the staff member who ran the revoke click it, within
 * BUTTON_TTL_MS; the handler checks staff again, and the use case checks the
 * audit entry is that member's revoke and the subscription still theirs. The
 * reason and subscription are read back from that entry, not from the id.
 */

const PREFIX = 'admin-revoke';
const BUTTON_TTL_MS = 5 * 60_000;

export async function runRevoke(deps: CommandDeps, i: ChatInputCommandInteraction, inv: Invocation): Promise<CommandReply> {
  const member = targetMember(i);
  const reason = i.options.getString('reason')?.trim() || null;
  const outcome = revokeAccess(deps, { actorId: inv.userId, memberId: member.id, reason }, inv.now);
  if (outcome.kind === 'nothing') return { content: NOTHING_TO_REVOKE(member.id) };
  inv.log.info({ memberId: member.id, grantsEnded: outcome.grantsEnded, subscriptionId: outcome.subscription?.id ?? null, auditId: outcome.auditId }, '/admin revoke');
  const embed = revokeEmbed(
    { memberId: member.id, grantsEnded: outcome.grantsEnded, held: outcome.after, subscription: outcome.subscription, onCancel: deps.tiers.current().policy.on_cancel, buttonMinutes: BUTTON_TTL_MS / 60_000 },
    inv.now,
  );
  const s = outcome.subscription;
  if (s === null) return { embeds: [embed] };
  // About 80 characters with 19-digit ids; buttonId refuses anything over Discord's 100.
  const id = (action: 'cancel' | 'end') => buttonId(PREFIX, inv.userId, inv.now, action, member.id, String(outcome.auditId));
  const cancel = { type: ComponentType.Button as const, style: ButtonStyle.Danger as const, label: 'Cancel at PayPal', custom_id: id('cancel') };
  const end = { type: ComponentType.Button as const, style: ButtonStyle.Danger as const, label: s.cancellable ? 'Cancel and end access now' : 'End access now', custom_id: id('end') };
  return { embeds: [embed], components: [{ type: ComponentType.ActionRow, components: s.cancellable ? [cancel, end] : [end] }] };
}

export function adminRevokeButton(deps: CommandDeps): ButtonHandler {
  return {
    prefix: PREFIX,
    ttlMs: BUTTON_TTL_MS,
    // Both buttons call PayPal (a cancel, or a no-op for one already cancelled).
    defer: true,
    run: async (i, inv, [action, memberId, auditId]) => {
      assertStaff(i, deps.tiers, inv);
      const id = Number(auditId);
      if ((action !== 'cancel' && action !== 'end') || memberId === undefined || !Number.isSafeInteger(id)) throw new MemberFacingError(STALE_REVOKE);
      const outcome = await cancelRevokedSubscription({ ...deps, log: inv.log }, { actorId: inv.userId, memberId, auditId: id, endNow: action === 'end' });
      if (outcome.kind === 'stale') throw new MemberFacingError(STALE_REVOKE);
      inv.log.info({ memberId, subscriptionId: outcome.subscriptionId, paypal: outcome.paypal.kind, endedNow: outcome.endedNow }, '/admin revoke: subscription decided');
      return { content: revokeDecisionText({ memberId, subscriptionId: outcome.subscriptionId, paypal: outcome.paypal, endedNow: outcome.endedNow, held: outcome.after }) };
    },
    expired: () => ({ content: 'These buttons expired; nothing more was changed. Run `/admin revoke` again to decide on the subscription.' }),
  };
}

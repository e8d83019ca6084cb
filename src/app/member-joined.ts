import { roleSyncJob } from '../jobs/definitions.ts';
import { enqueue } from '../jobs/queue.ts';
import type { Store } from '../store/db.ts';
import { getMember } from '../store/member-repo.ts';
import { recordAudit } from './audit.ts';

/**
 * A member joined (or rejoined) the guild: Discord drops every role on leave,
 * so an entitled member's roles are applied again by a role sync. Returns the
 * tier being re-applied, or null when the member is entitled to nothing.
 */
export function memberJoined(store: Store, memberId: string, now: number): string | null {
  return store.transaction((tx) => {
    const tier = getMember(tx, memberId)?.entitledTier ?? null;
    if (tier === null) return null;
    enqueue(tx, roleSyncJob, { memberId }, now, { dedupeKey: memberId });
    recordAudit(tx, { kind: 'member.joined', severity: 'info', memberId, message: `<@${memberId}> joined the server; re-applying tier ${tier}`, data: { tier } }, now);
    return tier;
  });
}

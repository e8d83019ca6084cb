import { setTimeout as sleep } from 'node:timers/promises';
import { roleSyncJob } from '../jobs/definitions.ts';
import { enqueue } from '../jobs/queue.ts';
import type { Store } from '../store/db.ts';
import { getJob } from '../store/job-repo.ts';
import type { TiersSource } from '../tiers.ts';
import { recomputeMember } from './recompute-member.ts';
import { recordStaffAction } from './staff-action.ts';
import type { MemberEffects } from './member-effects.ts';

/**
 * `/admin resync member`: one member's roles brought in line now. The
 * entitlement is recomputed from the store first (a grant or paid period
 * that ended while its lapse check was lost), then a live role-sync job is
 * queued (collapsing into one already queued) and awaited, so staff hear
 * how it went. The audit entry names the staff member and the member.
 */

export type ResyncMemberResult =
  | { kind: 'synced'; tier: string | null }
  | { kind: 'failed'; error: string }
  /** Still queued or running when the wait ended (Discord slow or rate-limited): it goes on in the background. */
  | { kind: 'pending'; jobId: number };

export interface ResyncMemberDeps {
  store: Store;
  tiers: TiersSource;
  clock: () => number;
  effects: MemberEffects;
}

export async function resyncMember(deps: ResyncMemberDeps, p: { memberId: string; staffId: string }, o: { waitMs?: number; pollMs?: number } = {}): Promise<ResyncMemberResult> {
  const now = deps.clock();
  const { jobId, tier } = deps.store.transaction((tx) => {
    const e = recomputeMember(tx, deps.effects, p.memberId, deps.tiers.current(), now, { reason: `roles resynced by staff <@${p.staffId}>` });
    const id = enqueue(tx, roleSyncJob, { memberId: p.memberId }, now, { dedupeKey: p.memberId });
    recordStaffAction(tx, { staffId: p.staffId, action: 'resync', memberId: p.memberId, summary: `resynced the roles of <@${p.memberId}>`, reason: '/admin resync' }, now);
    return { jobId: id, tier: e.tier?.key ?? null };
  });
  // Real time: the job runs on Discord's time, whatever the service clock says.
  const deadline = Date.now() + (o.waitMs ?? 30_000);
  for (;;) {
    const job = getJob(deps.store.db, jobId);
    if (job?.status === 'done') return { kind: 'synced', tier };
    if (job?.status === 'dead') return { kind: 'failed', error: job.lastError ?? 'unknown error' };
    if (Date.now() >= deadline) return { kind: 'pending', jobId };
    await sleep(o.pollMs ?? 100);
  }
}

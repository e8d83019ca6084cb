import { recordAudit } from '../../app/audit.ts';
import { memberDm, type Embed } from '../../core/messages.ts';
import type { Store } from '../../store/db.ts';
import type { TiersSource } from '../../tiers.ts';
import { dmJob } from '../definitions.ts';
import { handleJob } from '../handler.ts';

/** Sends a DM; 'closed' when the member does not accept DMs from the server (Discord 50007). */
export interface DmSender {
  sendDm(userId: string, embed: Embed): Promise<'sent' | 'closed'>;
  serverName(): string;
}

/**
 * A member DM, through the queue so it is never lost. Closed DMs are not
 * retried forever: they are noted in the audit channel once and the job ends.
 */
export function dmHandler(deps: { store: Store; tiers: TiersSource; sender: DmSender }) {
  return handleJob(dmJob, async (p, ctx) => {
    const embed = memberDm({ kind: p.kind, tierKey: p.tierKey, until: p.until, serverName: deps.sender.serverName() }, deps.tiers.current());
    const result = await deps.sender.sendDm(p.memberId, embed);
    if (result === 'closed') {
      deps.store.transaction((tx) =>
        recordAudit(
          tx,
          {
            kind: 'dm.closed',
            severity: 'info',
            memberId: p.memberId,
            message: `Could not DM <@${p.memberId}> (${p.kind.replace('_', ' ')}): they do not accept direct messages from this server`,
            dedupeKey: `dm.closed:${ctx.job.id}`,
          },
          ctx.now(),
        ),
      );
    }
  });
}

import { memberDm, type Embed } from '../core/messages.ts';
import type { DmPayload } from '../jobs/definitions.ts';
import type { Store } from '../store/db.ts';
import type { TiersSource } from '../tiers.ts';
import { recordAudit } from './audit.ts';

/** What a member DM needs from Discord (discord/messenger.ts implements it). */
export interface MessageGateway {
  /** 'closed' when the member does not accept DMs from the server (Discord 50007); other failures throw. */
  /**
   * `once`: a key of at most 25 characters; a second send with the same key within a few
   * minutes (a job re-run after a crash) gives no second message.
   */
  sendDm(userId: string, embed: Embed, once: string): Promise<'sent' | 'closed'>;
  /** The server's name as members see it, for the text of the message. */
  serverName(): string;
}

export interface MemberDmDeps {
  store: Store;
  tiers: TiersSource;
  messenger: MessageGateway;
}

/**
 * Sends a member DM queued as a job, so it is never lost. Closed DMs are not
 * retried forever: they are noted in the audit channel once (per job: the
 * dedupe key is the job's id) and the job ends.
 */
export async function sendMemberDm(deps: MemberDmDeps, p: DmPayload, job: { id: number; now: () => number }): Promise<void> {
  const embed = memberDm({ kind: p.kind, tierKey: p.tierKey, until: p.until, serverName: deps.messenger.serverName(), now: job.now() }, deps.tiers.current());
  // The job id keys the message, so a re-run after a crash between Discord's answer and the job's completion sends nothing new.
  const result = await deps.messenger.sendDm(p.memberId, embed, `dm-${job.id}`);
  if (result === 'sent') return;
  deps.store.transaction((tx) =>
    recordAudit(
      tx,
      {
        kind: 'dm.closed',
        severity: 'info',
        memberId: p.memberId,
        message: `Could not DM <@${p.memberId}> (${p.kind.replace('_', ' ')}): they do not accept direct messages from this server`,
        dedupeKey: `dm.closed:${job.id}`,
      },
      job.now(),
    ),
  );
}

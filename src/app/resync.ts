import { and, inArray, sql } from 'drizzle-orm';
import { roleSyncJob } from '../jobs/definitions.ts';
import { enqueue } from '../jobs/queue.ts';
import type { Logger } from '../log.ts';
import type { Store } from '../store/db.ts';
import { jobs } from '../store/schema.ts';

/**
 * Bulk resync: one role-sync job per member, all in one transaction. The
 * dedupe key is the member id, so a member whose sync is already queued gets
 * no second job (the queued one collapses into this one). The jobs are
 * marked `resync`: they were queued right after a full member fetch, so the
 * reconciler reads roles from the gateway cache instead of one GET each.
 *
 * Pacing is Discord's: every role change goes through discord.js, which
 * serialises the guild's member-role bucket and waits on its headers, so
 * the runner's few concurrent jobs only queue up behind each other there.
 *
 * The jobs are bulk work (roleSyncJob's priority for `resync`): a live role sync (a member who just paid) is
 * claimed before them, so it waits for at most the few already running.
 *
 * Returns the job ids (existing or new), for progress.
 */
export function enqueueResync(store: Store, memberIds: Iterable<string>, now: number): number[] {
  const unique = [...new Set(memberIds)];
  return store.transaction((tx) => unique.map((memberId) => enqueue(tx, roleSyncJob, { memberId, resync: true }, now, { dedupeKey: memberId })));
}

/**
 * Logs `{ done, total }` 'resync progress' each time another ~10% of the
 * jobs has finished (done or dead), then stops. Polls the job table; the
 * returned function stops it early (service shutdown).
 */
export function trackResync(store: Store, jobIds: readonly number[], log: Logger, o: { pollMs?: number } = {}): () => void {
  const total = jobIds.length;
  if (total === 0) return () => undefined;
  const step = Math.max(1, Math.ceil(total / 10));
  let logged = 0;
  const finished = (): number => {
    let n = 0;
    // SQLite's variable limit: count in slices.
    for (let i = 0; i < jobIds.length; i += 500) {
      const slice = jobIds.slice(i, i + 500);
      const row = store.db
        .select({ n: sql<number>`count(*)` })
        .from(jobs)
        .where(and(inArray(jobs.id, slice), inArray(jobs.status, ['done', 'dead'])))
        .get();
      n += row?.n ?? 0;
    }
    return n;
  };
  const timer = setInterval(() => {
    let done: number;
    try {
      done = finished();
    } catch (err) {
      log.warn({ err }, 'reading resync progress failed');
      return;
    }
    if (done >= total || done - logged >= step) {
      logged = done;
      log.info({ done, total }, 'resync progress');
    }
    if (done >= total) clearInterval(timer);
  }, o.pollMs ?? 1000);
  timer.unref();
  return () => clearInterval(timer);
}

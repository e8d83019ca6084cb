import { and, asc, eq, gte, inArray, isNotNull, lt, ne } from 'drizzle-orm';
import type { DbOrTx } from './db.ts';
import { jobs, webhookEvents, webhookTransmissions } from './schema.ts';

/**
 * The SQL of retention (app/retention.ts): each function handles one batch,
 * so the caller commits and yields between batches instead of holding the
 * write lock (and the event loop) for a whole backlog.
 */

/**
 * Empties the stored body of up to `limit` processed events received before
 * `before`, oldest first, from `from` on (the caller's cursor: pruned rows stay
 * in the index, and walking them again each batch would grow with the years).
 * The row stays: its id keeps deduplicating PayPal's redeliveries and
 * backfills, its type, outcome and times stay for support. An event not yet
 * processed keeps its body whatever its age (it may still be replayed).
 * Returns the count and the receipt time of the last row pruned.
 */
export function pruneWebhookBodies(db: DbOrTx, o: { before: number; from: number; limit: number }): { pruned: number; lastReceivedAt: number | null } {
  const rows = db
    .select({ id: webhookEvents.id, receivedAt: webhookEvents.receivedAt })
    .from(webhookEvents)
    .where(and(gte(webhookEvents.receivedAt, o.from), lt(webhookEvents.receivedAt, o.before), isNotNull(webhookEvents.processedAt), ne(webhookEvents.rawBody, '')))
    .orderBy(asc(webhookEvents.receivedAt))
    .limit(o.limit)
    .all();
  if (rows.length === 0) return { pruned: 0, lastReceivedAt: null };
  db.update(webhookEvents)
    .set({ rawBody: '' })
    .where(inArray(webhookEvents.id, rows.map((r) => r.id)))
    .run();
  return { pruned: rows.length, lastReceivedAt: rows[rows.length - 1]?.receivedAt ?? null };
}

/**
 * Deletes up to `limit` done jobs that finished before `before`. Dead jobs
 * stay (an operator retries or reads them: `concierge jobs`), and queued or
 * running ones are work. Walks the (status, run_at) index: a job never
 * finishes before its run_at.
 */
export function deleteDoneJobs(db: DbOrTx, o: { before: number; limit: number }): number {
  const ids = db
    .select({ id: jobs.id })
    .from(jobs)
    .where(and(eq(jobs.status, 'done'), lt(jobs.runAt, o.before), lt(jobs.updatedAt, o.before)))
    .limit(o.limit)
    .all()
    .map((r) => r.id);
  if (ids.length === 0) return 0;
  return db.delete(jobs).where(inArray(jobs.id, ids)).run().changes;
}

/** Deletes up to `limit` webhook transmissions received before `before` (past the replay window, see app/retention.ts). */
export function deleteOldTransmissions(db: DbOrTx, o: { before: number; limit: number }): number {
  const ids = db
    .select({ id: webhookTransmissions.transmissionId })
    .from(webhookTransmissions)
    .where(lt(webhookTransmissions.receivedAt, o.before))
    .limit(o.limit)
    .all()
    .map((r) => r.id);
  if (ids.length === 0) return 0;
  return db.delete(webhookTransmissions).where(inArray(webhookTransmissions.transmissionId, ids)).run().changes;
}

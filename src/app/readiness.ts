import { accessSync, constants } from 'node:fs';
import type { Check, Readiness } from '../http/routes/health.ts';
import type { Store } from '../store/db.ts';
import { lastWebhookReceivedAt } from '../store/inbox-repo.ts';
import { oldestDueAge } from '../store/job-repo.ts';

export interface ReadinessDeps {
  store: Store;
  clock: () => number;
  /** Clock time of the job runner's last loop iteration. */
  workerBeat: () => number;
  /** A worker that has not looped for this long is considered dead. */
  workerStaleMs?: number;
  /** A due job waiting longer than this means the queue is stuck. */
  queueStaleMs?: number;
  /** More checks from other components (the Discord gateway, role hierarchy). */
  extra?: () => Record<string, Check>;
}

/**
 * The /readyz probe: database readable (and its file writable), worker alive,
 * queue moving, and the age of the last verified webhook. Writes themselves
 * are proven by the webhook writer thread's own check (`ingest`).
 */
export function createReadiness(d: ReadinessDeps): () => Readiness {
  const workerStaleMs = d.workerStaleMs ?? 15_000;
  const queueStaleMs = d.queueStaleMs ?? 60_000;
  return () => {
    const now = d.clock();
    const checks: Record<string, Check> = {};
    try {
      // Read-only on purpose: taking the write lock here (BEGIN IMMEDIATE) would block the event loop for up
      // to busy_timeout (5 s) whenever another connection (the webhook writer, a CLI backup) holds it.
      // WAL readers never wait for the writer. The access check catches a read-only file or file system.
      d.store.sqlite.prepare('SELECT count(*) FROM sqlite_master').get();
      if (!d.store.sqlite.memory) accessSync(d.store.sqlite.name, constants.W_OK);
      checks['database'] = { ok: true };
    } catch (err) {
      checks['database'] = { ok: false, detail: `database not usable: ${(err as Error).message}` };
    }
    const beatAge = now - d.workerBeat();
    checks['worker'] = beatAge <= workerStaleMs ? { ok: true, lastBeatMs: beatAge } : { ok: false, lastBeatMs: beatAge, detail: `job worker has not run for ${Math.round(beatAge / 1000)} s` };
    try {
      const age = oldestDueAge(d.store.db, now);
      checks['queue'] = age === null || age <= queueStaleMs ? { ok: true, oldestDueJobAgeMs: age } : { ok: false, oldestDueJobAgeMs: age, detail: `a due job has waited ${Math.round(age / 1000)} s` };
      const last = lastWebhookReceivedAt(d.store.db);
      checks['webhooks'] = { ok: true, lastVerifiedWebhookAgeMs: last === null ? null : now - last };
    } catch (err) {
      checks['queue'] = { ok: false, detail: `cannot read the queue: ${(err as Error).message}` };
    }
    Object.assign(checks, d.extra?.() ?? {});
    return { ok: Object.values(checks).every((c) => c.ok), checks };
  };
}

import { probeDatabase } from '../store/database-probe.ts';
import type { Store } from '../store/db.ts';
import { lastWebhookReceivedAt } from '../store/inbox-repo.ts';
import { oldestDueAge } from '../store/job-repo.ts';

/**
 * Readiness: what /readyz reports. The types live here, below both the HTTP
 * route that serves them and the Discord components that contribute checks.
 */

/** One named check: ok, or not with a detail that says what to fix. */
export interface Check {
  ok: boolean;
  detail?: string;
  [k: string]: unknown;
}
export interface Readiness {
  ok: boolean;
  checks: Record<string, Check>;
}
export type ReadinessProbe = () => Readiness;

export interface ReadinessDeps {
  store: Store;
  clock: () => number;
  /** Clock time of the job runner's last loop iteration. */
  workerBeat: () => number;
  /** A worker that has not looped for this long is considered dead. */
  workerStaleMs?: number;
  /** A due job waiting longer than this means the queue is stuck. */
  queueStaleMs?: number;
  /** The Discord gateway's connection state: anything but 'ready' fails the `discord` check. */
  gatewayState: () => string;
  /** Other components' checks by name (command registration, the webhook writer thread). */
  checks?: Record<string, () => Check>;
  /** Components that report several named checks (the Discord start-up check). */
  checkGroups?: readonly (() => Record<string, Check>)[];
}

/**
 * The /readyz probe: database readable (and its file writable), worker alive,
 * queue moving, and the age of the last verified webhook; then the Discord
 * gateway and the other components' checks. Writes themselves are proven by
 * the webhook writer thread's own check (`ingest`).
 */
export function createReadiness(d: ReadinessDeps): ReadinessProbe {
  const workerStaleMs = d.workerStaleMs ?? 15_000;
  const queueStaleMs = d.queueStaleMs ?? 60_000;
  return () => {
    const now = d.clock();
    const checks: Record<string, Check> = {};
    try {
      probeDatabase(d.store);
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
    const state = d.gatewayState();
    checks['discord'] = state === 'ready' ? { ok: true, state } : { ok: false, state, detail: `Discord gateway is ${state}` };
    for (const [name, check] of Object.entries(d.checks ?? {})) checks[name] = check();
    for (const group of d.checkGroups ?? []) Object.assign(checks, group());
    return { ok: Object.values(checks).every((c) => c.ok), checks };
  };
}

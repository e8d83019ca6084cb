import { z } from 'zod';

/**
 * Every job kind Concierge queues, declared once: its name, the payload
 * schema (checked when a job is claimed, and the type `enqueue` accepts), its
 * max attempts (stored on the row at enqueue) and its priority. `enqueue`
 * takes a definition, so a wrong payload or an unknown kind is a type error at
 * the call site; the runner dispatches on the same list (JOB_DEFINITIONS) and
 * refuses to start when a kind has no handler. A leaf module: zod only, so
 * app/, jobs/ and tests can all import it.
 */

export type JobPriority = 'live' | 'bulk';

export interface JobDefinition<K extends string = string, S extends z.ZodType = z.ZodType> {
  readonly kind: K;
  readonly schema: S;
  /** Stored on the row at enqueue; a job that fails this many times is dead-lettered. */
  readonly maxAttempts: number;
  /**
   * 'bulk' work (a full resync) runs only when no live job is due; default
   * 'live'. A live enqueue collapsing into a queued bulk job makes it live.
   * (Method syntax: a definition of a narrower payload is still a JobDefinition.)
   */
  priority?(payload: z.input<S>): JobPriority;
}

/** The payload `enqueue` accepts for a definition (zod's input type: defaults may be left out). */
export type JobPayload<D extends JobDefinition> = z.input<D['schema']>;
/** The payload a handler receives, after the schema parsed it at claim. */
export type ParsedJobPayload<D extends JobDefinition> = z.output<D['schema']>;

/** Identity helper that keeps the literal kind and the schema's type. */
export function defineJob<const K extends string, S extends z.ZodType>(d: JobDefinition<K, S>): JobDefinition<K, S> {
  if (!Number.isInteger(d.maxAttempts) || d.maxAttempts < 1) throw new RangeError(`job ${d.kind}: maxAttempts must be a positive integer, got ${d.maxAttempts}`);
  return d;
}

/** Unless a kind says otherwise: with backoff capped at 15 min, ten attempts span about an hour. */
const DEFAULT_MAX_ATTEMPTS = 10;

/**
 * Processes a stored PayPal event. Queued by the webhook writer thread in the
 * inbox transaction (store/ingest-batch.ts, which gets kind and max attempts
 * from here as plain values). PayPal may be down for a while, so retry for
 * about a day (backoff caps at 15 min).
 */
export const processWebhookJob = defineJob({
  kind: 'process-webhook',
  schema: z.object({ eventId: z.string().min(1) }),
  maxAttempts: 100,
});

/** Reconciles a member's managed roles with their stored entitlement. */
export const roleSyncJob = defineJob({
  kind: 'role-sync',
  // resync: bulk work (a resync or reconcile). held: the managed roles the member held at a bulk resync's member
  // fetch (null: not in the guild), so the job makes no GET (app/resync.ts); absent, the job reads the member.
  schema: z.object({ memberId: z.string().min(1), resync: z.boolean().optional(), held: z.array(z.string()).nullable().optional() }),
  maxAttempts: DEFAULT_MAX_ATTEMPTS,
  priority: (p) => (p.resync === true ? 'bulk' : 'live'),
});

/** Posts an audit entry to the audit channel. */
export const auditJob = defineJob({
  kind: 'audit',
  schema: z.object({ auditId: z.number().int().positive() }),
  maxAttempts: DEFAULT_MAX_ATTEMPTS,
});

export const dmPayloadSchema = z.object({
  memberId: z.string().min(1),
  kind: z.enum(['welcome', 'payment_failed', 'cancelled', 'access_ended', 'expiry_warning']),
  tierKey: z.string().nullable(),
  until: z.number().nullable(),
});
export type DmPayload = z.infer<typeof dmPayloadSchema>;

/** A member DM, through the queue so it is never lost. */
export const dmJob = defineJob({ kind: 'dm', schema: dmPayloadSchema, maxAttempts: 8 });

/** Recomputes a member's entitlement when it may end (paid-through, grace or a grant's expiry). */
export const lapseCheckJob = defineJob({
  kind: 'lapse-check',
  schema: z.object({ memberId: z.string().min(1) }),
  maxAttempts: DEFAULT_MAX_ATTEMPTS,
});

/** Re-reads a checkout from PayPal while it is being approved (app/refresh-subscription.ts). */
export const refreshSubscriptionJob = defineJob({
  kind: 'refresh-subscription',
  /** round: index into REFRESH_DELAYS_MS of the wait that led to this run. */
  schema: z.object({ subscriptionId: z.string().min(1), round: z.number().int().min(0) }),
  maxAttempts: 6,
});

/** Cancels at PayPal a subscription an instant upgrade replaced (app/replace-subscription.ts). */
export const cancelReplacedJob = defineJob({
  kind: 'cancel-replaced',
  schema: z.object({ subscriptionId: z.string().min(1), replacedBy: z.string().min(1) }),
  maxAttempts: 12,
});

/**
 * The marketplace may be down for a while, and each run sends the state as it
 * is then (never a stale copy), so retry as long as a PayPal event: about a
 * day with backoff capped at 15 min. A Retry-After does not use an attempt.
 */
const MARKETPLACE_MAX_ATTEMPTS = 100;

/**
 * PUTs a member's complete current state to the marketplace (app/sync-marketplace.ts).
 * Queued (deduplicated per member) by every change of tier or serials; bulk
 * when a tiers file change moved many members' serials at once.
 */
export const marketplaceMemberJob = defineJob({
  kind: 'marketplace-member',
  schema: z.object({ memberId: z.string().min(1), bulk: z.boolean().optional() }),
  maxAttempts: MARKETPLACE_MAX_ATTEMPTS,
  priority: (p) => (p.bulk === true ? 'bulk' : 'live'),
});

/** PUTs the publisher profile to the marketplace (app/sync-marketplace.ts), queued when staff change it. */
export const marketplacePublisherJob = defineJob({
  kind: 'marketplace-publisher',
  schema: z.object({}),
  maxAttempts: MARKETPLACE_MAX_ATTEMPTS,
});

/**
 * Reconciliation on its schedule (app/reconcile-schedule.ts): each run queues
 * the next one first, under one dedupe key, so exactly one run stays queued
 * across restarts. Bulk: minutes of paced PayPal reads must not hold up a
 * live job.
 */
export const reconcileJob = defineJob({
  kind: 'reconcile',
  schema: z.object({}),
  maxAttempts: 3,
  priority: () => 'bulk',
});

/*
 * Standing schedules (app/schedules.ts): queued at start when missing, each
 * run queues the next one under the same dedupe key, so exactly one is
 * pending and a restart neither loses nor doubles it.
 */

/** Warns members whose non-renewing access ends in three days (app/expiry-warnings.ts); `since`: the previous scan's time. */
export const expiryWarningsJob = defineJob({
  kind: 'expiry-warnings',
  schema: z.object({ since: z.number().int() }),
  maxAttempts: DEFAULT_MAX_ATTEMPTS,
});

/** Prunes old webhook bodies, done jobs and webhook transmissions (app/retention.ts). */
export const retentionJob = defineJob({ kind: 'retention', schema: z.object({}), maxAttempts: DEFAULT_MAX_ATTEMPTS });

/** The daily online backup into BACKUP_DIR (app/backup.ts). */
export const backupJob = defineJob({ kind: 'backup', schema: z.object({}), maxAttempts: DEFAULT_MAX_ATTEMPTS });

/** The list the runner dispatches on: each needs exactly one handler (job-handlers/index.ts). */
export const JOB_DEFINITIONS = [
  processWebhookJob,
  roleSyncJob,
  auditJob,
  dmJob,
  lapseCheckJob,
  refreshSubscriptionJob,
  cancelReplacedJob,
  marketplaceMemberJob,
  marketplacePublisherJob,
  reconcileJob,

  expiryWarningsJob,
  retentionJob,
  backupJob,
] as const;

export type JobKind = (typeof JOB_DEFINITIONS)[number]['kind'];

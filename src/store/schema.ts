// size: the whole database schema in one file, the one drizzle-kit reads (drizzle.config.ts) to generate migrations; each table is a few lines of columns with their meaning.
import { sql } from 'drizzle-orm';
import { blob, index, integer, sqliteTable, text, uniqueIndex } from 'drizzle-orm/sqlite-core';

/**
 * All times are integer milliseconds since the epoch (UTC): cheap to compare
 * in SQL and free of time-zone parsing. PayPal's ISO strings are converted at
 * the adapter boundary.
 */

/** A Discord user who has ever subscribed, been granted, or been seen by Concierge. */
export const members = sqliteTable(
  'members',
  {
    discordUserId: text('discord_user_id').primaryKey(),
    /** Last computed entitlement: tier key or null. Compared after each change to decide whether to sync roles. */
    entitledTier: text('entitled_tier'),
    /** When the last computed entitlement ends (null = open-ended or none). */
    entitledUntil: integer('entitled_until'),
    /** Where it comes from: 'subscription:<id>' or 'grant:<id>', null when none. */
    entitledSource: text('entitled_source'),
    /**
     * The marketplace's view of this member (SPEC "Marketplace contract"): bumped in the
     * same transaction as every change of tier or serials, and sent with the member's
     * state, so the receiver can ignore a retried or late older message.
     */
    marketplaceVersion: integer('marketplace_version').notNull().default(0),
    /**
     * The highest marketplace_version the marketplace acknowledged (2xx, or 409: it holds
     * a newer one). Lower than marketplace_version: the marketplace is behind, e.g. the
     * change was made while the sync was off; the start-up backfill sends those members.
     */
    marketplaceSyncedVersion: integer('marketplace_synced_version').notNull().default(0),
    createdAt: integer('created_at').notNull(),
    updatedAt: integer('updated_at').notNull(),
  },
  // Members by tier for /metrics: a covering index count (4 ms at 100,000 members, 18 ms as a table scan).
  (t) => [index('members_entitled_tier_idx').on(t.entitledTier)],
);

/** One PayPal subscription, as last read from PayPal, plus what Concierge derived from it. */
export const subscriptions = sqliteTable(
  'subscriptions',
  {
    /** PayPal's subscription id (I-...). */
    id: text('id').primaryKey(),
    /** Linked through custom_id; null while PayPal's custom_id names no valid Discord user. */
    memberId: text('member_id').references(() => members.discordUserId),
    planId: text('plan_id').notNull(),
    /** Tier key of the plan PayPal shows (what the next charge is for); null if no tier sells it. A plan is not a payment. */
    tierKey: text('tier_key'),
    /** Concierge state: pending | active | past_due | cancelled | suspended | expired | revoked | abandoned. */
    state: text('state').notNull(),
    /** PayPal's status as last read: APPROVAL_PENDING | APPROVED | ACTIVE | SUSPENDED | CANCELLED | EXPIRED. */
    paypalStatus: text('paypal_status').notNull(),
    /** PayPal's update_time/status_update_time of the copy we hold; an older read never overwrites a newer one. */
    paypalUpdatedAt: integer('paypal_updated_at'),
    customId: text('custom_id'),
    /** The latest next_billing_time seen while ACTIVE. */
    nextBillingAt: integer('next_billing_at'),
    /** Time of the last completed payment PayPal reported (billing_info or a confirmed sale), counted or not. */
    lastPaymentAt: integer('last_payment_at'),
    /**
     * Access follows money: the plan the latest counted payment reached the
     * price of (null = nothing paid yet), that plan's tier, price, currency
     * and billing interval when it was counted, and the end of the period it
     * paid for. The tier a subscription gives comes from here, never from
     * plan_id alone (core/paid-plan.ts).
     */
    paidPlanId: text('paid_plan_id'),
    paidTierKey: text('paid_tier_key'),
    paidPrice: text('paid_price'),
    paidCurrency: text('paid_currency'),
    intervalUnit: text('interval_unit'),
    intervalCount: integer('interval_count'),
    paidUntil: integer('paid_until'),
    /** Derived: paid-through, past-due grace end, end of access. */
    paidThrough: integer('paid_through'),
    graceUntil: integer('grace_until'),
    accessUntil: integer('access_until'),
    failedPaymentsCount: integer('failed_payments_count').notNull().default(0),
    lastFailedPaymentAt: integer('last_failed_payment_at'),
    /** Refund / chargeback revocation; stands until a later completed payment or staff restore. */
    revokedAt: integer('revoked_at'),
    revokedReason: text('revoked_reason'),
    /** PayPal's approve link while the buyer has not approved yet (created by /subscribe), so a repeat click reuses it. */
    approveUrl: text('approve_url'),
    /**
     * An instant upgrade made by /subscribe: the subscription it replaces
     * (cancelled once this one's prorated setup fee is paid), that fee and
     * its currency, and when the fee's period ends (the replaced
     * subscription's paid-through, where this one's regular billing starts).
     */
    upgradeFrom: text('upgrade_from'),
    upgradeFee: text('upgrade_fee'),
    upgradeCurrency: text('upgrade_currency'),
    upgradeUntil: integer('upgrade_until'),
    createdAt: integer('created_at').notNull(),
    updatedAt: integer('updated_at').notNull(),
  },
  (t) => [index('subscriptions_member_idx').on(t.memberId)],
);

/** Sales of a subscription as PayPal's transaction list confirmed them (PAYMENT.SALE.*), with refund state. */
export const payments = sqliteTable(
  'payments',
  {
    /** PayPal sale id. */
    id: text('id').primaryKey(),
    subscriptionId: text('subscription_id').notNull(),
    memberId: text('member_id'),
    amount: text('amount').notNull(),
    currency: text('currency').notNull(),
    /** completed | partially_refunded | refunded | reversed | disputed */
    state: text('state').notNull(),
    /** PayPal's transaction time, never later than when it was recorded. */
    paidAt: integer('paid_at').notNull(),
    /** The plan this payment reached the price of, its tier and interval then, and the end of the period it paid for (null: it reached no price). */
    planId: text('plan_id'),
    tierKey: text('tier_key'),
    intervalUnit: text('interval_unit'),
    intervalCount: integer('interval_count'),
    coversUntil: integer('covers_until'),
    refundedAt: integer('refunded_at'),
    /** The webhook event that recorded it. */
    eventId: text('event_id'),
    createdAt: integer('created_at').notNull(),
  },
  (t) => [index('payments_subscription_idx').on(t.subscriptionId)],
);

/** Staff comps: a tier for a member, optionally until a time. */
export const grants = sqliteTable(
  'grants',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    memberId: text('member_id')
      .notNull()
      .references(() => members.discordUserId),
    tierKey: text('tier_key').notNull(),
    grantedBy: text('granted_by').notNull(),
    reason: text('reason'),
    startsAt: integer('starts_at').notNull(),
    /** null = lifetime. */
    expiresAt: integer('expires_at'),
    revokedAt: integer('revoked_at'),
    createdAt: integer('created_at').notNull(),
  },
  (t) => [index('grants_member_idx').on(t.memberId)],
);

/** The webhook inbox: every verified PayPal event, stored before it is acknowledged. */
export const webhookEvents = sqliteTable(
  'webhook_events',
  {
    /** PayPal's event id (WH-...): unique, so redeliveries are no-ops. */
    id: text('id').primaryKey(),
    eventType: text('event_type').notNull(),
    /** The resource id named by the event (subscription or sale id), for search. */
    resourceId: text('resource_id'),
    transmissionId: text('transmission_id').notNull(),
    /** The exact bytes PayPal signed, as UTF-8. */
    rawBody: text('raw_body').notNull(),
    receivedAt: integer('received_at').notNull(),
    processedAt: integer('processed_at'),
    /** pending | processed | ignored | unlinked */
    outcome: text('outcome').notNull().default('pending'),
    /** Human-readable detail of the outcome. */
    detail: text('detail'),
  },
  (t) => [index('webhook_events_received_idx').on(t.receivedAt)],
);

/**
 * Every accepted webhook transmission, with a hash of its body. PayPal signs
 * crc32(body), which anyone can match with a different body (CRC32 is linear),
 * so a captured transmission's headers would otherwise carry a forged event
 * for as long as its time is accepted. The same id with another body is
 * refused. Written in the webhook writer's group commit with the inbox row.
 * The migration makes it WITHOUT ROWID (drizzle cannot say so): one B-tree
 * insert per delivery instead of a table row plus an index entry.
 */
export const webhookTransmissions = sqliteTable('webhook_transmissions', {
  /** PayPal's paypal-transmission-id header. */
  transmissionId: text('transmission_id').primaryKey(),
  /** SHA-256 of the body as stored (UTF-8), 32 bytes. */
  bodySha256: blob('body_sha256', { mode: 'buffer' }).notNull(),
  receivedAt: integer('received_at').notNull(),
});

/** The durable job queue (the outbox). */
export const jobs = sqliteTable(
  'jobs',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    /** Handler name, e.g. process-webhook, role-sync, audit, lapse-check. */
    kind: text('kind').notNull(),
    /** JSON payload, validated by the handler's zod schema when claimed. */
    payload: text('payload').notNull(),
    /** Collapses duplicates: at most one *queued* job per (kind, dedupe_key). */
    dedupeKey: text('dedupe_key'),
    /** queued | running | done | dead */
    status: text('status').notNull().default('queued'),
    attempts: integer('attempts').notNull().default(0),
    maxAttempts: integer('max_attempts').notNull(),
    /** Earliest time the job may run (backoff and scheduled jobs). */
    runAt: integer('run_at').notNull(),
    /**
     * 0 for live work; -1 for bulk work (a full resync), which is claimed only
     * when no live job is due: a member who just paid must not wait behind a
     * thousand-member resync paced by Discord's rate limit.
     */
    priority: integer('priority').notNull().default(0),
    /** Lease: a running job whose lease passed is claimed again (its worker died). */
    lockedUntil: integer('locked_until'),
    lockedBy: text('locked_by'),
    lastError: text('last_error'),
    createdAt: integer('created_at').notNull(),
    updatedAt: integer('updated_at').notNull(),
  },
  (t) => [
    // priority last: min(run_at) and the oldest-first claim still walk (status, run_at), and skipping bulk rows needs no table read.
    index('jobs_due_idx').on(t.status, t.runAt, t.priority),
    index('jobs_lease_idx').on(t.status, t.lockedUntil),
    // /metrics: depth by kind is a covering count and the oldest due job of a kind one index seek (jobs_due_idx reads every row of a status).
    index('jobs_kind_idx').on(t.status, t.kind, t.runAt),
    // The live claim (job-repo.ts prepareClaimNextJob): the oldest due live job is this index's first entry. Through
    // jobs_due_idx it stepped over every queued bulk row: 14 ms a claim behind a 90,000-member resync, so the resync
    // ran at ~60 jobs/s with the event loop saturated (bench:memory).
    index('jobs_live_due_idx')
      .on(t.runAt)
      .where(sql`status = 'queued' AND priority >= 0`),
    uniqueIndex('jobs_queued_dedupe_idx')
      .on(t.kind, t.dedupeKey)
      .where(sql`status = 'queued' AND dedupe_key IS NOT NULL`),
  ],
);

/** What happened and why, for staff and for support cases. */
export const auditEntries = sqliteTable(
  'audit_entries',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    at: integer('at').notNull(),
    /** e.g. entitlement.changed, payment.recorded, webhook.rejected, job.dead */
    kind: text('kind').notNull(),
    /** info | warning | danger (colour in the audit channel) */
    severity: text('severity').notNull().default('info'),
    memberId: text('member_id'),
    subscriptionId: text('subscription_id'),
    eventId: text('event_id'),
    message: text('message').notNull(),
    data: text('data'),
    /** Makes recording idempotent when a job is retried. */
    dedupeKey: text('dedupe_key').unique(),
  },
  (t) => [index('audit_member_idx').on(t.memberId), index('audit_at_idx').on(t.at)],
);

/**
 * One serial per member per catalogue script (SPEC "Serials"), kept for good:
 * suspended when access ends, active again when the member returns. The
 * serial itself is never stored in clear, so a stolen copy of the database
 * cannot be used to validate as another member (serials/serial-vault.ts):
 * `lookup_hash` is an HMAC-SHA256 of it under a key the database does not
 * hold, and `sealed` is it encrypted (AES-256-GCM) for showing it back to
 * its member.
 */
export const serials = sqliteTable(
  'serials',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    memberId: text('member_id')
      .notNull()
      .references(() => members.discordUserId),
    /** The catalogue script's key (tiers file `scripts[].key`). */
    scriptKey: text('script_key').notNull(),
    /** HMAC-SHA256(lookup key, serial), 32 bytes: the license check finds the row by it. */
    lookupHash: blob('lookup_hash', { mode: 'buffer' }).notNull(),
    /** version byte, 12-byte IV, AES-256-GCM ciphertext of the serial, 16-byte tag; bound to member and script. */
    sealed: blob('sealed', { mode: 'buffer' }).notNull(),
    /** active | suspended */
    status: text('status').notNull(),
    issuedAt: integer('issued_at').notNull(),
    /** When it was last suspended (null while active). */
    suspendedAt: integer('suspended_at'),
    updatedAt: integer('updated_at').notNull(),
  },
  (t) => [uniqueIndex('serials_member_script_idx').on(t.memberId, t.scriptKey), uniqueIndex('serials_lookup_idx').on(t.lookupHash)],
);

/** The community's profile on the marketplace, set by staff with /publisher; one row (id = 1). */
export const publisherProfile = sqliteTable('publisher_profile', {
  id: integer('id').primaryKey(),
  bio: text('bio').notNull().default(''),
  url: text('url'),
  iconUrl: text('icon_url'),
  /** Only increases; sent with the profile like a member's marketplace version. */
  version: integer('version').notNull().default(0),
  /** Discord id of the staff member who last changed it. */
  updatedBy: text('updated_by'),
  updatedAt: integer('updated_at').notNull(),
});

/**
 * Small facts operations keep between runs, by key (e.g. 'paypal.last_event_time':
 * the newest PayPal webhook event reconciliation has seen, where the next backfill starts).
 */
export const syncState = sqliteTable('sync_state', {
  key: text('key').primaryKey(),
  value: text('value').notNull(),
  updatedAt: integer('updated_at').notNull(),
});

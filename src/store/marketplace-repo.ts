import { eq, sql } from 'drizzle-orm';
import type { DbOrTx } from './db.ts';
import { members, publisherProfile, serials } from './schema.ts';

/**
 * The versions the marketplace sync sends (SPEC "Marketplace contract"):
 * bumped in the transaction of the change they describe, read when the sync
 * job sends. The receiver keeps the highest.
 *
 * A bump takes the later of "one more" and the time of the change (ms): it
 * still only increases when the clock steps back, and after a restore from
 * a backup the next change still outranks what the marketplace holds (a
 * plain counter would restart below it and be ignored until it caught up).
 */

export type PublisherProfileRow = typeof publisherProfile.$inferSelect;

/** The single profile row's id (the table holds one row). */
const PROFILE_ID = 1;

export function bumpMemberMarketplaceVersion(db: DbOrTx, memberId: string, now: number): void {
  db.update(members)
    .set({ marketplaceVersion: sql`max(${members.marketplaceVersion} + 1, ${Math.floor(now)})` })
    .where(eq(members.discordUserId, memberId))
    .run();
}

/** No-op while no profile was ever saved: there is nothing to version yet. */
export function bumpPublisherVersion(db: DbOrTx, now: number): void {
  db.update(publisherProfile)
    .set({ version: sql`max(${publisherProfile.version} + 1, ${Math.floor(now)})` })
    .where(eq(publisherProfile.id, PROFILE_ID))
    .run();
}

export function getPublisherProfile(db: DbOrTx): PublisherProfileRow | undefined {
  return db.select().from(publisherProfile).where(eq(publisherProfile.id, PROFILE_ID)).get();
}

/** After the marketplace acknowledged `version` for the member (2xx or 409): never lowers what is recorded. */
export function markMemberMarketplaceSynced(db: DbOrTx, memberId: string, version: number): void {
  db.update(members)
    .set({ marketplaceSyncedVersion: sql`max(${members.marketplaceSyncedVersion}, ${version})` })
    .where(eq(members.discordUserId, memberId))
    .run();
}

/**
 * Members the marketplace is behind on, in id order after `afterId`, at most
 * `limit`: a version it has not acknowledged, or no version yet (0: never
 * changed while the sync was on) and something for it to hold, a tier or a
 * serial. One pass over members (100,000 rows: tens of ms), paged by the
 * primary key so each page is its own short read.
 */
export function listMembersBehindMarketplace(db: DbOrTx, afterId: string, limit: number): { memberId: string; version: number }[] {
  return db
    .select({ memberId: members.discordUserId, version: members.marketplaceVersion })
    .from(members)
    .where(
      sql`${members.discordUserId} > ${afterId} AND (${members.marketplaceSyncedVersion} < ${members.marketplaceVersion}
        OR (${members.marketplaceVersion} = 0 AND (${members.entitledTier} IS NOT NULL OR EXISTS (SELECT 1 FROM ${serials} WHERE ${serials.memberId} = ${members.discordUserId}))))`,
    )
    .orderBy(members.discordUserId)
    .limit(limit)
    .all();
}

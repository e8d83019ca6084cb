import { eq, sql } from 'drizzle-orm';
import type { DbOrTx } from './db.ts';
import { members, publisherProfile } from './schema.ts';

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

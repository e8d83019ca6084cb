import { eq, sql } from 'drizzle-orm';
import type { DbOrTx } from './db.ts';
import { publisherProfile } from './schema.ts';

export type PublisherProfileRow = typeof publisherProfile.$inferSelect;

/** The profile is one row; its id is fixed. */
const PROFILE_ID = 1;

export type PublisherProfileChange = Partial<Pick<PublisherProfileRow, 'bio' | 'url' | 'iconUrl'>>;

/** The stored profile, or undefined before staff first set anything. */
export function getPublisherProfile(db: DbOrTx): PublisherProfileRow | undefined {
  return db.select().from(publisherProfile).where(eq(publisherProfile.id, PROFILE_ID)).get();
}

/**
 * Applies a change and bumps the version in one statement (created on the
 * first change), so two quick edits can never send the same version with
 * different contents. Returns the row as stored.
 */
export function updatePublisherProfile(db: DbOrTx, change: PublisherProfileChange, updatedBy: string, now: number): PublisherProfileRow {
  return db
    .insert(publisherProfile)
    .values({ id: PROFILE_ID, ...change, version: 1, updatedBy, updatedAt: now })
    .onConflictDoUpdate({ target: publisherProfile.id, set: { ...change, version: sql`${publisherProfile.version} + 1`, updatedBy, updatedAt: now } })
    .returning()
    .get();
}

import { eq } from 'drizzle-orm';
import type { DbOrTx } from './db.ts';
import { syncState } from './schema.ts';

/** The sync_state table: small facts operations keep between runs, by key. */

export function getSyncState(db: DbOrTx, key: string): string | null {
  return db.select({ value: syncState.value }).from(syncState).where(eq(syncState.key, key)).get()?.value ?? null;
}

export function setSyncState(db: DbOrTx, key: string, value: string, now: number): void {
  db.insert(syncState).values({ key, value, updatedAt: now }).onConflictDoUpdate({ target: syncState.key, set: { value, updatedAt: now } }).run();
}

import { asc, sql } from 'drizzle-orm';
import type { Store } from './db.ts';
import { members, subscriptions } from './schema.ts';

/** One member as the export lists them, with the subscription their row names. */
export interface MemberExportRow {
  memberId: string;
  tier: string | null;
  /** members.entitled_source: 'subscription:<id>', 'grant:<id>' or null. */
  source: string | null;
  subscriptionId: string | null;
  state: string | null;
  paidThrough: number | null;
  lastPaymentAt: number | null;
}

const SUBSCRIPTION_SOURCE = 'subscription:';

/**
 * Every member, in id order (the primary key's order: no sort), each with one
 * subscription: the one their entitlement comes from, else their most recently
 * updated one (a lapsed member's last subscription), else none. An iterator,
 * so 100,000 members are read a row at a time; run it on a connection of its
 * own (store/reader.ts) when it is consumed across event-loop turns.
 *
 * Drizzle 0.45 has no iterator for SQLite: it builds the query and
 * better-sqlite3 iterates it, in array mode (two tables' columns share names).
 */
export function* iterateMemberExportRows({ db, sqlite }: Pick<Store, 'db' | 'sqlite'>): Generator<MemberExportRow> {
  const latest = sql`(SELECT s2.id FROM ${subscriptions} s2 WHERE s2.member_id = ${members.discordUserId} ORDER BY s2.updated_at DESC LIMIT 1)`;
  const fromSource = sql`CASE WHEN ${members.entitledSource} LIKE ${`${SUBSCRIPTION_SOURCE}%`} THEN substr(${members.entitledSource}, ${SUBSCRIPTION_SOURCE.length + 1}) END`;
  const query = db
    .select({
      memberId: members.discordUserId,
      tier: members.entitledTier,
      source: members.entitledSource,
      subscriptionId: subscriptions.id,
      state: subscriptions.state,
      paidThrough: subscriptions.paidThrough,
      lastPaymentAt: subscriptions.lastPaymentAt,
    })
    .from(members)
    .leftJoin(subscriptions, sql`${subscriptions.id} = coalesce(${fromSource}, ${latest})`)
    .orderBy(asc(members.discordUserId))
    .toSQL();
  const rows = sqlite.prepare(query.sql).raw(true).iterate(...query.params) as IterableIterator<unknown[]>;
  for (const [memberId, tier, source, subscriptionId, state, paidThrough, lastPaymentAt] of rows) {
    yield {
      memberId: String(memberId),
      tier: tier as string | null,
      source: source as string | null,
      subscriptionId: subscriptionId as string | null,
      state: state as string | null,
      paidThrough: paidThrough as number | null,
      lastPaymentAt: lastPaymentAt as number | null,
    };
  }
}

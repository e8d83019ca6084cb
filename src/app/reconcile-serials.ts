import { isEmptyPlan } from '../core/serial.ts';
import { unlocks, type TierCatalog } from '../core/tiers.ts';
import type { Logger } from '../log.ts';
import type { Store } from '../store/db.ts';
import { getMember } from '../store/member-repo.ts';
import { listMembersWithSerialDrift } from '../store/serial-repo.ts';
import type { TiersSource } from '../tiers.ts';
import type { MemberEffects } from './member-effects.ts';
import { enqueueMemberSync } from './sync-marketplace.ts';
import { syncSerials } from './sync-serials.ts';

/**
 * Brings every member's serials in line with their stored tier under a
 * catalogue: members entitled before serials existed (the upgrade that adds
 * them), a tiers file edited while Concierge was stopped, and every accepted
 * tiers file change (a script added, or its minimum tier moved). Only
 * members whose serials disagree are touched; between changes each member's
 * serials follow their own recompute (app/sync-serials.ts).
 */

/**
 * Members per transaction. Measured on the 2-core dev machine: 0.5–1.3 ms a
 * member when two serials are issued (about 160 µs a serial, two thirds of
 * it drizzle building the INSERT, the rest the draw, HMAC and AES-GCM), so a
 * batch holds the write lock and the event loop for 50–130 ms; a first
 * backfill of 80,000 entitled members took 70–100 s.
 */
const BATCH = 100;

/** The members whose serials disagree with their stored tier under `catalog`. */
export function listSerialDrift(store: Pick<Store, 'db'>, catalog: TierCatalog): string[] {
  const access = new Map(catalog.file.scripts.map((s) => [s.key, catalog.tiers.filter((t) => unlocks(catalog, t, s)).map((t) => t.key)]));
  return listMembersWithSerialDrift(store.db, access);
}

/** Syncs these members' serials in one transaction, each from their stored tier as it is now (it may have moved since the drift was listed). */
export function syncMembersSerials(store: Store, effects: MemberEffects, memberIds: readonly string[], catalog: TierCatalog, now: number): void {
  store.transaction((tx) => {
    for (const memberId of memberIds) {
      const tierKey = getMember(tx, memberId)?.entitledTier ?? null;
      const plan = syncSerials(tx, effects.vault, memberId, tierKey === null ? null : (catalog.byKey(tierKey) ?? null), catalog, now);
      // Bulk: a tiers file edit can move every member's serials; the marketplace hears of them behind live work.
      if (!isEmptyPlan(plan)) enqueueMemberSync(tx, effects, memberId, now, { bulk: true });
    }
  });
}

/** All at once, synchronously: tests and maintenance commands. Returns how many members were synced. */
export function reconcileSerials(store: Store, effects: MemberEffects, catalog: TierCatalog, now: number): number {
  const drifted = listSerialDrift(store, catalog);
  for (let i = 0; i < drifted.length; i += BATCH) syncMembersSerials(store, effects, drifted.slice(i, i + BATCH), catalog, now);
  return drifted.length;
}

const yieldToEventLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * The service's reconciler: runs once at start and after every accepted
 * tiers file change, in the background, one batch per event-loop turn, so a
 * first backfill (a minute or two for 100,000 members) delays neither the
 * start nor a webhook by more than one batch. A change that arrives
 * meanwhile restarts it under the newer catalogue. A failure is logged, not
 * thrown: each member's serials still follow their next recompute. Call
 * `stop` before the store closes.
 */
export function keepSerialsInLine(deps: { store: Store; tiers: Pick<TiersSource, 'current' | 'onChange'>; clock: () => number; log: Logger; effects: MemberEffects }): { stop(): void } {
  let next: TierCatalog | null = deps.tiers.current();
  let running = false;
  let stopped = false;

  const run = async (): Promise<void> => {
    running = true;
    try {
      while (next !== null && !stopped) {
        const catalog = next;
        next = null;
        await yieldToEventLoop();
        if (stopped || next !== null) continue;
        const drifted = listSerialDrift(deps.store, catalog);
        let synced = 0;
        for (; synced < drifted.length && !stopped && next === null; synced += BATCH) {
          syncMembersSerials(deps.store, deps.effects, drifted.slice(synced, synced + BATCH), catalog, deps.clock());
          await yieldToEventLoop();
        }
        if (drifted.length > 0) deps.log.info({ members: Math.min(synced, drifted.length), of: drifted.length }, 'serials brought in line with the tiers file');
      }
    } catch (err) {
      deps.log.error({ err }, "serials could not be brought in line with the tiers file; each member's follow at their next change");
    } finally {
      running = false;
    }
  };

  deps.tiers.onChange((catalog) => {
    next = catalog;
    if (!running) void run();
  });
  void run();
  return { stop: () => void (stopped = true) };
}

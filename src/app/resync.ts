import { roleSyncJob } from '../jobs/definitions.ts';
import { enqueue } from '../jobs/queue.ts';
import type { Logger } from '../log.ts';
import type { Store } from '../store/db.ts';
import { hasPendingJob } from '../store/job-admin-repo.ts';
import { listFinishedJobs } from '../store/job-repo.ts';
import { listEntitledMemberIds } from '../store/member-repo.ts';
import type { TiersSource } from '../tiers.ts';

/** Who holds which managed roles on Discord now (discord/guild-members.ts implements it). */
export interface RoleHolders {
  /**
   * Members now in the guild who hold a managed role or are among `candidates`, with the managed roles they hold,
   * handed to `onChunk` a chunk at a time as Discord sends them (each member once); resolves after the last.
   */
  streamManagedRoles(managedRoleIds: ReadonlySet<string>, candidates: ReadonlySet<string>, onChunk: (members: ReadonlyMap<string, readonly string[]>) => void): Promise<void>;
}

/** Counts Discord's 429 answers from now until stopped (discord/rest-429s.ts implements it). */
export type WatchRateLimits = () => { count(): number; stop(): void };

/** Where a bulk resync stands. */
export interface ResyncProgress {
  /** Members whose role-sync job has finished, successfully or not. */
  done: number;
  total: number;
  /** Of those, the ones whose job was dead-lettered (their roles may still be wrong). */
  failed: number;
  /** Discord's 429 answers since the resync started (discord.js waits them out; a few are normal). */
  rateLimited: number;
  /** Every job has finished. */
  finished: boolean;
}

export interface ResyncRun {
  members: number;
  /** Resolves with the last progress once every job has finished, or when the service stops first (`finished` false). */
  finished: Promise<ResyncProgress>;
}

export interface Resync {
  /**
   * Re-syncs the roles of every member who holds a managed role on Discord or
   * is entitled in the store: one role-sync job each (at Discord's rate limit),
   * progress logged and, when asked for, reported to `onProgress` at each poll.
   * Resolves once the jobs are queued.
   */
  resyncAll(o?: { onProgress?: (p: ResyncProgress) => void }): Promise<ResyncRun>;
  /** Stops following the resyncs still running (shutdown). */
  stop(): void;
}

export interface ResyncDeps {
  store: Store;
  tiers: TiersSource;
  roleHolders: RoleHolders;
  clock: () => number;
  log: Logger;
  watchRateLimits?: WatchRateLimits;
  /** How often progress is read from the job table; default 1000 ms. */
  pollMs?: number;
}

export function createResync(d: ResyncDeps): Resync {
  const running = new Set<() => void>();
  return {
    async resyncAll(o = {}) {
      // Entitled members not yet seen in the guild: each chunk's members leave it as they are queued, and whoever
      // is left at the end is not in the guild (held null). Queuing chunk by chunk keeps no list of the whole guild:
      // at 100,000 members that list and its copies were ~20 MB of the resync's peak (bench:memory).
      const notSeen = new Set(listEntitledMemberIds(d.store.db));
      const entitled = notSeen.size;
      const ids: number[] = [];
      let inGuild = 0;
      await d.roleHolders.streamManagedRoles(d.tiers.current().managedRoleIds, notSeen, (members) => {
        inGuild += members.size;
        queueResyncJobs(d.store, members.keys(), members, d.clock(), ids);
        for (const id of members.keys()) notSeen.delete(id);
      });
      await enqueueResync(d.store, [...notSeen], new Map(), d.clock, ids);
      d.log.info({ members: ids.length, inGuild, entitled }, 'resync queued');
      const finished = trackResync(d, ids, o.onProgress ?? (() => undefined), running);
      return { members: ids.length, finished };
    },
    stop() {
      for (const stop of running) stop();
    },
  };
}

/** Jobs read per statement by the resync's progress poll (trackResync). */
const PROGRESS_SLICE = 1_000;

/** Members queued per transaction by a bulk resync (see enqueueResync). */
const RESYNC_BATCH = 2_000;

/**
 * Bulk resync: one role-sync job per member, a gateway chunk (1,000) or
 * RESYNC_BATCH members per transaction, yielding to the event loop between them. One transaction for
 * 100,000 members held the write lock, SQLite's dirty pages and every
 * statement's garbage until it committed, froze HTTP and the gateway all the
 * while, and the runner could start no job before the last was queued
 * (bench:memory). Batches lose nothing: each member's job is self-contained,
 * and what changes for a member between two batches is handled as below.
 * The dedupe key is the member id, so a member whose sync is already queued
 * gets no second job (the queued one collapses into this one).
 *
 * Each job carries the managed roles the member held at the member fetch
 * (`held`; null: not in the guild), so it makes no GET: the fetch leaves no
 * member cached to read them from (discord/guild-members.ts), and 100,000
 * GETs would take Discord's rate limit hours. A snapshot can only go stale
 * by a later change, and each kind is covered: a sync queued for the member
 * afterwards (a payment, a moderator's edit) collapses into the job and
 * replaces its payload, so the job reads Discord afresh; a member with a
 * sync already pending gets no snapshot (it may be about to change their
 * roles); a sync that ran in between moved the roles towards what the store
 * wants, which the job reads when it runs, so the stale difference costs at
 * most a call that changes nothing (adding a role held, removing one not held).
 *
 * Pacing is Discord's: every role change goes through discord.js, which
 * serialises the guild's member-role bucket and waits on its headers, so
 * the runner's few concurrent jobs only queue up behind each other there.
 *
 * The jobs are bulk work (roleSyncJob's priority for `resync`): a live role sync (a member who just paid) is
 * claimed before them, so it waits for at most the few already running.
 *
 * Appends the job ids (existing or new) to `ids`, for progress.
 */
async function enqueueResync(store: Store, memberIds: readonly string[], held: ReadonlyMap<string, readonly string[]>, clock: () => number, ids: number[]): Promise<void> {
  for (let start = 0; start < memberIds.length; start += RESYNC_BATCH) {
    if (start > 0) await new Promise((resolve) => setImmediate(resolve));
    queueResyncJobs(store, memberIds.slice(start, start + RESYNC_BATCH), held, clock(), ids);
  }
}

/** One transaction of enqueueResync: a role-sync job for each member, its id appended to `ids`. */
function queueResyncJobs(store: Store, memberIds: Iterable<string>, held: ReadonlyMap<string, readonly string[]>, now: number, ids: number[]): void {
  store.transaction((tx) => {
    for (const memberId of memberIds) {
      const roles = hasPendingJob(tx, roleSyncJob.kind, memberId) ? undefined : (held.get(memberId) ?? null);
      ids.push(enqueue(tx, roleSyncJob, { memberId, resync: true, held: roles === undefined || roles === null ? roles : [...roles] }, now, { dedupeKey: memberId }));
    }
  });
}

/**
 * Follows the jobs by polling the job table: reports each poll to
 * `onProgress` and logs `{ done, total, failed }` 'resync progress' each time
 * another ~10% has finished, until all have. Registered in `running` until
 * then, so a shutdown stops it (resolving with what it saw last).
 */
function trackResync(d: ResyncDeps, jobIds: readonly number[], onProgress: (p: ResyncProgress) => void, running: Set<() => void>): Promise<ResyncProgress> {
  const total = jobIds.length;
  // Only the jobs not yet seen finished are read again, in slices, compacted in place: a poll costs what is left,
  // not the whole resync, and allocates no large object (one 1.9 MB id list a second left V8's old space growing
  // by ~1.5 MB/s during a 100,000-member resync until a full GC: bench:memory).
  const unfinished = Float64Array.from(jobIds);
  let left = unfinished.length;
  let done = 0;
  let failed = 0;
  const read = (): ResyncProgress => {
    let kept = 0;
    for (let i = 0; i < left; i += PROGRESS_SLICE) {
      const slice = unfinished.subarray(i, Math.min(left, i + PROGRESS_SLICE));
      const finished = new Map(listFinishedJobs(d.store.db, Array.from(slice)).map((j) => [j.id, j.status]));
      for (const id of slice) {
        const status = finished.get(id);
        if (status === undefined) unfinished[kept++] = id;
        else {
          done += 1;
          if (status === 'dead') failed += 1;
        }
      }
    }
    left = kept;
    return { done, total, failed, rateLimited: rateLimits?.count() ?? 0, finished: left === 0 };
  };
  let last: ResyncProgress = { done: 0, total, failed: 0, rateLimited: 0, finished: total === 0 };
  if (total === 0) {
    onProgress(last);
    return Promise.resolve(last);
  }
  const step = Math.max(1, Math.ceil(total / 10));
  let logged = 0;
  const rateLimits = d.watchRateLimits?.();
  return new Promise((resolve) => {
    const stop = () => {
      clearInterval(timer);
      rateLimits?.stop();
      running.delete(stop);
      resolve(last);
    };
    const timer = setInterval(() => {
      try {
        last = read();
      } catch (err) {
        d.log.warn({ err }, 'reading resync progress failed');
        return;
      }
      if (last.finished || last.done - logged >= step) {
        logged = last.done;
        d.log.info({ done: last.done, total, failed: last.failed, rateLimited: last.rateLimited }, 'resync progress');
      }
      onProgress(last);
      if (last.finished) stop();
    }, d.pollMs ?? 1000);
    timer.unref();
    running.add(stop);
  });
}

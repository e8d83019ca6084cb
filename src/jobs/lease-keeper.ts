import type { Logger } from '../log.ts';
import type { Store } from '../store/db.ts';
import { extendLease, type Lease } from '../store/job-repo.ts';
import { describeThrown } from './queue.ts';

/**
 * The heartbeat of a running job: pushes its lease forward every third of
 * the lease, so a slow but alive handler is not taken over. When the lease
 * turns out to belong to another worker (this one stalled past it), calls
 * `onLost` once and stops. Returns the timer, for clearInterval when the
 * handler ends.
 */
export function keepLease(o: { store: Store; lease: Lease; leaseMs: number; clock: () => number; log: Logger }, onLost: () => void): NodeJS.Timeout {
  const heartbeat = setInterval(() => {
    try {
      const now = o.clock();
      if (!extendLease(o.store.db, o.lease, now + o.leaseMs, now)) {
        o.log.warn('lease lost to another worker; aborting the handler');
        clearInterval(heartbeat);
        onLost();
      }
    } catch (err) {
      // Transient (e.g. busy database): the next beat tries again well within the lease.
      o.log.warn({ error: describeThrown(err) }, 'extending the job lease failed');
    }
  }, Math.max(1, Math.floor(o.leaseMs / 3)));
  return heartbeat;
}

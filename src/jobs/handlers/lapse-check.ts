import { recomputeMember } from '../../app/recompute-member.ts';
import type { Store } from '../../store/db.ts';
import type { TiersSource } from '../../tiers.ts';
import { lapseCheckJob } from '../definitions.ts';
import { handleJob } from '../handler.ts';

/**
 * Runs when a member's entitlement may end (paid-through, grace or a grant's
 * expiry passed): recomputes it from the store; a change enqueues role sync.
 * Reads no API, so an outage can never end access early.
 */
export function lapseCheckHandler(deps: { store: Store; tiers: TiersSource }) {
  return handleJob(lapseCheckJob, async (payload, ctx) => {
    deps.store.transaction((tx) => {
      recomputeMember(tx, payload.memberId, deps.tiers.current(), ctx.now(), { reason: 'paid-through, grace or grant period ended' });
    });
  });
}

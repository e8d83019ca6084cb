import { z } from 'zod';
import type { Store } from '../../store/db.ts';
import { getMember } from '../../store/member-repo.ts';
import { defineJobHandler } from '../runner.ts';

/**
 * Brings a member's Discord roles in line with their entitlement. Until the
 * Discord reconciler lands this handler only records what it would apply.
 */
export function roleSyncHandler(deps: { store: Store }) {
  return defineJobHandler({
    schema: z.object({ memberId: z.string().min(1) }),
    run: async (payload, ctx) => {
      const member = getMember(deps.store.db, payload.memberId);
      ctx.log.info({ memberId: payload.memberId, tier: member?.entitledTier ?? null }, 'role sync requested (no Discord connection yet)');
    },
  });
}

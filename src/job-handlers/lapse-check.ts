import { recomputeAfterLapse } from '../app/recompute-member.ts';
import type { Store } from '../store/db.ts';
import type { TiersSource } from '../tiers.ts';
import { lapseCheckJob } from '../jobs/definitions.ts';
import { handleJob } from '../jobs/handler.ts';
import type { MemberEffects } from '../app/member-effects.ts';

/** Recomputes a member's entitlement when it may have ended (app/recompute-member.ts). */
export function lapseCheckHandler(deps: { store: Store; tiers: TiersSource; effects: MemberEffects }) {
  return handleJob(lapseCheckJob, async (p, ctx) => recomputeAfterLapse(deps, p.memberId, ctx.now()));
}

import { syncMemberToMarketplace, type MarketplaceSyncDeps } from '../app/sync-marketplace.ts';
import { marketplaceMemberJob } from '../jobs/definitions.ts';
import { handleJob } from '../jobs/handler.ts';

/** PUTs a member's current state to the marketplace (app/sync-marketplace.ts). */
export function marketplaceMemberHandler(deps: MarketplaceSyncDeps) {
  return handleJob(marketplaceMemberJob, (p, ctx) => syncMemberToMarketplace(deps, p.memberId, ctx.signal, ctx.log));
}

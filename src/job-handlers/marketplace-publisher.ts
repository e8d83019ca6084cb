import { syncPublisherToMarketplace, type MarketplaceSyncDeps } from '../app/sync-marketplace.ts';
import { marketplacePublisherJob } from '../jobs/definitions.ts';
import { handleJob } from '../jobs/handler.ts';

/** PUTs the publisher profile to the marketplace (app/sync-marketplace.ts). */
export function marketplacePublisherHandler(deps: MarketplaceSyncDeps) {
  return handleJob(marketplacePublisherJob, (_p, ctx) => syncPublisherToMarketplace(deps, ctx.signal, ctx.log));
}

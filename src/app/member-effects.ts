import type { SerialVault } from '../serials/serial-vault.ts';

/**
 * What a change to a member sets off besides its own rows, decided once at
 * start (service.ts, the CLI) and handed explicitly to every use case that
 * recomputes a member inside its transaction: serials are issued under the
 * vault's key (app/sync-serials.ts) and, with a marketplace configured, the
 * marketplace sync is queued (app/sync-marketplace.ts). Passed as a value
 * rather than bound to the store, so a function's parameters say what it needs.
 */
export interface MemberEffects {
  /** Mints, hashes, seals and opens serials; its key lives outside the database (serials/serial-key.ts). */
  vault: SerialVault;
  /** true when MARKETPLACE_API_URL is set: a change of tier or serials queues the member's marketplace sync. */
  marketplaceSync: boolean;
}

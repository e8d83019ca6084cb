import { marketplaceMemberJob, marketplacePublisherJob } from '../jobs/definitions.ts';
import { enqueue } from '../jobs/queue.ts';
import type { Logger } from '../log.ts';
import type { Store, Tx } from '../store/db.ts';
import { bumpMemberMarketplaceVersion, bumpPublisherVersion, getPublisherProfile, markMemberMarketplaceSynced } from '../store/marketplace-repo.ts';
import { getMember } from '../store/member-repo.ts';
import { listMemberSerialRows } from '../store/serial-repo.ts';
import type { SerialVault } from '../serials/serial-vault.ts';
import type { MemberEffects } from './member-effects.ts';
import { openSerials } from './member-overview.ts';

/**
 * The marketplace sync (SPEC "Marketplace" and "Marketplace contract"): after
 * every change of a member's tier or serials, and of the publisher profile,
 * a job PUTs the COMPLETE current state with a version that only increases.
 * The job reads the state when it sends, so a burst of changes is one PUT,
 * and a retry or a late request is harmless: the receiver keeps the highest
 * version. Off (nothing queued, nothing sent) when no marketplace is configured.
 */

/** Body of `PUT {base}/v1/members/{discordUserId}`. */
export interface MemberMarketplaceState {
  /** The member's entitled tier key; null without access. */
  tier: string | null;
  /** Every serial the member holds, active or suspended, by script key. */
  scripts: { key: string; serial: string; active: boolean }[];
  version: number;
}

/** Body of `PUT {base}/v1/publisher`; `version` as for members, so a late request cannot undo a newer profile. */
export interface PublisherMarketplaceState {
  bio: string;
  url: string | null;
  icon_url: string | null;
  version: number;
}

/** 'superseded': the marketplace answered that it holds a newer version already (409), which is success for a sync. */
export type MarketplaceAnswer = 'accepted' | 'superseded';

/** What the sync needs of the marketplace (marketplace/client.ts implements it). Errors carry the retry bit (errors.ts). */
export interface MarketplaceGateway {
  putMember(memberId: string, state: MemberMarketplaceState, signal: AbortSignal): Promise<MarketplaceAnswer>;
  putPublisher(state: PublisherMarketplaceState, signal: AbortSignal): Promise<MarketplaceAnswer>;
}

export interface MarketplaceSyncDeps {
  store: Store;
  /** null: no marketplace configured; a job queued by an earlier run that had one finishes without a call. */
  marketplace: MarketplaceGateway | null;
  /** Opens the serials the member's state lists. */
  vault: SerialVault;
}

/**
 * Call in the transaction that changed a member's tier or serials: bumps the
 * member's version and, with the sync on, queues one sync (a queued one
 * absorbs it, so a burst is one PUT), due now. The version is bumped with the
 * sync off too: it then records that the marketplace is behind, and the
 * start-up backfill (app/marketplace-backfill.ts) sends the member once a
 * marketplace is configured. `bulk` for changes made to many members at once (a
 * tiers file edit), which wait behind live work. A member recomputed twice in
 * one transaction is bumped twice: harmless, the version still only grows and
 * the second job collapses into the first.
 */
export function enqueueMemberSync(tx: Tx, effects: Pick<MemberEffects, 'marketplaceSync'>, memberId: string, now: number, opts: { bulk?: boolean } = {}): void {
  bumpMemberMarketplaceVersion(tx, memberId, now);
  if (!effects.marketplaceSync) return;
  enqueue(tx, marketplaceMemberJob, opts.bulk === true ? { memberId, bulk: true } : { memberId }, now, { dedupeKey: memberId });
}

/** Call in the transaction that saved the publisher profile (/publisher): bumps its version and queues one sync. */
export function enqueuePublisherSync(tx: Tx, effects: Pick<MemberEffects, 'marketplaceSync'>, now: number): void {
  if (!effects.marketplaceSync) return;
  bumpPublisherVersion(tx, now);
  enqueue(tx, marketplacePublisherJob, {}, now, { dedupeKey: 'publisher' });
}

/** The marketplace-member job: reads the member's state as it is now and PUTs it. */
export async function syncMemberToMarketplace(deps: MarketplaceSyncDeps, memberId: string, signal: AbortSignal, log: Logger): Promise<void> {
  if (deps.marketplace === null) {
    log.info({ memberId }, 'marketplace sync is off (MARKETPLACE_API_URL unset): nothing sent');
    return;
  }
  const state = readMemberState(deps, memberId);
  if (state === null) {
    log.warn({ memberId }, 'no such member: nothing to send the marketplace');
    return;
  }
  const answer = await deps.marketplace.putMember(memberId, state, signal);
  markMemberMarketplaceSynced(deps.store.db, memberId, state.version);
  log.info({ memberId, version: state.version, tier: state.tier, scripts: state.scripts.length, answer }, 'member state sent to the marketplace');
}

/** The marketplace-publisher job: reads the profile as it is now and PUTs it. */
export async function syncPublisherToMarketplace(deps: MarketplaceSyncDeps, signal: AbortSignal, log: Logger): Promise<void> {
  if (deps.marketplace === null) {
    log.info('marketplace sync is off (MARKETPLACE_API_URL unset): nothing sent');
    return;
  }
  const profile = getPublisherProfile(deps.store.db);
  if (profile === undefined) {
    log.warn('no publisher profile saved: nothing to send the marketplace');
    return;
  }
  const state: PublisherMarketplaceState = { bio: profile.bio, url: profile.url, icon_url: profile.iconUrl, version: profile.version };
  const answer = await deps.marketplace.putPublisher(state, signal);
  log.info({ version: state.version, answer }, 'publisher profile sent to the marketplace');
}

/** Tier, version and serials from one snapshot (a deferred read transaction takes no write lock); serials opened after it. */
function readMemberState(deps: MarketplaceSyncDeps, memberId: string): MemberMarketplaceState | null {
  const read = deps.store.db.transaction(
    (tx) => {
      const member = getMember(tx, memberId);
      return member === undefined ? null : { member, rows: listMemberSerialRows(tx, memberId) };
    },
    { behavior: 'deferred' },
  );
  if (read === null) return null;
  const scripts = openSerials(deps.vault, read.rows).map((s) => ({ key: s.scriptKey, serial: s.serial, active: s.status === 'active' }));
  return { tier: read.member.entitledTier, scripts, version: read.member.marketplaceVersion };
}

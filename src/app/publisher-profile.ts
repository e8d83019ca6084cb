import type { MemberEffects } from './member-effects.ts';
import { enqueuePublisherSync } from './sync-marketplace.ts';
import { checkBio, checkHttpsUrl, checkIcon, type ImageFacts } from '../core/publisher-profile.ts';
import type { Store } from '../store/db.ts';
import { getPublisherProfile, updatePublisherProfile, type PublisherProfileChange, type PublisherProfileRow } from '../store/publisher-repo.ts';
import { recordStaffAction } from './staff-audit.ts';

/**
 * `/publisher`: the community's profile on the marketplace, one row. A change
 * is validated (core/publisher-profile.ts), stored with a version that only
 * increases, audited as a staff action and pushed to the marketplace through
 * the job queue, all in one transaction.
 */

/** Learns what an icon URL serves (discord/commands/publisher-icon.ts implements it over HTTPS). */
export interface ImageProbe {
  probe(url: string): Promise<{ ok: true; image: ImageFacts } | { ok: false; message: string }>;
}

export type PublisherEdit =
  | { field: 'bio'; text: string }
  | { field: 'url'; url: string }
  /** `image`: what Discord says of an uploaded attachment; without it the URL is fetched to check it. */
  | { field: 'icon'; url: string; image: ImageFacts | null };

export type PublisherEditResult = { ok: true; profile: PublisherProfileRow } | { ok: false; message: string };

export function readPublisherProfile(store: Pick<Store, 'db'>): PublisherProfileRow | undefined {
  return getPublisherProfile(store.db);
}

export async function editPublisherProfile(deps: { store: Store; probe: ImageProbe; clock: () => number; effects: Pick<MemberEffects, 'marketplaceSync'> }, actorId: string, edit: PublisherEdit): Promise<PublisherEditResult> {
  const checked = await checkEdit(deps.probe, edit);
  if (!checked.ok) return checked;
  const now = deps.clock();
  const profile = deps.store.transaction((tx) => {
    const row = updatePublisherProfile(tx, checked.change, actorId, now);
    recordStaffAction(tx, { action: 'publisher', actorId, targetId: null, summary: `${checked.summary} (profile version ${row.version})`, reason: null, data: { version: row.version } }, now);
    // Queues the marketplace's publisher PUT in the same transaction (a no-op when no marketplace is configured).
    enqueuePublisherSync(tx, deps.effects, now);
    return row;
  });
  return { ok: true, profile };
}

async function checkEdit(probe: ImageProbe, edit: PublisherEdit): Promise<{ ok: true; change: PublisherProfileChange; summary: string } | { ok: false; message: string }> {
  switch (edit.field) {
    case 'bio': {
      const bio = checkBio(edit.text);
      return bio.ok ? { ok: true, change: { bio: bio.value }, summary: `set the publisher bio (${bio.value.length} characters)` } : bio;
    }
    case 'url': {
      const url = checkHttpsUrl(edit.url, 'URL');
      return url.ok ? { ok: true, change: { url: url.value }, summary: `set the publisher URL to ${url.value}` } : url;
    }
    case 'icon': {
      const url = checkHttpsUrl(edit.url, 'icon URL');
      if (!url.ok) return url;
      const probed = edit.image === null ? await probe.probe(url.value) : { ok: true as const, image: edit.image };
      if (!probed.ok) return probed;
      const icon = checkIcon(probed.image);
      if (!icon.ok) return icon;
      return { ok: true, change: { iconUrl: url.value }, summary: `set the publisher icon to ${url.value} (${icon.value.contentType}, ${icon.value.bytes} bytes)` };
    }
  }
}

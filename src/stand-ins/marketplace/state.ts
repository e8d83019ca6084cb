import { z } from 'zod';

/**
 * What the marketplace stand-in holds: each member's and the publisher's
 * latest state, by the highest version received (SPEC: a retried or late
 * request with a lower or equal version changes nothing).
 */

const version = z.number().int().nonnegative();

export const memberBodySchema = z.object({
  tier: z.string().min(1).nullable(),
  scripts: z.array(z.object({ key: z.string().min(1), serial: z.string().min(1), active: z.boolean() })),
  version,
});
export type MemberState = z.infer<typeof memberBodySchema>;

export const publisherBodySchema = z.object({
  bio: z.string(),
  url: z.string().nullable(),
  icon_url: z.string().nullable(),
  // Optional: SPEC names bio, url and icon_url; Concierge adds a version like a member's.
  version: version.optional(),
});
export type PublisherState = z.infer<typeof publisherBodySchema>;

/** applied: the state is now this request's; held: an equal or newer version was there already. */
export type ApplyOutcome = { applied: boolean; version: number };

export function createMarketplaceState() {
  const members = new Map<string, MemberState>();
  let publisher: PublisherState | null = null;
  return {
    putMember(memberId: string, next: MemberState): ApplyOutcome {
      const held = members.get(memberId);
      if (held !== undefined && held.version >= next.version) return { applied: false, version: held.version };
      members.set(memberId, next);
      return { applied: true, version: next.version };
    },
    putPublisher(next: PublisherState): ApplyOutcome {
      const heldVersion = publisher?.version ?? -1;
      const nextVersion = next.version ?? heldVersion + 1;
      if (publisher !== null && heldVersion >= nextVersion) return { applied: false, version: heldVersion };
      publisher = { ...next, version: nextVersion };
      return { applied: true, version: nextVersion };
    },
    member: (memberId: string): MemberState | undefined => members.get(memberId),
    publisher: (): PublisherState | null => publisher,
    clear(): void {
      members.clear();
      publisher = null;
    },
  };
}

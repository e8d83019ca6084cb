import { eq } from 'drizzle-orm';
import { expect } from 'vitest';
import type { OptionValue, UploadSpec } from '../../src/stand-ins/discord/interaction-payloads.ts';
import type { DiscordStandInOptions } from '../../src/stand-ins/discord/server.ts';
import type { MessageBody } from '../../src/stand-ins/discord/validate-message.ts';
import { auditEntries, grants } from '../../src/store/schema.ts';
import { startHarness, UNMANAGED_ROLE, type Harness } from './harness.ts';
import { ROLE_IDS, STAFF_ROLE_ID, TIER_ORDER } from './tiers.ts';

/** What staff do in end-to-end tests: run `/admin` and `/publisher`, click the buttons under the replies. */

/** The harness guild's roles plus a Staff role under the fixture's staff_role_ids id. */
export function staffGuild(): DiscordStandInOptions {
  const tiers = TIER_ORDER.map((key, i) => ({ id: ROLE_IDS[key], name: key[0]?.toUpperCase() + key.slice(1), position: i + 1 }));
  return { roles: [...tiers, { name: UNMANAGED_ROLE, position: TIER_ORDER.length + 1 }, { id: STAFF_ROLE_ID, name: 'Staff', position: TIER_ORDER.length + 2 }], messageLimit: 1000 };
}

/** A harness whose guild has the Staff role, held by `staffId`. */
export async function startStaffHarness(staffId: string): Promise<Harness> {
  const h = await startHarness({ discord: staffGuild() });
  h.discord.addMember(staffId, { username: 'staff', roles: [STAFF_ROLE_ID] });
  return h;
}

/** A new guild member each call, ids counting up from `first` (a range of its own per test file). */
export function createMemberMaker(h: () => Harness, first: bigint): () => string {
  let next = first;
  return () => {
    const id = String(++next);
    h().discord.addMember(id, { username: `member-${id.slice(-4)}` });
    return id;
  };
}

/** The member's staff.* audit entries, oldest first. */
export function staffAuditsOf(h: Harness, memberId: string) {
  return h.service.store.db
    .select()
    .from(auditEntries)
    .where(eq(auditEntries.memberId, memberId))
    .all()
    .filter((a) => a.kind.startsWith('staff.'));
}

export function listGrants(h: Harness, memberId: string) {
  return h.service.store.db.select().from(grants).where(eq(grants.memberId, memberId)).all();
}

/**
 * Runs a staff command as `userId` and returns its ephemeral answer: the
 * callback's own message for a subcommand answered from the store, or what
 * the "thinking…" message became for a deferred one.
 */
export async function runStaffCommand(
  h: Harness,
  command: 'admin' | 'publisher',
  subcommand: string,
  userId: string,
  options: Record<string, OptionValue> = {},
  attachments: Record<string, UploadSpec> = {},
): Promise<MessageBody> {
  const handle = h.discord.interact({ type: 'command', name: command, subcommand, userId, options, attachments });
  const response = await handle.response();
  expect(response).toMatchObject({ accepted: true, ephemeral: true });
  if (response.type === 4) {
    if (response.data === undefined) throw new Error(`/${command} ${subcommand}: an empty reply`);
    return response.data;
  }
  expect(response.type).toBe(5);
  const [edit] = await handle.waitForEdits(1, 8_000);
  if (edit?.body === undefined) throw new Error(`/${command} ${subcommand}: no reply`);
  return edit.body;
}

interface Button {
  custom_id: string;
  label: string;
  style: number;
}

export function buttonsOf(body: MessageBody): Button[] {
  return (body.components?.[0] as { components?: Button[] } | undefined)?.components ?? [];
}

/** Clicks a button on a staff reply (the handlers defer); returns what the message became. */
export async function clickStaffButton(h: Harness, customId: string, userId: string): Promise<MessageBody | undefined> {
  const handle = h.discord.interact({ type: 'button', customId, userId });
  const response = await handle.response();
  if (response.type !== 6) return response.data;
  const [edit] = await handle.waitForEdits(1, 8_000);
  return edit?.body;
}

import { and, eq, inArray } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MEMBER_CACHE_SIZE } from '../../src/discord/client.ts';
import { ensureMember, setMemberEntitlement } from '../../src/store/member-repo.ts';
import { jobs } from '../../src/store/schema.ts';
import { startHarness, type Harness } from '../helpers/harness.ts';
import { commandReply, embedOf } from '../helpers/member-actions.ts';
import { ROLE_IDS } from '../helpers/tiers.ts';

/**
 * Bounded memory (issue 15): what the REAL discord.js client keeps after a
 * bulk resync of a guild larger than its member cache, and that the bot
 * still works with its members swept. Memory itself at 100,000 members:
 * `npm run bench:memory`.
 */

const MEMBERS = MEMBER_CACHE_SIZE + 500;
/** Entitled to Elite in the store; every 2nd already holds the role on Discord. */
const ENTITLED = 20;
const memberId = (i: number) => String(820000000000000000n + BigInt(i));
/** In the guild, not entitled, holding no managed role: their first sync comes after the resync. */
const LATER = memberId(MEMBERS - 1);

let h: Harness;
beforeAll(async () => {
  const members = Array.from({ length: MEMBERS }, (_, i) => ({ id: memberId(i), roles: i < ENTITLED && i % 2 === 0 ? [ROLE_IDS.elite] : [] }));
  h = await startHarness({ discord: { members, roleLimit: 50, roleWindowMs: 500, globalLimit: 100_000 } });
  h.service.store.transaction((tx) => {
    for (let i = 0; i < ENTITLED; i++) {
      ensureMember(tx, memberId(i), h.now());
      setMemberEntitlement(tx, memberId(i), { tier: 'elite', until: null, source: 'test' }, h.now());
    }
  });
}, 60_000);
afterAll(() => h.close());

const client = () => h.service.discord.client;
const guild = () => {
  const g = h.service.discord.guild();
  if (g === null) throw new Error('not in the guild');
  return g;
};
const pendingRoleSyncs = () => h.service.store.db.select().from(jobs).where(and(eq(jobs.kind, 'role-sync'), inArray(jobs.status, ['queued', 'running']))).all().length;
const memberGets = () => h.discord.requests.filter((r) => r.method === 'GET' && /\/members\/\d+$/.test(r.path));

describe('discord.js caches at a bulk resync', () => {
  it(`a resync of ${MEMBERS} members fixes their roles without a GET each and leaves none of them cached, the bot's own member kept`, async () => {
    h.discord.clearRequests();
    expect((await h.service.resyncAll()).members).toBe(ENTITLED);
    await h.waitFor(() => pendingRoleSyncs() === 0, 20_000);
    for (let i = 0; i < ENTITLED; i++) expect(h.discord.member(memberId(i))).toEqual([ROLE_IDS.elite]);
    // Only the missing roles were PUT; the roles held came from the gateway's member chunks.
    expect(h.discord.requests.filter((r) => r.method === 'PUT')).toHaveLength(ENTITLED / 2);
    expect(memberGets()).toEqual([]);

    // The members the resync changed came back in their update events (as any member seen does); the other
    // 1,490 it fetched are gone from the caches, the bot's own member kept for role positions and permissions.
    const botId = h.service.discord.botUserId();
    const changed = new Set(Array.from({ length: ENTITLED / 2 }, (_, k) => memberId(2 * k + 1)));
    const leftOver = (ids: Iterable<string>) => [...ids].filter((id) => id !== botId && !changed.has(id));
    expect(leftOver(guild().members.cache.keys())).toEqual([]);
    expect(leftOver(client().users.cache.keys())).toEqual([]);
    expect(guild().members.me?.id).toBe(botId);
  });

  it('after the sweep a role sync of a member not cached works, and their member command answers', async () => {
    expect(guild().members.cache.has(LATER)).toBe(false);
    h.discord.clearRequests();
    h.grantTier(LATER, 'elite', null);
    await h.waitFor(() => h.discord.member(LATER)?.includes(ROLE_IDS.elite), 10_000);
    // A live sync reads the member afresh (their roles may have changed since any fetch).
    expect(memberGets().map((r) => r.path)).toEqual([expect.stringMatching(new RegExp(`/members/${LATER}$`))]);
    expect(embedOf(await commandReply(h, 'status', LATER)).title).toBe('Your membership: Elite');
  });

  it(`members seen one by one stay at most ${MEMBER_CACHE_SIZE} in the cache`, async () => {
    // Live syncs of more members than the cache holds: each GET puts the member in the cache.
    const many = Array.from({ length: MEMBER_CACHE_SIZE + 50 }, (_, i) => memberId(ENTITLED + i));
    for (const id of many) await h.service.roles.fetchRoles(id);
    expect(guild().members.cache.size).toBeLessThanOrEqual(MEMBER_CACHE_SIZE);
    expect(client().users.cache.size).toBeLessThanOrEqual(MEMBER_CACHE_SIZE);
    expect(guild().members.me).not.toBeNull();
  }, 60_000);

  it('a DM leaves no DM channel cached', async () => {
    const channels = client().channels.cache;
    const before = channels.size;
    for (let i = 0; i < 3; i++) expect(await h.service.messenger.sendDm(memberId(i), { title: 'hello', description: 'test', color: 0 }, `cache-test-${i}`)).toBe('sent');
    expect(h.discord.dms(memberId(0))).toHaveLength(1);
    expect([...channels.values()].filter((c) => c.isDMBased())).toEqual([]);
    expect(channels.size).toBe(before);
  });
});

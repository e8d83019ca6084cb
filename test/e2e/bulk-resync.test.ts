import { and, eq, inArray } from 'drizzle-orm';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureMember, setMemberEntitlement } from '../../src/store/member-repo.ts';
import { auditEntries, jobs } from '../../src/store/schema.ts';
import { UNMANAGED_ROLE, startHarness, type Harness } from '../helpers/harness.ts';
import { ROLE_IDS, type TestTierKey } from '../helpers/tiers.ts';

/**
 * Bulk resync end to end: the REAL discord.js client fetches every guild
 * member over the gateway (op 8 chunks), Concierge queues one role-sync job
 * per member holding a managed role or entitled in the store, and the
 * reconciler brings each to exactly the right managed roles through the
 * stand-in's member-role bucket (10 per 500 ms here) without a 429 storm.
 *
 * Entitlements are written straight into the store (no webhooks): the state
 * a resync exists for, where Discord and the store disagree because events
 * were lost or a moderator edited roles while the bot was away.
 */

const ROLE_LIMIT = 10;
const ROLE_WINDOW_MS = 500;

let h: Harness;
let unmanaged: string;
let nextMember = 800000000000000000n;

interface Case {
  id: string;
  /** Entitlement in the store. */
  tier: TestTierKey | null;
  /** Managed roles held on Discord before the resync. */
  holds: TestTierKey[];
}

const cases: Case[] = [];
// Entitled in the store, role missing on Discord → add.
for (let i = 0; i < 20; i++) cases.push(plan(i % 2 === 0 ? 'elite' : 'titan', []));
// Holding a managed role they are no longer entitled to → remove.
for (let i = 0; i < 15; i++) cases.push(plan(null, [i % 3 === 0 ? 'legendary' : 'warlord']));
// Holding the wrong tier's role → add the right one, remove the wrong one.
for (let i = 0; i < 5; i++) cases.push(plan('warlord', ['elite']));
// Already right: entitled and holding the role, or neither.
const fine: Case[] = [];
for (let i = 0; i < 10; i++) fine.push(plan('legendary', ['legendary']));
for (let i = 0; i < 10; i++) fine.push(plan(null, []));
cases.push(...fine);
const CHANGES = 20 + 15 + 5 * 2;
/** For the new-session test: no entitlement yet, no managed role. */
const later = plan(null, []);

beforeAll(async () => {
  const members = [...cases, later].map((c) => ({ id: c.id, username: `m-${c.id.slice(-4)}`, roles: [UNMANAGED_ROLE, ...c.holds.map((k) => ROLE_IDS[k])] }));
  h = await startHarness({ discord: { roleLimit: ROLE_LIMIT, roleWindowMs: ROLE_WINDOW_MS, members } });
  unmanaged = h.discord.roleId(UNMANAGED_ROLE);
  for (const c of cases) entitle(c);
});
afterAll(async () => {
  // No request ever named the unmanaged role, and no member was PATCHed wholesale.
  expect(h.discord.requests.filter((r) => r.path.includes(unmanaged) || (r.method === 'PATCH' && /\/members\//.test(r.path)))).toEqual([]);
  await h.close();
});

const db = () => h.service.store.db;
const memberCalls = (id: string) => h.discord.requests.filter((r) => r.path.includes(`/members/${id}`));
const pendingRoleSyncs = () => db().select().from(jobs).where(and(eq(jobs.kind, 'role-sync'), inArray(jobs.status, ['queued', 'running']))).all().length;

/**
 * Members exist on Discord before Concierge logs in (a join would trigger its own sync);
 * entitlements are written once the service runs.
 */
function plan(tier: TestTierKey | null, holds: TestTierKey[]): Case {
  return { id: String(++nextMember), tier, holds };
}

function entitle(c: Case): void {
  const tier = c.tier;
  if (tier === null) return;
  h.service.store.transaction((tx) => {
    ensureMember(tx, c.id, h.now());
    setMemberEntitlement(tx, c.id, { tier, until: null, source: 'test' }, h.now());
  });
}

const expected = (c: Case) => [unmanaged, ...(c.tier === null ? [] : [ROLE_IDS[c.tier]])].sort();

describe('bulk resync', () => {
  it('60 members: each ends with exactly the right managed roles, at the bucket rate, with no 429 and no call for members already right', async () => {
    expect(cases).toHaveLength(60);
    h.discord.clearRequests();
    const started = Date.now();
    const { members } = await h.service.resyncAll();
    // Every member with a managed role or an entitlement (the 10 with neither are not resynced).
    expect(members).toBe(50);
    expect(h.discord.gatewayLog.some((e) => e.kind === 'request-members')).toBe(true);
    await h.waitFor(() => pendingRoleSyncs() === 0, 20_000);
    const elapsed = Date.now() - started;

    for (const c of cases) expect({ id: c.id, roles: (h.discord.member(c.id) ?? []).sort() }).toEqual({ id: c.id, roles: expected(c) });
    // Members already right: no call at all (roles came from the gateway's member chunks).
    for (const c of fine) expect(memberCalls(c.id)).toEqual([]);
    // One call per change, none repeated, no GET per member.
    const roleCalls = h.discord.requests.filter((r) => /\/members\/\d+\/roles\//.test(r.path));
    expect(roleCalls.filter((r) => r.status === 204)).toHaveLength(CHANGES);
    expect(h.discord.requests.filter((r) => r.method === 'GET' && /\/members\/\d+$/.test(r.path))).toEqual([]);
    // The members' update events (uncached: roles before unknown) showed the syncs half done, the wrong tier's
    // role not yet removed: no manual edit was reported, and no audit-log read took a share of the rate limit.
    await sleep(500);
    expect(db().select().from(auditEntries).where(eq(auditEntries.kind, 'roles.manual_edit')).all()).toEqual([]);
    expect(h.discord.requests.filter((r) => r.path.includes('/audit-logs'))).toEqual([]);
    // Paced by the bucket: discord.js follows the headers. At most one 429 can slip through at the very start:
    // PUT and DELETE start in separate discord.js queues until the first answer to each names their shared
    // bucket (the bench saw 1 in 1,001 calls); a storm would be dozens.
    const hits = h.discord.rateLimitHits();
    expect(hits.global).toBe(0);
    expect(hits.bucket).toBeLessThanOrEqual(1);
    // And not faster than the limit allows.
    expect(elapsed).toBeGreaterThanOrEqual((Math.ceil(CHANGES / ROLE_LIMIT) - 1) * ROLE_WINDOW_MS);

    // A second resync finds nothing to change.
    h.discord.clearRequests();
    await h.service.resyncAll();
    await h.waitFor(() => pendingRoleSyncs() === 0, 10_000);
    expect(h.discord.requests.filter((r) => /\/members\//.test(r.path))).toEqual([]);
  }, 30_000);

  it('a new gateway session (the old one invalidated, events lost) resyncs every member on its own', async () => {
    // The entitlement changes while Discord is not told (as if its role-sync had been lost).
    const c: Case = { ...later, tier: 'titan' };
    entitle(c);
    const identifies = h.discord.gatewayLog.filter((e) => e.kind === 'identify').length;
    h.discord.invalidateSessions();
    // discord.js waits out its identify throttle (up to 5 s), identifies, gets READY; the resync follows.
    await h.discord.waitForCalls('PUT', new RegExp(`/members/${c.id}/roles/${ROLE_IDS.titan}$`), 1, 15_000);
    expect(h.discord.gatewayLog.filter((e) => e.kind === 'identify').length).toBe(identifies + 1);
    await h.waitFor(() => pendingRoleSyncs() === 0, 10_000);
    expect((h.discord.member(c.id) ?? []).sort()).toEqual([unmanaged, ROLE_IDS.titan].sort());
  }, 30_000);
});

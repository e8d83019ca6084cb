import { and, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readMemberOverview } from '../../src/app/member-overview.ts';
import { enqueuePublisherSync } from '../../src/app/sync-marketplace.ts';
import { SERIAL_PATTERN } from '../../src/core/serial.ts';
import { marketplaceMemberJob } from '../../src/jobs/definitions.ts';
import { createMarketplaceStandIn, type MarketplaceCall, type MarketplaceStandIn } from '../../src/stand-ins/marketplace/server.ts';
import { auditEntries, jobs, members, publisherProfile, subscriptions } from '../../src/store/schema.ts';
import { startHarness, type Harness } from '../helpers/harness.ts';
import { deliverProcessed, subscribeAndPay } from '../helpers/member-actions.ts';
import { PLAN_IDS, ROLE_IDS, SCRIPT_KEYS } from '../helpers/tiers.ts';

/**
 * The marketplace sync end to end: changes made the way members and PayPal
 * make them (signed webhooks, the REAL PayPal SDK against its stand-in) or
 * the way staff grants record them, and what the marketplace stand-in
 * received: signed PUTs of each member's complete state, versions that only
 * increase, retries through its injected faults.
 */

const DAY = 86_400_000;
let h: Harness;
let market: MarketplaceStandIn;
let nextMember = 330000000000000000n;

beforeAll(async () => {
  // The receiver checks timestamps against the service's clock, which tests move forward.
  market = await createMarketplaceStandIn({ now: () => h.now() });
  h = await startHarness({ env: { MARKETPLACE_API_URL: market.url, MARKETPLACE_API_KEY: market.key } });
});
afterAll(async () => {
  await h.close();
  await market.close();
});

const db = () => h.service.store.db;
function joined(): string {
  const id = String(++nextMember);
  h.discord.addMember(id);
  return id;
}
const putsFor = (memberId: string): MarketplaceCall[] => market.callsTo(`/v1/members/${memberId}`);
const versionsOf = (calls: readonly MarketplaceCall[]) => calls.map((c) => (c.body as { version: number }).version);
const memberJobs = (memberId: string) => db().select().from(jobs).where(and(eq(jobs.kind, marketplaceMemberJob.kind), eq(jobs.dedupeKey, memberId))).all();

/** Moves the clock past each retry's backoff until `done`, the way the runner would get there by waiting. */
async function advanceUntil(done: () => boolean, stepMs = 5_000, rounds = 20): Promise<void> {
  for (let i = 0; i < rounds && !done(); i++) {
    h.advance(stepMs);
    await new Promise((r) => setTimeout(r, 100));
  }
  expect(done()).toBe(true);
}

describe('marketplace sync', () => {
  it('activation → one signed PUT of the tier and the serials within seconds; lapse → tier null and the same serial inactive, at a higher version', async () => {
    const memberId = joined();
    const started = h.now();
    const subId = await subscribeAndPay(h, { memberId, planId: PLAN_IDS.eliteMonthly, roleId: ROLE_IDS.elite, paidAt: h.now() - DAY });
    await h.waitFor(() => putsFor(memberId).length > 0);
    await h.settle();

    const [first, ...more] = putsFor(memberId);
    expect(more).toEqual([]);
    expect(first?.method).toBe('PUT');
    expect(first?.signature).toBe('ok');
    expect(first?.status).toBe(200);
    expect((first?.at ?? Infinity) - started).toBeLessThan(5_000);
    const serial = readMemberOverview({ store: h.service.store, vault: h.service.effects.vault }, memberId).serials.find((s) => s.scriptKey === SCRIPT_KEYS.starter)?.serial ?? '';
    expect(serial).toMatch(SERIAL_PATTERN);
    expect(first?.body).toEqual({ tier: 'elite', scripts: [{ key: SCRIPT_KEYS.starter, serial, active: true }], version: expect.any(Number) });
    // The signed bytes are the sent bytes: what arrived parses to what was signed, key order and all.
    expect(first?.rawBody).toBe(JSON.stringify(first?.body));

    // Lapse: cancelled at PayPal, access runs to paid-through, then the lapse check ends it.
    h.paypal.setStatus(subId, 'CANCELLED');
    await deliverProcessed(h, h.paypal.subscriptionEvent('BILLING.SUBSCRIPTION.CANCELLED', subId));
    const accessUntil = db().select().from(subscriptions).where(eq(subscriptions.id, subId)).get()?.accessUntil ?? 0;
    h.advance(accessUntil - h.now() + 1000);
    await h.waitFor(() => market.member(memberId)?.tier === null);
    await h.settle();

    expect(market.member(memberId)).toEqual({ tier: null, scripts: [{ key: SCRIPT_KEYS.starter, serial, active: false }], version: expect.any(Number) });
    const puts = putsFor(memberId);
    expect(puts).toHaveLength(2);
    expect(puts.every((c) => c.signature === 'ok')).toBe(true);
    const [v1, v2] = versionsOf(puts);
    expect(v2).toBeGreaterThan(v1 ?? Infinity);
  });

  it('versions never go back over a member\'s changes, and each change brings a higher one', async () => {
    const memberId = joined();
    h.grantTier(memberId, 'elite', null);
    await h.waitFor(() => market.member(memberId)?.tier === 'elite');
    h.grantTier(memberId, 'legendary', h.now() + DAY);
    await h.waitFor(() => market.member(memberId)?.tier === 'legendary');
    h.advance(DAY + 1000);
    await h.waitFor(() => market.member(memberId)?.tier === 'elite');
    await h.settle();

    const versions = versionsOf(putsFor(memberId));
    // Three changes, three PUTs at least: a sync queued while the member's previous one ran waits for it
    // (job-repo twin rule) and may send the same state again, which the version makes harmless.
    expect(versions.length).toBeGreaterThanOrEqual(3);
    for (let i = 1; i < versions.length; i++) expect(versions[i]).toBeGreaterThanOrEqual(versions[i - 1] ?? Infinity);
    // Each of the three changes brought a version of its own.
    expect(new Set(versions).size).toBeGreaterThanOrEqual(3);
    // Legendary unlocked the advanced scripts; back at elite, that serial is held but inactive.
    expect(market.member(memberId)?.scripts.map((s) => [s.key, s.active])).toEqual([
      [SCRIPT_KEYS.advanced, false],
      [SCRIPT_KEYS.starter, true],
    ]);
    expect(memberJobs(memberId).every((j) => j.status === 'done')).toBe(true);
  });

  it('a burst of changes is one PUT of the latest state', async () => {
    const memberId = joined();
    // Back to back, no await: the runner cannot claim in between, so the second change collapses into the queued sync.
    h.grantTier(memberId, 'elite', null);
    h.grantTier(memberId, 'titan', null);
    await h.waitFor(() => market.member(memberId) !== undefined);
    await h.settle();
    expect(putsFor(memberId)).toHaveLength(1);
    expect(market.member(memberId)?.tier).toBe('titan');
    expect(memberJobs(memberId)).toHaveLength(1);
  });

  it('a 503 three times, then success: retried with backoff, and the marketplace ends with the current state', async () => {
    const memberId = joined();
    const fault = market.fault({ method: 'PUT', path: `/v1/members/${memberId}`, status: 503, times: 3 });
    h.grantTier(memberId, 'legendary', null);
    await h.waitFor(() => fault.hits === 1);
    await advanceUntil(() => market.member(memberId) !== undefined);
    await h.settle();

    expect(putsFor(memberId).map((c) => c.status)).toEqual([503, 503, 503, 200]);
    expect(market.member(memberId)).toMatchObject({ tier: 'legendary', scripts: [{ key: SCRIPT_KEYS.advanced, active: true }, { key: SCRIPT_KEYS.starter, active: true }] });
    expect(memberJobs(memberId).map((j) => [j.status, j.attempts])).toEqual([['done', 4]]);
  });

  it('a 429 with Retry-After waits that long and does not use up an attempt', async () => {
    const memberId = joined();
    market.fault({ method: 'PUT', path: `/v1/members/${memberId}`, status: 429, retryAfter: 2, times: 1 });
    h.grantTier(memberId, 'elite', null);
    await h.waitFor(() => putsFor(memberId).length === 1);
    await advanceUntil(() => market.member(memberId)?.tier === 'elite', 2_500);
    await h.settle();
    expect(putsFor(memberId).map((c) => c.status)).toEqual([429, 200]);
    expect(memberJobs(memberId).map((j) => [j.status, j.attempts])).toEqual([['done', 1]]);
  });

  it('a 400 dead-letters at once, with an audit entry (and audit-channel post) naming the marketplace\'s answer', async () => {
    const memberId = joined();
    market.fault({ method: 'PUT', path: `/v1/members/${memberId}`, status: 400, body: { error: 'unknown_tier', detail: 'tier warlord is not on sale here' }, times: 1 });
    h.grantTier(memberId, 'warlord', null);
    await h.waitFor(() => memberJobs(memberId).some((j) => j.status === 'dead'));
    await h.settle();

    expect(putsFor(memberId)).toHaveLength(1);
    const entry = db()
      .select()
      .from(auditEntries)
      .where(eq(auditEntries.kind, 'job.dead'))
      .all()
      .find((a) => a.message.includes(`/v1/members/${memberId}`));
    expect(entry?.message).toContain('→ 400');
    expect(entry?.message).toContain('unknown_tier');
    expect(entry?.message).toContain('tier warlord is not on sale here');
    const posted = await h.discord.waitForMessage(h.discord.auditChannelId, (m) => JSON.stringify(m.embeds).includes(`/v1/members/${memberId}`));
    expect(JSON.stringify(posted.embeds)).toContain('unknown_tier');
  });

  it('a publisher profile saved with enqueuePublisherSync reaches the marketplace, signed', async () => {
    h.service.store.transaction((tx) => {
      tx.insert(publisherProfile).values({ id: 1, bio: 'Scripts by the Concierge crew', url: 'https://scripts.example.com', iconUrl: null, updatedBy: h.discord.ownerId, updatedAt: h.now() }).run();
      enqueuePublisherSync(tx, h.service.effects, h.now());
    });
    await h.waitFor(() => market.publisher() !== null);
    expect(market.publisher()).toEqual({ bio: 'Scripts by the Concierge crew', url: 'https://scripts.example.com', icon_url: null, version: expect.any(Number) });
    expect(market.callsTo('/v1/publisher').map((c) => [c.status, c.signature])).toEqual([[200, 'ok']]);
  });
});

describe('marketplace sync switched off', () => {
  let off: Harness;
  beforeAll(async () => {
    off = await startHarness({ env: { MARKETPLACE_API_URL: '', MARKETPLACE_API_KEY: '' } });
  });
  afterAll(() => off.close());

  it('with MARKETPLACE_API_URL empty, a change queues no sync; its version records it for a later backfill', async () => {
    expect(off.config.marketplace).toBeNull();
    const memberId = '330000000000009999';
    off.discord.addMember(memberId);
    off.grantTier(memberId, 'elite', null);
    await off.waitFor(() => off.discord.member(memberId)?.includes(ROLE_IDS.elite));
    await off.settle();
    expect(off.service.store.db.select().from(jobs).all().filter((j) => j.kind.startsWith('marketplace-'))).toEqual([]);
    const row = off.service.store.db.select().from(members).where(eq(members.discordUserId, memberId)).get();
    expect(row?.marketplaceVersion).toBeGreaterThan(0);
    expect(row?.marketplaceSyncedVersion).toBe(0);
  });
});

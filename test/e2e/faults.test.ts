import { and, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { createHandlers } from '../../src/job-handlers/index.ts';
import { dmJob, JOB_DEFINITIONS, roleSyncJob } from '../../src/jobs/definitions.ts';
import { createJobRunner } from '../../src/jobs/runner.ts';
import { createLogger } from '../../src/log.ts';
import { createPaypalClient } from '../../src/paypal/client.ts';
import { retentionPolicy } from '../../src/app/retention.ts';
import { claimJob } from '../../src/jobs/queue.ts';
import { auditEntries, jobs, members, subscriptions, webhookEvents } from '../../src/store/schema.ts';
import type { WebhookEvent } from '../../src/stand-ins/paypal/events.ts';
import { startHarness, type Harness } from '../helpers/harness.ts';
import { PLAN_IDS, ROLE_IDS } from '../helpers/tiers.ts';

/** Faults on purpose: PayPal failing or slow, a worker dying mid-job. Nothing is revoked because a call failed. */

let h: Harness;
let nextMember = 600000000000000000n;
beforeAll(async () => {
  // A 5 s lease keeps the dead-worker test short; SPEC's ceiling is 30 s.
  h = await startHarness({ env: { PAYPAL_TIMEOUT_MS: '400' }, overrides: { leaseMs: 5000 } });
});
afterAll(() => h.close());

const db = () => h.service.store.db;
const member = (id: string) => db().select().from(members).where(eq(members.discordUserId, id)).get();
const eventRow = (id: string) => db().select().from(webhookEvents).where(eq(webhookEvents.id, id)).get();
const processJob = (eventId: string) => db().select().from(jobs).where(and(eq(jobs.kind, 'process-webhook'), eq(jobs.payload, JSON.stringify({ eventId })))).get();

async function activeMember() {
  const memberId = String(++nextMember);
  const s = h.paypal.createSubscription({ planId: PLAN_IDS.eliteMonthly, customId: memberId });
  h.paypal.approve(s.id);
  const ev = h.paypal.subscriptionEvent('BILLING.SUBSCRIPTION.ACTIVATED', s.id);
  expect((await h.deliver(ev)).status).toBe(200);
  await h.waitFor(() => eventRow(ev.id)?.processedAt);
  expect(member(memberId)?.entitledTier).toBe('elite');
  return { memberId, subId: s.id };
}

/** PayPal cancels (policy immediate would end access); the notification arrives while PayPal's API misbehaves. */
async function cancelDuringOutage(fault: Parameters<Harness['paypal']['fault']>[0]) {
  const { memberId, subId } = await activeMember();
  h.paypal.setStatus(subId, 'CANCELLED');
  const event: WebhookEvent<unknown> = h.paypal.subscriptionEvent('BILLING.SUBSCRIPTION.CANCELLED', subId);
  const handle = h.paypal.fault(fault);
  expect((await h.deliver(event)).status).toBe(200); // acknowledged without waiting on PayPal
  const failed = await h.waitFor(() => {
    const j = processJob(event.id);
    return j !== undefined && j.status === 'queued' && j.lastError !== null ? j : undefined;
  }, 10_000);
  expect(failed.runAt).toBeGreaterThan(h.now()); // backoff, not a hot loop
  expect(eventRow(event.id)?.processedAt).toBeNull();
  expect(member(memberId)?.entitledTier).toBe('elite');
  expect(db().select().from(subscriptions).where(eq(subscriptions.id, subId)).get()?.state).toBe('active');
  // PayPal recovers: the retry applies what PayPal really says.
  handle.clear();
  h.advance(failed.runAt - h.now() + 1);
  await h.waitFor(() => eventRow(event.id)?.processedAt, 10_000);
  expect(db().select().from(subscriptions).where(eq(subscriptions.id, subId)).get()?.state).toBe('cancelled');
  return { memberId, failed };
}

describe('PayPal failures retry the job and revoke nothing', () => {
  it('PayPal answering 500', async () => {
    const { failed } = await cancelDuringOutage({ method: 'GET', path: /\/v1\/billing\/subscriptions\//, status: 500 });
    expect(failed.lastError).toMatch(/500|INTERNAL_SERVICE_ERROR/);
  });

  it('PayPal timing out', async () => {
    const { failed } = await cancelDuringOutage({ method: 'GET', path: /\/v1\/billing\/subscriptions\//, delayMs: 1500 });
    expect(failed.lastError).toMatch(/timeout|timed out/i);
  });

  it('PayPal rate-limiting with 429', async () => {
    await cancelDuringOutage({ method: 'GET', path: /\/v1\/billing\/subscriptions\//, status: 429, retryAfter: 1 });
  });
});

describe('a worker dying mid-job', () => {
  /** Another worker on the service's database, as after a restart (the service's own runner is stopped first). */
  function worker(workerId: string, o: { stopGraceMs?: number } = {}) {
    const paypal = createPaypalClient({ clientId: 'test-client-id', clientSecret: 'test-client-secret', apiUrl: h.paypal.url, mode: 'sandbox', timeoutMs: 2000 });
    const runner = createJobRunner({
      store: h.service.store,
      definitions: JOB_DEFINITIONS,
      handlers: createHandlers({
        store: h.service.store,
        effects: h.service.effects,
        paypal,
        tiers: h.service.tiers,
        clock: h.now,
        roles: h.service.roles,
        messenger: h.service.messenger,
        guild: h.service.guild,
        reconcile: { intervalMs: null },
        backup: h.config.backup,
        retention: retentionPolicy({ ...h.config.retention, webhookMaxAgeSeconds: h.config.webhook.maxAgeSeconds }),
      }),
      log: createLogger('silent'),
      concurrency: 2,
      clock: h.now,
      pollMs: 20,
      leaseMs: 5000,
      workerId,
      ...o,
    });
    onTestFinished(async () => {
      await runner.stop();
      paypal.close();
    });
    return runner;
  }

  it('a claim whose worker died before running it is taken over once its lease expires, not before', async () => {
    const memberId = String(++nextMember);
    const s = h.paypal.createSubscription({ planId: PLAN_IDS.legendaryMonthly, customId: memberId });
    h.paypal.approve(s.id);
    const event = h.paypal.subscriptionEvent('BILLING.SUBSCRIPTION.ACTIVATED', s.id);
    // The service's runner finishes what is due and stops, so a worker that is about to die claims the job first.
    await h.settle();
    await h.service.runner.stop();
    expect((await h.deliver(event)).status).toBe(200);
    const claimed = claimJob(h.service.store, { now: h.now(), leaseMs: 5000, workerId: 'worker-that-dies' });
    expect(claimed?.job.kind).toBe('process-webhook');
    // ...and it dies here: no completion, no failure. A new worker (as after a restart) takes over.
    const runner = worker('next-worker');
    runner.start();
    await new Promise((r) => setTimeout(r, 100));
    expect(eventRow(event.id)?.processedAt).toBeNull(); // the lease still holds
    h.advance(5001);
    await h.waitFor(() => eventRow(event.id)?.processedAt);
    await runner.runUntilIdle();
    expect(member(memberId)?.entitledTier).toBe('legendary');
    expect(db().select().from(jobs).where(and(eq(jobs.kind, 'role-sync'), eq(jobs.dedupeKey, memberId))).all()).toHaveLength(1);
    expect(db().select().from(auditEntries).where(and(eq(auditEntries.memberId, memberId), eq(auditEntries.kind, 'entitlement.changed'))).all()).toHaveLength(1);
    const job = processJob(event.id);
    expect(job).toMatchObject({ status: 'done', attempts: 2 });
  });

  it('a worker killed after Discord added the role but before the job was marked done: the re-run adds nothing, the role was added once', async () => {
    const memberId = String(++nextMember);
    h.discord.addMember(memberId);
    const rolePut = new RegExp(`^/guilds/\\d+/members/${memberId}/roles/${ROLE_IDS.legendary}$`);
    const roleSync = () => db().select().from(jobs).where(and(eq(jobs.kind, roleSyncJob.kind), eq(jobs.dedupeKey, memberId))).get();
    const s = h.paypal.createSubscription({ planId: PLAN_IDS.legendaryMonthly, customId: memberId });
    h.paypal.approve(s.id);
    await h.settle();
    await h.service.runner.stop();
    // Discord adds the role at once but holds its answer, so the worker is still waiting for it when it is killed.
    const held = h.discord.fault({ method: 'PUT', path: rolePut, afterEffect: true, delayMs: 8_000, times: 1 });
    const dying = worker('worker-that-dies', { stopGraceMs: 50 });
    dying.start();
    expect((await h.deliver(h.paypal.subscriptionEvent('BILLING.SUBSCRIPTION.ACTIVATED', s.id))).status).toBe(200);
    await h.waitFor(() => h.discord.member(memberId)?.includes(ROLE_IDS.legendary), 10_000);
    expect(held.hits).toBe(1);
    // Killed: stop() gives up on the handler still waiting for Discord and writes nothing for it.
    await dying.stop();
    expect(roleSync()).toMatchObject({ status: 'running', attempts: 1, lockedBy: 'worker-that-dies' });

    const next = worker('next-worker');
    next.start();
    await new Promise((r) => setTimeout(r, 100));
    expect(roleSync()?.status).toBe('running'); // the dead worker's lease still holds
    h.advance(5001);
    await h.waitFor(() => roleSync()?.status === 'done', 10_000);
    expect(roleSync()).toMatchObject({ status: 'done', attempts: 2, lockedBy: 'next-worker' });
    // The member sees one change: the role was added once, and the re-run found it there.
    expect(h.discord.callsTo('PUT', rolePut)).toBe(1);
    expect(h.discord.member(memberId)).toEqual([ROLE_IDS.legendary]);
    expect(h.discord.requests.filter((r) => r.method !== 'GET' && r.path.includes(`/members/${memberId}`)).map((r) => r.method)).toEqual(['PUT']);
  });

  it('a worker killed after Discord took the welcome DM but before the job was marked done: the re-run sends no second DM (the job id is the message nonce)', async () => {
    const memberId = String(++nextMember);
    h.discord.addMember(memberId);
    const welcome = () => h.discord.dms(memberId).filter((m) => m.embeds[0]?.title?.startsWith('Welcome')).length;
    const dmJobRow = () => db().select().from(jobs).where(eq(jobs.kind, dmJob.kind)).all().find((j) => j.payload.includes(memberId));
    const s = h.paypal.createSubscription({ planId: PLAN_IDS.legendaryMonthly, customId: memberId });
    h.paypal.approve(s.id);
    await h.settle();
    await h.service.runner.stop();
    // Every message POST outside the audit channel: the welcome DM is created at once and its answer held.
    const held = h.discord.fault({ method: 'POST', path: new RegExp(`^/channels/(?!${h.discord.auditChannelId})\\d+/messages$`), afterEffect: true, delayMs: 8_000, times: 1 });
    const dying = worker('dm-worker-that-dies', { stopGraceMs: 50 });
    dying.start();
    expect((await h.deliver(h.paypal.subscriptionEvent('BILLING.SUBSCRIPTION.ACTIVATED', s.id))).status).toBe(200);
    await h.waitFor(() => welcome() === 1, 10_000);
    expect(held.hits).toBe(1);
    await dying.stop();
    expect(dmJobRow()).toMatchObject({ status: 'running', attempts: 1 });

    const next = worker('dm-next-worker');
    next.start();
    h.advance(5001);
    await h.waitFor(() => dmJobRow()?.status === 'done', 10_000);
    expect(dmJobRow()).toMatchObject({ status: 'done', attempts: 2 });
    // Discord was asked twice and created one message: the member got one welcome.
    expect(h.discord.callsTo('POST', new RegExp(`^/channels/${h.discord.dmChannelId(memberId)}/messages$`))).toBe(2);
    expect(welcome()).toBe(1);
  });
});

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dmJob } from '../../src/jobs/definitions.ts';
import { enqueue } from '../../src/jobs/queue.ts';
import { getJob } from '../../src/store/job-repo.ts';
import { webhookEvents } from '../../src/store/schema.ts';
import { runCli } from '../helpers/cli.ts';
import { startHarness, type Harness } from '../helpers/harness.ts';
import { deliverProcessed } from '../helpers/member-actions.ts';
import { PLAN_IDS } from '../helpers/tiers.ts';

/** `concierge replay` and `concierge jobs` beside a running service, as an operator runs them. */

let h: Harness;
let work: string;
const cli = (args: string[]) => runCli(args, work, { DATABASE_PATH: h.config.databasePath });
beforeAll(async () => {
  h = await startHarness();
  work = mkdtempSync(join(tmpdir(), 'concierge-cli-jobs-'));
});
afterAll(async () => {
  await h.close();
  rmSync(work, { recursive: true, force: true });
});

describe('concierge replay', { timeout: 180_000 }, () => {
  it('re-runs a stored webhook through processing (PayPal is read again) and prints its outcome; an unknown event exits 1', async () => {
    const memberId = '300000000000000301';
    h.discord.addMember(memberId);
    const s = h.paypal.createSubscription({ planId: PLAN_IDS.eliteMonthly, customId: memberId, status: 'ACTIVE', lastPaymentTime: new Date(h.now()).toISOString() });
    const event = h.paypal.subscriptionEvent('BILLING.SUBSCRIPTION.ACTIVATED', s.id);
    await deliverProcessed(h, event);
    const reads = h.paypal.callsTo('GET', new RegExp(`/v1/billing/subscriptions/${s.id}$`));
    const [replay, unknown] = await Promise.all([cli(['replay', event.id, '--wait', '60']), cli(['replay', 'WH-NOT-STORED'])]);
    expect(replay.code, replay.stderr).toBe(0);
    expect(replay.stderr).toMatch(new RegExp(`event ${event.id} \\(was processed\\) queued for processing as job #\\d+`));
    expect(replay.stdout).toMatch(new RegExp(`^event ${event.id}: processed`));
    expect(h.paypal.callsTo('GET', new RegExp(`/v1/billing/subscriptions/${s.id}$`))).toBeGreaterThan(reads);
    expect(h.service.store.db.select().from(webhookEvents).where(eq(webhookEvents.id, event.id)).get()?.outcome).toBe('processed');
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('event WH-NOT-STORED is not in the inbox');
  });
});

describe('concierge jobs', { timeout: 180_000 }, () => {
  it('lists depth and dead letters; retry <id> and retry --all-dead run them again; a call without an id exits 2', async () => {
    // A DM to someone who is not in the server: Discord refuses (50033), a permanent failure, dead-lettered at once.
    const stranger = '300000000000000399';
    const jobId = h.service.store.transaction((tx) => enqueue(tx, dmJob, { memberId: stranger, kind: 'welcome', tierKey: 'elite', until: null }, h.now()));
    await h.waitFor(() => getJob(h.service.store.db, jobId)?.status === 'dead');

    // Each CLI run loads TypeScript for seconds: a few at once, the others' exits are covered elsewhere.
    const [listed, json, usage] = await Promise.all([cli(['jobs']), cli(['jobs', '--json']), cli(['jobs', 'retry'])]);
    expect(listed.code, listed.stderr).toBe(0);
    expect(listed.stdout).toMatch(/^kind\s+queued\s+due\s+running\s+dead\s+oldest due$/m);
    expect(listed.stdout).toMatch(/^dm\s+0\s+0\s+0\s+1\s+-$/m);
    expect(listed.stdout).toContain(`#${jobId} dm `);
    expect(listed.stdout).toContain('Invalid Recipient');
    const report = JSON.parse(json.stdout) as { deadTotal: number; kinds: { kind: string; queued: number }[] };
    expect(report.deadTotal).toBe(1);
    // The standing schedules are always queued.
    expect(report.kinds.filter((k) => k.queued > 0).map((k) => k.kind)).toEqual(expect.arrayContaining(['backup', 'expiry-warnings', 'retention']));
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain('give either a job id or --all-dead');

    // Retried while the member is still away: it runs again (fresh attempts) and dies again.
    const retried = await cli(['jobs', 'retry', String(jobId)]);
    expect(retried.code, retried.stderr).toBe(0);
    expect(retried.stdout).toBe(`job #${jobId} (dm) queued to run now (was dead)\n`);
    await h.waitFor(() => getJob(h.service.store.db, jobId)?.status === 'dead' && getJob(h.service.store.db, jobId)?.attempts === 1, 10_000);
    // The member joins; every dead letter is retried, and the DM goes out.
    h.discord.addMember(stranger);
    const all = await cli(['jobs', 'retry', '--all-dead']);
    expect(all.code, all.stderr).toBe(0);
    expect(all.stdout).toBe('1 dead letter(s) retried (1 queued to run now, 0 folded into a newer queued job)\n');
    await h.waitFor(() => h.discord.dms(stranger).length === 1, 10_000);
    expect(getJob(h.service.store.db, jobId)?.status).toBe('done');
  });
});

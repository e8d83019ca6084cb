import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../src/demo/stage.ts';
import type { WebhookEvent } from '../../src/stand-ins/paypal/events.ts';
import { TEST_WEBHOOK_ID, discordEnv, startStandIns, testEnv, type StandIns } from '../helpers/harness.ts';
import { startServiceProcess, waitHealthy } from '../helpers/service-process.ts';
import { PLAN_IDS, ROLE_IDS } from '../helpers/tiers.ts';

/**
 * Graceful shutdown of the real process (SIGTERM, as systemd stops it):
 * webhooks are refused with a 503 PayPal retries while the running jobs
 * finish, then the process exits 0. Whatever was acknowledged is stored and
 * done after the restart, and nothing is done twice.
 */

let s: StandIns;
beforeAll(async () => {
  s = await startStandIns();
});
afterAll(() => s.close());

const MEMBERS = 16;

interface Delivery {
  memberId: string;
  event: WebhookEvent<unknown>;
  status: number | 'refused';
  retryAfter: string | null;
  body: string;
}

/** Posts a signed delivery as PayPal does and keeps the answer's status and Retry-After (a refused connection too). */
async function deliver(url: string, d: Delivery): Promise<void> {
  const req = s.paypal.signedRequest(d.event, { webhookId: TEST_WEBHOOK_ID });
  try {
    const res = await fetch(url, { method: 'POST', headers: req.headers, body: req.body });
    d.status = res.status;
    d.retryAfter = res.headers.get('retry-after');
    d.body = await res.text();
  } catch {
    d.status = 'refused';
  }
}

const rolePut = (memberId: string) => new RegExp(`^/guilds/\\d+/members/${memberId}/roles/${ROLE_IDS.titan}$`);

// Two cold starts of the real process on a busy 2-core machine: minutes of margin, not a timing claim.
describe('SIGTERM', { timeout: 150_000 }, () => {
  it('under load: webhooks get 503 with Retry-After while running jobs finish; after the restart nothing acknowledged is lost and no role is added twice', async () => {
    const dbPath = join(s.dir, 'shutdown.db');
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const env = testEnv(s.paypal.url, dbPath, { ...discordEnv(s.discord), HTTP_PORT: String(port), LOG_LEVEL: 'warn' });
    const deliveries: Delivery[] = Array.from({ length: MEMBERS }, (_, i) => {
      const memberId = String(310000000000000000n + BigInt(i));
      s.discord.addMember(memberId);
      const sub = s.paypal.createSubscription({ planId: PLAN_IDS.titanMonthly, customId: memberId });
      s.paypal.approve(sub.id);
      return { memberId, event: s.paypal.subscriptionEvent('BILLING.SUBSCRIPTION.ACTIVATED', sub.id), status: 'refused', retryAfter: null, body: '' };
    });
    // Every role change takes Discord 1.5 s: jobs are running when the signal comes, and finish inside the grace period.
    const slowRoles = s.discord.fault({ method: 'PUT', path: /\/members\/\d+\/roles\//, delayMs: 1500 });

    const first = startServiceProcess(env, s.dir);
    await waitHealthy(base, first);
    // Half the deliveries, then the signal, then the rest while the service drains.
    for (const d of deliveries.slice(0, MEMBERS / 2)) await deliver(`${base}/webhooks/paypal`, d);
    // The signal comes while a role change is at Discord (its answer 1.5 s away): a job is running.
    const deadline = Date.now() + 10_000;
    while (s.discord.callsTo('PUT', /\/members\/\d+\/roles\//) === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    first.child.kill('SIGTERM');
    for (const d of deliveries.slice(MEMBERS / 2)) {
      await deliver(`${base}/webhooks/paypal`, d);
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(await first.exited).toBe(0);
    slowRoles.clear();

    const acked = deliveries.filter((d) => d.status === 200);
    expect(acked.length).toBeGreaterThanOrEqual(MEMBERS / 2);
    const drained = deliveries.filter((d) => d.status === 503);
    expect(drained.length).toBeGreaterThan(0);
    for (const d of drained) expect({ retryAfter: d.retryAfter, body: JSON.parse(d.body) }).toEqual({ retryAfter: '30', body: { error: 'shutting_down' } });
    // Only 200, 503 while draining, or no answer once the port closed: never a 5xx of another kind.
    for (const d of deliveries) expect([200, 503, 'refused']).toContain(d.status);
    // A job that was running when the signal came finished: its role was added before the exit.
    const beforeExit = deliveries.filter((d) => s.discord.callsTo('PUT', rolePut(d.memberId)) > 0);
    expect(beforeExit.length).toBeGreaterThan(0);
    for (const d of beforeExit) expect(s.discord.member(d.memberId)).toContain(ROLE_IDS.titan);
    const db = new Database(dbPath, { readonly: true });
    try {
      const stored = new Set((db.prepare('SELECT id FROM webhook_events').all() as { id: string }[]).map((r) => r.id));
      for (const d of acked) expect(stored.has(d.event.id), d.event.id).toBe(true);
      expect(db.prepare(`SELECT count(*) AS n FROM jobs WHERE status IN ('running', 'dead')`).get()).toEqual({ n: 0 });
    } finally {
      db.close();
    }

    const second = startServiceProcess(env, s.dir);
    try {
      await waitHealthy(base, second);
      // PayPal retries what was not acknowledged.
      for (const d of deliveries.filter((x) => x.status !== 200)) {
        await deliver(`${base}/webhooks/paypal`, d);
        expect(d.status).toBe(200);
      }
      const deadline = Date.now() + 30_000;
      while (deliveries.some((d) => !(s.discord.member(d.memberId) ?? []).includes(ROLE_IDS.titan)) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      await new Promise((r) => setTimeout(r, 500));
      for (const d of deliveries) {
        expect({ member: d.memberId, roles: s.discord.member(d.memberId) }).toEqual({ member: d.memberId, roles: [ROLE_IDS.titan] });
        expect({ member: d.memberId, puts: s.discord.callsTo('PUT', rolePut(d.memberId)) }).toEqual({ member: d.memberId, puts: 1 });
        expect({ member: d.memberId, dms: s.discord.dms(d.memberId).length }).toEqual({ member: d.memberId, dms: 1 });
      }
    } finally {
      second.child.kill('SIGTERM');
      expect(await second.exited).toBe(0);
    }
  });
});

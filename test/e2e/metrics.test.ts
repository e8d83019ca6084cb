import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { takeBackup } from '../../src/app/backup.ts';
import { MEMBER_ID, startHarness, type Harness } from '../helpers/harness.ts';
import { PLAN_IDS, ROLE_IDS } from '../helpers/tiers.ts';

/**
 * What an operator's Prometheus scrapes, after what a member does: one paid
 * activation through the stand-ins, a forged delivery, a Discord 429, a backup.
 */

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ env: { METRICS_TOKEN: 'metrics-secret-token' } });
});
afterAll(() => h.close());

async function scrape(): Promise<string> {
  const res = await fetch(`${h.service.url}/metrics`, { headers: { authorization: 'Bearer metrics-secret-token' } });
  expect(res.status).toBe(200);
  return res.text();
}

async function scrapeUntil(done: (text: string) => boolean, timeoutMs = 10_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const text = await scrape();
    if (done(text) || Date.now() > deadline) return text;
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** The value of one series, by its exact name and labels as Prometheus prints them; undefined when absent. */
function value(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

it('wants the bearer token', async () => {
  expect((await fetch(`${h.service.url}/metrics`)).status).toBe(401);
  expect((await fetch(`${h.service.url}/metrics`, { headers: { authorization: 'Bearer wrong' } })).status).toBe(401);
});

it('shows an activation as webhook, PayPal and Discord calls, queue, lag and members; a forged delivery as a verification failure', async () => {
  h.discord.addMember(MEMBER_ID, {});
  const s = h.paypal.createSubscription({ planId: PLAN_IDS.eliteMonthly, customId: MEMBER_ID });
  h.paypal.approve(s.id);
  const event = h.paypal.subscriptionEvent('BILLING.SUBSCRIPTION.ACTIVATED', s.id);
  // The first role grant meets a 429: discord.js waits it out and retries.
  h.discord.fault({ method: 'PUT', path: new RegExp(`/members/${MEMBER_ID}/roles/`), status: 429, retryAfter: 0.05, times: 1 });
  expect((await h.deliver(event)).status).toBe(200);
  expect((await h.deliver(event, { tamper: 'body' })).status).toBe(400);

  const rolePut = 'concierge_api_requests_total{api="discord",method="PUT",route="/guilds/:id/members/:id/roles/:id",status="204"}';
  const text = await scrapeUntil((t) => value(t, rolePut) === 1 && value(t, 'concierge_members{tier="elite"}') === 1);

  expect(value(text, 'concierge_webhooks_total{event_type="BILLING.SUBSCRIPTION.ACTIVATED",outcome="stored"}')).toBe(1);
  expect(value(text, 'concierge_webhooks_total{event_type="unverified",outcome="rejected"}')).toBe(1);
  expect(value(text, 'concierge_webhook_verification_failures_total{reason="bad_signature"}')).toBe(1);
  expect(value(text, 'concierge_webhook_processing_lag_seconds_count')).toBe(1);
  expect(value(text, 'concierge_jobs_completed_total{kind="process-webhook"}')).toBe(1);
  expect(value(text, 'concierge_members{tier="elite"}')).toBe(1);

  expect(value(text, 'concierge_api_rate_limited_total{api="discord",route="/guilds/:id/members/:id/roles/:id"}')).toBe(1);
  expect(value(text, 'concierge_api_request_duration_seconds_count{api="discord",method="PUT",route="/guilds/:id/members/:id/roles/:id"}')).toBe(2);
  expect(value(text, 'concierge_api_requests_total{api="paypal",method="GET",route="/v1/billing/subscriptions/:id",status="200"}')).toBeGreaterThanOrEqual(1);
  expect(value(text, 'concierge_api_requests_total{api="paypal",method="POST",route="/v1/oauth2/token",status="200"}')).toBeGreaterThanOrEqual(1);
  // Routes are templates: no member, role or subscription id becomes a label value.
  for (const id of [MEMBER_ID, ROLE_IDS.elite, s.id, h.discord.guildId]) expect(text).not.toContain(id);

  // The daily schedules wait in the queue; nothing is overdue.
  expect(value(text, 'concierge_jobs{kind="backup",status="queued"}')).toBe(1);
  expect(value(text, 'concierge_job_oldest_due_age_seconds{kind="process-webhook"}')).toBe(0);
  expect(value(text, 'concierge_discord_gateway_up')).toBe(1);
  expect(value(text, 'concierge_discord_gateway_state{state="ready"}')).toBe(1);
  expect(value(text, 'concierge_backup_last_success_timestamp_seconds')).toBe(0);
});

it('shows the time of the last good backup', async () => {
  const at = h.now();
  await takeBackup(h.service.store, h.config.backup, at);
  expect(value(await scrape(), 'concierge_backup_last_success_timestamp_seconds')).toBe(Math.floor(at / 1000));
});

/** Every metric name a PromQL text mentions. */
function metricNames(promql: string): string[] {
  return [...new Set(promql.match(/\bconcierge_[a-z0-9_]+/g) ?? [])];
}

/** The names /metrics declares (`# TYPE`), with a histogram's _bucket, _sum and _count series. */
function declaredNames(text: string): Set<string> {
  const names = new Set<string>();
  for (const m of text.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
    const [, name = '', type] = m;
    names.add(name);
    if (type === 'histogram') for (const suffix of ['_bucket', '_sum', '_count']) names.add(name + suffix);
  }
  return names;
}

const infrastructure = (file: string) => new URL(`../../infrastructure/${file}`, import.meta.url);

it('the Grafana dashboard and the alert rules query only metrics /metrics serves', async () => {
  const declared = declaredNames(await scrape());
  const dashboard = JSON.parse(readFileSync(infrastructure('grafana-dashboard.json'), 'utf8')) as { panels: { targets?: { expr: string }[] }[] };
  const exprs = dashboard.panels.flatMap((p) => (p.targets ?? []).map((t) => t.expr));
  expect(exprs.length).toBeGreaterThan(20);
  const queried = metricNames(exprs.join('\n'));
  const alerted = metricNames(readFileSync(infrastructure('prometheus-alerts.yml'), 'utf8'));
  expect(queried.filter((n) => !declared.has(n))).toEqual([]);
  expect(alerted.filter((n) => !declared.has(n))).toEqual([]);
});

/** promtool ships in Debian's `prometheus` package; .ci/run installs it, so CI always runs this. */
const promtool = (() => {
  try {
    execFileSync('promtool', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

it.skipIf(!promtool)('promtool accepts the alert rules and their unit tests pass', () => {
  expect(execFileSync('promtool', ['check', 'rules', infrastructure('prometheus-alerts.yml').pathname], { encoding: 'utf8' })).toMatch(/SUCCESS/);
  expect(execFileSync('promtool', ['test', 'rules', infrastructure('prometheus-alerts.test.yml').pathname], { encoding: 'utf8' })).toMatch(/SUCCESS/);
});

import { connect } from 'node:net';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditJob } from '../../src/jobs/definitions.ts';
import { auditEntries, jobs, webhookEvents } from '../../src/store/schema.ts';
import { buildSignedRequest, DEFAULT_CERT_NAME, postRaw } from '../../src/stand-ins/paypal/deliver.ts';
import { signWebhook } from '../../src/stand-ins/paypal/sign-webhook.ts';
import { startHarness, TEST_WEBHOOK_ID, type Harness } from '../helpers/harness.ts';
import { PLAN_IDS } from '../helpers/tiers.ts';

/**
 * Bad input from anyone on the internet (issue 16 item 3): random and
 * malformed bodies, headers and encodings against the three public routes.
 * Every answer is a 4xx with a JSON or HTML reason (a license check may also
 * say `{"valid":false}`), never a 5xx, and nothing is stored but security
 * audit entries. Runs are seeded by fast-check; a failure prints its seed.
 */

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  printTally();
  await h?.close();
});

/** Answers per route and status, printed at the end: what the suite threw at the service and what it got back. */
const tally = new Map<string, Map<number, number>>();
function count(route: string, status: number): void {
  const byStatus = tally.get(route) ?? new Map<number, number>();
  byStatus.set(status, (byStatus.get(status) ?? 0) + 1);
  tally.set(route, byStatus);
}
function printTally(): void {
  const lines = [...tally].map(([route, byStatus]) => {
    const total = [...byStatus.values()].reduce((a, b) => a + b, 0);
    const statuses = [...byStatus].sort(([a], [b]) => a - b).map(([st, n]) => `${st}×${n}`).join(' ');
    return `  ${route.padEnd(34)} ${String(total).padStart(5)} requests  ${statuses}`;
  });
  const security = h === undefined ? 0 : h.service.store.db.select().from(auditEntries).all().filter((a) => a.kind.startsWith('security.')).length;
  process.stdout.write(`fuzz suite (FUZZ_RUNS=${RUNS})\n${lines.join('\n')}\n  5xx answers: ${[...tally.values()].flatMap((m) => [...m].filter(([st]) => st >= 500)).reduce((a, [, n]) => a + n, 0)}; security audit entries: ${security}\n`);
}

const RUNS = Number(process.env['FUZZ_RUNS'] ?? 60);
const certUrl = () => `${h.paypal.url}/v1/notifications/certs/${DEFAULT_CERT_NAME}`;
const stored = () => ({
  inbox: h.service.store.db.select().from(webhookEvents).all().length,
  // Security audit entries are posted to the audit channel by audit jobs; any other job would be processing.
  jobs: h.service.store.db
    .select()
    .from(jobs)
    .all()
    .filter((j) => j.kind !== auditJob.kind).length,
  audits: h.service.store.db
    .select()
    .from(auditEntries)
    .all()
    .filter((a) => !a.kind.startsWith('webhook.') && !a.kind.startsWith('security.')).length,
});

/**
 * A new client address per request, forwarded as the nginx in front does (the service trusts 127.0.0.1): the
 * per-IP limits of the return pages and the license API would otherwise answer most runs with a 429 before the
 * input reached the handler.
 */
let clients = 0;
const fromNewClient = (): Record<string, string> => ({ 'x-forwarded-for': `10.${(++clients >> 8) & 255}.${clients & 255}.7` });

/** Raw bytes to a route, with whatever headers; returns status and body. */
async function post(path: string, body: Buffer | string, headers: Record<string, string>): Promise<{ status: number; body: string }> {
  const res = await fetch(`${h.service.url}${path}`, { method: 'POST', body, headers });
  count(`POST ${path}`, res.status);
  return { status: res.status, body: await res.text() };
}

const headerValue = fc.oneof(fc.string({ maxLength: 300 }), fc.constantFrom('', 'SHA256withRSA', 'https://api.paypal.com/v1/notifications/certs/x', '2026-12-07T00:00:00Z', 'A'.repeat(5000)));
const paypalHeaders = fc.record(
  {
    'paypal-transmission-id': headerValue,
    'paypal-transmission-time': headerValue,
    'paypal-transmission-sig': headerValue,
    'paypal-cert-url': headerValue,
    'paypal-auth-algo': headerValue,
    'content-type': fc.constantFrom('application/json', 'text/plain', 'application/octet-stream', 'application/json; charset=utf-16', 'multipart/form-data; boundary=x'),
  },
  { requiredKeys: [] },
);
const body = fc.oneof(
  fc.string({ maxLength: 2000 }),
  fc.json(),
  fc.uint8Array({ maxLength: 4000 }).map((b) => Buffer.from(b)),
  fc.constantFrom('', '{', '{"id":', 'null', '[]', '\u0000\u0000', '\ufeff{"id":"WH-1"}', '{"id":"WH-1","event_type":"BILLING.SUBSCRIPTION.ACTIVATED","resource":{}}'),
);
/** Header values fetch refuses to send (non-latin1, CR/LF) are not what a socket can carry either. */
const sendable = (hs: Record<string, string>) => Object.fromEntries(Object.entries(hs).filter(([, v]) => /^[\t\x20-\x7e\x80-\xff]*$/.test(v)));

describe('fuzz: bad input never gets a 5xx and stores nothing', () => {
  it('POST /webhooks/paypal: random bodies and random signature headers → 4xx with a reason code', async () => {
    const before = stored();
    await fc.assert(
      fc.asyncProperty(body, paypalHeaders, async (b, hs) => {
        const res = await post('/webhooks/paypal', b, sendable(hs));
        expect(res.status, res.body).toBeGreaterThanOrEqual(400);
        expect(res.status, res.body).toBeLessThan(500);
        expect(JSON.parse(res.body)).toHaveProperty('error');
      }),
      { numRuns: RUNS },
    );
    expect(stored()).toEqual(before);
  });

  it('POST /webhooks/paypal: a valid signature over a body that is not an event (bad JSON, wrong shapes, huge) → 4xx, nothing stored', async () => {
    const before = stored();
    const notAnEvent = fc.oneof(
      fc.string({ maxLength: 500 }).filter((s) => !s.trimStart().startsWith('{')),
      fc.constantFrom('{', '{"id":1}', '{"id":"WH-1"}', '{"id":"WH-1","event_type":7}', '{"id":"","event_type":"X","resource":null}', '{"id":"WH-1","event_type":"BILLING.SUBSCRIPTION.ACTIVATED","resource_type":5,"resource":{}}'),
      fc.json().filter((j) => !j.startsWith('{')),
    );
    await fc.assert(
      fc.asyncProperty(notAnEvent, async (raw) => {
        const headers = signWebhook({ body: raw, webhookId: TEST_WEBHOOK_ID, certUrl: certUrl(), transmissionTime: new Date(h.now()).toISOString() });
        const res = await post('/webhooks/paypal', raw, headers);
        expect(res.status, `${raw} → ${res.body}`).toBeGreaterThanOrEqual(400);
        expect(res.status, res.body).toBeLessThan(500);
      }),
      { numRuns: RUNS },
    );
    // Over the 1 MiB limit: 413 whatever the signature says.
    const huge = `{"id":"WH-HUGE","event_type":"X","resource":{"pad":"${'x'.repeat(1_100_000)}"}}`;
    const headers = signWebhook({ body: huge, webhookId: TEST_WEBHOOK_ID, certUrl: certUrl(), transmissionTime: new Date(h.now()).toISOString() });
    expect((await post('/webhooks/paypal', huge, headers)).status).toBe(413);
    expect(stored()).toEqual(before);
  });

  it('POST /webhooks/paypal: a captured signature replayed over an altered body → 400, nothing stored', async () => {
    const before = stored();
    const sub = h.paypal.createSubscription({ planId: PLAN_IDS.eliteMonthly, customId: '300000000000000091' });
    const event = h.paypal.subscriptionEvent('BILLING.SUBSCRIPTION.ACTIVATED', sub.id);
    await fc.assert(
      fc.asyncProperty(fc.string({ minLength: 1, maxLength: 50 }), async (extra) => {
        const captured = buildSignedRequest(h.paypal.url, event, { webhookId: TEST_WEBHOOK_ID, transmissionTime: new Date(h.now()).toISOString() });
        const altered = JSON.stringify({ ...event, summary: `${event.summary}${extra}` });
        const res = await postRaw(`${h.service.url}/webhooks/paypal`, { body: altered, headers: captured.headers });
        count('POST /webhooks/paypal (replayed)', res.status);
        expect(res.status, res.body).toBe(400);
      }),
      { numRuns: Math.min(RUNS, 30) },
    );
    expect(stored()).toEqual(before);
  });

  it('GET /paypal/return and /paypal/cancel: random query strings → a page, never a 5xx, nothing echoed unescaped', async () => {
    const before = stored();
    await fc.assert(
      fc.asyncProperty(fc.constantFrom('/paypal/return', '/paypal/cancel'), fc.string({ maxLength: 200 }), fc.string({ maxLength: 200 }), async (path, id, token) => {
        const q = new URLSearchParams({ subscription_id: `${id}<script>x</script>`, ba_token: token, token });
        const res = await fetch(`${h.service.url}${path}?${q.toString()}`, { headers: fromNewClient() });
        count(`GET ${path}`, res.status);
        const text = await res.text();
        expect(res.status, text.slice(0, 200)).toBeLessThan(500);
        expect(text).not.toContain('<script>x</script>');
      }),
      { numRuns: RUNS },
    );
    expect(stored()).toEqual(before);
  });

  it('POST /api/v1/licenses/verify: random bodies → 4xx or {"valid":false}, never a 5xx', async () => {
    const before = stored();
    const licenseBody = fc.oneof(
      body,
      fc.record({ serial: fc.oneof(fc.string(), fc.integer(), fc.constant(null)), script: fc.oneof(fc.string(), fc.constant(undefined)) }, { requiredKeys: [] }).map((o) => JSON.stringify(o)),
    );
    await fc.assert(
      fc.asyncProperty(licenseBody, fc.constantFrom('application/json', 'text/plain', 'application/x-www-form-urlencoded'), async (b, type) => {
        const res = await post('/api/v1/licenses/verify', b, { 'content-type': type, ...fromNewClient() });
        expect(res.status, res.body).toBeLessThan(500);
        if (res.status === 200) expect(JSON.parse(res.body)).toEqual({ valid: false });
      }),
      { numRuns: RUNS },
    );
    expect(stored()).toEqual(before);
  });

  it('a request whose body never finishes arriving does not hold the route: others are answered meanwhile', async () => {
    const socket = connect(Number(new URL(h.service.url).port), '127.0.0.1');
    await new Promise<void>((r) => socket.once('connect', () => r()));
    socket.write('POST /webhooks/paypal HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{"id":');
    try {
      const sub = h.paypal.createSubscription({ planId: PLAN_IDS.eliteMonthly, customId: '300000000000000092' });
      const event = h.paypal.subscriptionEvent('BILLING.SUBSCRIPTION.CREATED', sub.id);
      const res = await h.deliver(event);
      expect(res.status).toBe(200);
    } finally {
      socket.destroy();
    }
  });
});

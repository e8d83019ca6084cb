import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { members, subscriptions } from '../../src/store/schema.ts';
import { startHarness, type Harness } from '../helpers/harness.ts';
import { commandReply, deliverProcessed, embedOf, subscribeAndPay } from '../helpers/member-actions.ts';
import { PLAN_IDS, ROLE_IDS, SCRIPT_KEYS } from '../helpers/tiers.ts';

/**
 * Serials and the license API end to end: subscriptions set up through
 * signed webhooks (the REAL PayPal SDK re-reads them from the stand-in),
 * serials read the way the member reads them (/scripts and /status through
 * the REAL discord.js client and the Discord stand-in) and checked the way a
 * script checks them (HTTP POST /api/v1/licenses/verify).
 */

const DAY = 86_400_000;
let h: Harness;
let nextMember = 320000000000000000n;
let nextAddress = 0;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(() => h.close());

const db = () => h.service.store.db;
const member = (id: string) => db().select().from(members).where(eq(members.discordUserId, id)).get();

/** A new member of the guild, with nothing yet. */
function joined(): string {
  const id = String(++nextMember);
  h.discord.addMember(id);
  return id;
}
const send = (event: Parameters<Harness['deliver']>[0]) => deliverProcessed(h, event);

const subscribe = (memberId: string, planId: string, roleId: string) => subscribeAndPay(h, { memberId, planId, roleId, paidAt: h.now() - DAY });
const command = (name: 'status' | 'scripts', userId: string) => commandReply(h, name, userId);
const scriptsText = async (memberId: string) => embedOf(await command('scripts', memberId)).description ?? '';
const serialOf = (text: string, scriptName: string) => new RegExp(`• ${scriptName} — serial \`(CNC(?:-[A-Z0-9]{4}){4})\``).exec(text)?.[1];

/** A fresh client address per call site, so the per-IP limit of one test never spills into another. */
const address = () => `203.0.113.${++nextAddress}`;

async function verify(body: unknown, from: string, contentType = 'application/json') {
  const res = await fetch(`${h.service.url}/api/v1/licenses/verify`, {
    method: 'POST',
    headers: { 'content-type': contentType, 'x-forwarded-for': from },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: res.status, retryAfter: res.headers.get('retry-after'), text: await res.text() };
}

describe('serials', () => {
  it('subscribe → a serial per unlocked script in /scripts and /status; lapse → suspended; return → the same serial active, plus one for the newly unlocked script', async () => {
    const memberId = joined();
    const subId = await subscribe(memberId, PLAN_IDS.eliteMonthly, ROLE_IDS.elite);

    const before = await scriptsText(memberId);
    const starter = serialOf(before, 'Starter Scripts');
    expect(starter, before).toMatch(/^CNC-[2-9A-HJKMNP-Z]{4}(-[2-9A-HJKMNP-Z]{4}){3}$/);
    expect(before).toContain('• Advanced Scripts — needs Legendary');
    expect(before).not.toContain('suspended');
    const status = embedOf(await command('status', memberId));
    expect(status.fields?.find((f) => f.name === 'Serials')?.value).toBe(`Starter Scripts: \`${starter}\``);
    const from = address();
    expect(JSON.parse((await verify({ serial: starter, script: SCRIPT_KEYS.starter }, from)).text)).toEqual({ valid: true, tier: 'elite', expires_at: null });

    // Lapse: cancelled at PayPal, access runs to paid-through, then the lapse check ends it.
    h.paypal.setStatus(subId, 'CANCELLED');
    await send(h.paypal.subscriptionEvent('BILLING.SUBSCRIPTION.CANCELLED', subId));
    const accessUntil = db().select().from(subscriptions).where(eq(subscriptions.id, subId)).get()?.accessUntil ?? 0;
    expect(JSON.parse((await verify({ serial: starter, script: SCRIPT_KEYS.starter }, from)).text)).toEqual({ valid: true, tier: 'elite', expires_at: new Date(accessUntil).toISOString() });
    h.advance(accessUntil - h.now() + 1000);
    await h.waitFor(() => member(memberId)?.entitledTier === null);
    const lapsed = await scriptsText(memberId);
    expect(lapsed).not.toContain(starter);
    expect(lapsed).toContain('• Starter Scripts — needs Elite (your serial is suspended until then)');
    expect(embedOf(await command('status', memberId)).description).toContain('Your serial is suspended');
    expect((await verify({ serial: starter, script: SCRIPT_KEYS.starter }, from)).text).toBe('{"valid":false}');

    // Return, one tier higher: the starter serial is the same one, the advanced scripts get theirs.
    await subscribe(memberId, PLAN_IDS.legendaryMonthly, ROLE_IDS.legendary);
    const back = await scriptsText(memberId);
    expect(serialOf(back, 'Starter Scripts')).toBe(starter);
    const advanced = serialOf(back, 'Advanced Scripts');
    expect(advanced).toMatch(/^CNC-/);
    expect(advanced).not.toBe(starter);
    expect(JSON.parse((await verify({ serial: starter, script: SCRIPT_KEYS.starter }, from)).text)).toEqual({ valid: true, tier: 'legendary', expires_at: null });
    expect(JSON.parse((await verify({ serial: advanced, script: SCRIPT_KEYS.advanced }, from)).text)).toMatchObject({ valid: true, tier: 'legendary' });
  });
});

describe('POST /api/v1/licenses/verify', () => {
  let serial = '';
  beforeAll(async () => {
    const memberId = joined();
    h.grantTier(memberId, 'elite', null);
    // The grant's recompute issues the serial in its own transaction: it is there at once.
    serial = serialOf(await scriptsText(memberId), 'Starter Scripts') ?? '';
    expect(serial).toMatch(/^CNC-/);
  });

  it('answers valid for the serial and its script, typed in any case with spaces around', async () => {
    const from = address();
    const res = await verify({ serial: `  ${serial.toLowerCase()}\n`, script: ` ${SCRIPT_KEYS.starter.toUpperCase()}` }, from);
    expect(res.status).toBe(200);
    expect(JSON.parse(res.text)).toEqual({ valid: true, tier: 'elite', expires_at: null });
  });

  it('answers exactly {"valid":false} for another script, an unknown serial and garbage alike', async () => {
    const from = address();
    const unknown = serial.replace(/.$/, (c) => (c === '2' ? '3' : '2'));
    for (const body of [
      { serial, script: SCRIPT_KEYS.advanced },
      { serial, script: 'no-such-script' },
      { serial: unknown, script: SCRIPT_KEYS.starter },
      { serial: 'hello', script: SCRIPT_KEYS.starter },
    ]) {
      const res = await verify(body, from);
      expect(res.status, JSON.stringify(body)).toBe(200);
      expect(res.text, JSON.stringify(body)).toBe('{"valid":false}');
    }
  });

  it('a malformed body is a 400 invalid_body naming what is wrong (and says nothing about serials)', async () => {
    const from = address();
    const cases: { body: unknown; contentType?: string; mentions: string }[] = [
      { body: { serial }, mentions: 'script' },
      { body: { serial: 42, script: SCRIPT_KEYS.starter }, mentions: 'serial' },
      { body: { serial: 'x'.repeat(500), script: SCRIPT_KEYS.starter }, mentions: 'serial' },
      { body: [serial, SCRIPT_KEYS.starter], mentions: 'body' },
      { body: '{"serial": ', mentions: 'JSON' },
      { body: `serial=${serial}&script=x`, contentType: 'application/x-www-form-urlencoded', mentions: 'application/json' },
    ];
    for (const c of cases) {
      const res = await verify(c.body, from, c.contentType);
      expect([400, 415], res.text).toContain(res.status);
      const answer = JSON.parse(res.text) as { error: string; detail: string };
      expect(answer.error, res.text).toBe('invalid_body');
      expect(answer.detail, res.text).toContain(c.mentions);
    }
  });

  it('limits each client address: 429 with Retry-After after 30 a minute; another address still gets answers', async () => {
    const from = address();
    const statuses: number[] = [];
    let limited: Awaited<ReturnType<typeof verify>> | undefined;
    for (let i = 0; i < 31; i++) {
      const res = await verify({ serial, script: SCRIPT_KEYS.starter }, from);
      statuses.push(res.status);
      if (res.status === 429) limited = res;
    }
    expect(statuses.slice(0, 30).every((s) => s === 200)).toBe(true);
    expect(statuses[30]).toBe(429);
    expect(JSON.parse(limited?.text ?? '{}')).toEqual({ error: 'rate_limited' });
    expect(Number(limited?.retryAfter)).toBeGreaterThan(0);
    expect(Number(limited?.retryAfter)).toBeLessThanOrEqual(60);
    expect((await verify({ serial, script: SCRIPT_KEYS.starter }, address())).status).toBe(200);
  });
});

import { describe, expect, it } from 'vitest';
import { lookupEmbed, type LookupFacts } from '../../src/core/member-lookup.ts';
import type { SummarySubscription } from '../../src/core/member-summary.ts';
import { DAY_MS } from '../../src/core/time.ts';
import { paidSubscription } from '../helpers/member-facts.ts';
import { PLAN_IDS, TIER_KEYS, testCatalog } from '../helpers/tiers.ts';

const catalog = testCatalog();
const NOW = Date.parse('2024-03-15T12:00:00Z');
const days = (n: number) => NOW + n * DAY_MS;
const t = (ms: number) => `<t:${ms / 1000}:f>`;
const D = (ms: number) => `<t:${ms / 1000}:D>`;
const MEMBER = '300000000000000001';
const STAFF = '300000000000000009';

const sub = (id: string, over: Partial<SummarySubscription> = {}) => paidSubscription(id, PLAN_IDS.eliteMonthly, NOW, { tierKey: TIER_KEYS.elite, paidTierKey: TIER_KEYS.elite, ...over });

const facts = (over: Partial<LookupFacts> = {}): LookupFacts => ({ memberId: MEMBER, subscriptions: [], lastPayments: new Map(), grants: [], serials: [], audit: [], ...over });
const field = (f: LookupFacts, name: RegExp) => lookupEmbed(f, catalog, NOW).fields?.find((x) => name.test(x.name))?.value;

describe('lookupEmbed', () => {
  it('a member with nothing', () => {
    const e = lookupEmbed(facts(), catalog, NOW);
    expect(e.description).toBe(`<@${MEMBER}> (${MEMBER})`);
    expect(e.fields?.map((f) => [f.name, f.value])).toEqual([
      ['Entitlement', 'None'],
      ['Subscriptions (0)', 'None'],
      ['Grants (0)', 'None'],
      ['Serials (0)', 'None'],
      ['Last audit entries', 'None'],
    ]);
  });

  it('entitlement with source and end, subscriptions with status, plan, paid-through and last payment, grants, masked serials, audit', () => {
    const f = facts({
      subscriptions: [sub('I-OLD', { state: 'expired', accessUntil: days(-30), paidThrough: days(-30), createdAt: days(-90), lastPaymentAt: null }), sub('I-NEW')],
      lastPayments: new Map([['I-NEW', { amount: '4.99', currency: 'USD', state: 'completed', paidAt: days(-10) }]]),
      grants: [
        { id: 7, tierKey: TIER_KEYS.titan, startsAt: days(-1), expiresAt: days(6), revokedAt: null, grantedBy: STAFF },
        { id: 3, tierKey: TIER_KEYS.warlord, startsAt: days(-50), expiresAt: null, revokedAt: days(-45), grantedBy: STAFF },
      ],
      serials: [{ scriptKey: 'starter-scripts', serial: 'CNC-7K2Q-M9XD-4TRB-PW3H', status: 'active' }],
      audit: [{ at: days(-1), kind: 'staff.grant', message: `<@${STAFF}> granted ${'x'.repeat(300)}` }],
    });
    expect(field(f, /^Entitlement$/)).toBe(`**Titan** from staff grant #7, until ${t(days(6))}`);
    expect(field(f, /^Subscriptions/)).toBe(
      [
        `\`I-NEW\` active · plan \`${PLAN_IDS.eliteMonthly}\` (Elite) · paid through ${D(days(20))} · last payment 4.99 USD ${D(days(-10))}`,
        `\`I-OLD\` expired · plan \`${PLAN_IDS.eliteMonthly}\` (Elite) · paid through ${D(days(-30))} · last payment none`,
      ].join('\n'),
    );
    expect(field(f, /^Grants \(2\)$/)).toBe([`#7 **Titan** until ${t(days(6))}, running, by <@${STAFF}>`, `#3 **Warlord** lifetime, revoked ${D(days(-45))}, by <@${STAFF}>`].join('\n'));
    expect(field(f, /^Serials \(1\)$/)).toBe('starter-scripts: `CNC-****-****-****-PW3H` (active)');
    const audit = field(f, /^Last audit/) ?? '';
    expect(audit.startsWith(`${t(days(-1))} staff.grant: <@${STAFF}> granted xxx`)).toBe(true);
    expect(audit.endsWith('…')).toBe(true);
    expect(JSON.stringify(lookupEmbed(f, catalog, NOW))).not.toContain('7K2Q');
  });

  it('stays inside Discord’s limits with many rows', () => {
    const subs = Array.from({ length: 40 }, (_, i) => sub(`I-${String(i).padStart(12, '0')}`, { createdAt: days(-i) }));
    const grants = Array.from({ length: 40 }, (_, i) => ({ id: i + 1, tierKey: TIER_KEYS.elite, startsAt: days(-i), expiresAt: days(i), revokedAt: null, grantedBy: STAFF }));
    const e = lookupEmbed(facts({ subscriptions: subs, grants }), catalog, NOW);
    for (const f of e.fields ?? []) expect(f.value.length).toBeLessThanOrEqual(1024);
    expect(field(facts({ subscriptions: subs }), /^Subscriptions \(40\)$/)).toMatch(/…and 35 more$/);
    const total = e.title.length + e.description.length + (e.fields ?? []).reduce((n, f) => n + f.name.length + f.value.length, 0);
    expect(total).toBeLessThanOrEqual(6000);
  });
});

import { describe, expect, it } from 'vitest';
import { computeAccessAfterCancel, cancelOutcomeText, cancelPrompt, cancelRefusal, planCancel, type CancelPlan } from '../../src/core/cancel-plan.ts';
import type { GrantFacts } from '../../src/core/entitlement.ts';
import { formatDiscordDate } from '../../src/core/messages.ts';
import { statusEmbed, type MemberFacts, type SummarySubscription } from '../../src/core/member-summary.ts';
import { SEVERITY_COLORS, type Embed } from '../../src/core/messages.ts';
import { listScriptAccess, scriptsEmbed } from '../../src/core/script-access.ts';
import { DAY_MS } from '../../src/core/time.ts';
import { buildCatalog, type TierCatalog } from '../../src/core/tiers.ts';
import { paidSubscription } from '../helpers/member-facts.ts';
import { PLAN_IDS, SCRIPT_KEYS, testCatalog, type TestTierKey } from '../helpers/tiers.ts';

/** The pure builders behind /status, /scripts and /cancel, table-driven. */

const catalog = testCatalog();
const NOW = Date.parse('2026-03-15T12:00:00Z');
const days = (n: number) => NOW + n * DAY_MS;
const D = (n: number) => formatDiscordDate(days(n));

const sub = (id: string, planId: string, over: Partial<SummarySubscription> = {}) => paidSubscription(id, planId, NOW, over);
const grant = (id: number, tierKey: TestTierKey, over: Partial<GrantFacts> = {}): GrantFacts => ({ id, tierKey, startsAt: days(-5), expiresAt: null, revokedAt: null, ...over });
const facts = (over: Partial<MemberFacts> = {}): MemberFacts => ({ subscriptions: [], grants: [], lastPayment: null, ...over });
const field = (e: Embed, name: string) => e.fields?.find((f) => f.name === name)?.value;
const text = (e: Embed) => [e.title, e.description, ...(e.fields ?? []).flatMap((f) => [f.name, f.value])].join('\n');

describe('statusEmbed', () => {
  interface Row {
    name: string;
    facts: MemberFacts;
    title: string;
    fields?: Record<string, string | undefined>;
    /** Substrings of the whole embed. */
    says?: (string | RegExp)[];
    never?: (string | RegExp)[];
    color?: number;
  }
  const rows: Row[] = [
    {
      name: 'nothing → the tiers with prices and how to subscribe',
      facts: facts(),
      title: 'No membership',
      fields: { Elite: '4.99 USD / month\nEntry tier', Legendary: '9.99 USD / month', Warlord: '49.99 USD / month' },
      says: ['/subscribe', 'no membership'],
      color: SEVERITY_COLORS.info,
    },
    {
      name: 'an active subscription → tier, PayPal id, next billing, last payment from the payments table, scripts count',
      facts: facts({ subscriptions: [sub('I-ACTIVE', PLAN_IDS.legendaryMonthly)], lastPayment: { amount: '9.99', currency: 'USD', state: 'completed', paidAt: days(-10) } }),
      title: 'Your membership: Legendary',
      fields: { Tier: 'Legendary', Source: 'PayPal subscription `I-ACTIVE`', State: 'Active', 'Next billing': D(20), 'Last payment': `9.99 USD on ${D(-10)}`, Scripts: '2 of 2 unlocked — see /scripts' },
      color: SEVERITY_COLORS.success,
    },
    {
      name: 'serials → the active ones of unlocked scripts, by script name; a suspended or locked one is not shown',
      facts: facts({
        subscriptions: [sub('I-E', PLAN_IDS.eliteMonthly)],
        serials: [
          { scriptKey: SCRIPT_KEYS.starter, serial: 'CNC-7K2Q-M9XD-4TRB-PW3H', status: 'active' },
          { scriptKey: SCRIPT_KEYS.advanced, serial: 'CNC-AAAA-BBBB-CCCC-DDDD', status: 'active' },
        ],
      }),
      title: 'Your membership: Elite',
      fields: { Serials: 'Starter Scripts: `CNC-7K2Q-M9XD-4TRB-PW3H`' },
      never: ['CNC-AAAA'],
    },
    {
      name: 'no membership with suspended serials → they come back on subscribing',
      facts: facts({ serials: [{ scriptKey: SCRIPT_KEYS.starter, serial: 'CNC-7K2Q-M9XD-4TRB-PW3H', status: 'suspended' }] }),
      title: 'No membership',
      says: ['Your serial is suspended; the same serial works again once you subscribe.'],
      never: ['CNC-7K2Q'],
    },
    {
      name: 'no sale recorded yet → last payment dated from the subscription',
      facts: facts({ subscriptions: [sub('I-A', PLAN_IDS.eliteMonthly)] }),
      title: 'Your membership: Elite',
      fields: { 'Last payment': `on ${D(-10)}`, Scripts: '1 of 2 unlocked — see /scripts' },
    },
    {
      name: 'a refunded last sale says so',
      facts: facts({ subscriptions: [sub('I-A', PLAN_IDS.eliteMonthly)], lastPayment: { amount: '4.99', currency: 'USD', state: 'refunded', paidAt: days(-3) } }),
      title: 'Your membership: Elite',
      fields: { 'Last payment': `4.99 USD on ${D(-3)} (refunded)` },
    },
    {
      name: 'past due → grace end, access end and how to fix it',
      facts: facts({ subscriptions: [sub('I-PD', PLAN_IDS.titanMonthly, { state: 'past_due', graceUntil: days(2), accessUntil: days(2), paidThrough: days(-1) })] }),
      title: 'Your membership: Titan',
      fields: { State: `Past due (payment failed); grace until ${D(2)}`, 'Access until': D(2) },
      says: ['payment method'],
      color: SEVERITY_COLORS.warning,
    },
    {
      name: 'cancelled → access until paid-through, no next billing',
      facts: facts({ subscriptions: [sub('I-C', PLAN_IDS.warlordMonthly, { state: 'cancelled', accessUntil: days(9) })] }),
      title: 'Your membership: Warlord',
      fields: { State: 'Cancelled', 'Access until': D(9), 'Next billing': undefined },
      says: [`until ${D(9)}`, 'nothing more will be charged'],
    },
    {
      name: 'suspended → access until the grace end',
      facts: facts({ subscriptions: [sub('I-S', PLAN_IDS.eliteMonthly, { state: 'suspended', accessUntil: days(1), graceUntil: days(1) })] }),
      title: 'Your membership: Elite',
      fields: { State: 'Suspended by PayPal', 'Access until': D(1) },
      says: ['suspended'],
    },
    {
      name: 'a lifetime staff grant',
      facts: facts({ grants: [grant(7, 'titan')] }),
      title: 'Your membership: Titan',
      fields: { Source: 'Staff grant', 'Access until': 'No end date', 'Last payment': undefined },
      says: ['no end date'],
    },
    {
      name: 'a time-boxed grant above a lower subscription → the grant, and the subscription under "Also"',
      facts: facts({ subscriptions: [sub('I-E', PLAN_IDS.eliteMonthly)], grants: [grant(3, 'warlord', { expiresAt: days(6) })] }),
      title: 'Your membership: Warlord',
      fields: { Source: 'Staff grant', 'Access until': D(6), Also: 'Elite through PayPal subscription `I-E` (active)', 'Last payment': `on ${D(-10)}` },
    },
    {
      name: 'a downgrade in progress (titan paid, plan now elite) → "Titan until <date>, then Elite"',
      facts: facts({ subscriptions: [sub('I-DG', PLAN_IDS.eliteMonthly, { paidPlanId: PLAN_IDS.titanMonthly, paidThrough: days(12) })] }),
      title: 'Your membership: Titan',
      says: [`**Titan** until ${D(12)}, then **Elite**`],
      fields: { Source: 'PayPal subscription `I-DG`' },
    },
    {
      name: 'a downgrade, cancelled since → "Titan until <date>" and nothing after',
      facts: facts({ subscriptions: [sub('I-DG', PLAN_IDS.eliteMonthly, { state: 'cancelled', accessUntil: days(12), paidPlanId: PLAN_IDS.titanMonthly, paidThrough: days(12) })] }),
      title: 'Your membership: Titan',
      says: [`**Titan** until ${D(12)} (you changed plans`],
      never: ['Elite'],
    },
    {
      name: 'a downgrade whose paid period ended → the new tier only',
      facts: facts({ subscriptions: [sub('I-DG', PLAN_IDS.eliteMonthly, { paidPlanId: PLAN_IDS.titanMonthly, paidThrough: days(-1) })] }),
      title: 'Your membership: Elite',
      never: ['then'],
    },
    {
      name: 'an upgrade by revise not yet paid at the new price (elite paid, plan now warlord) → Elite, no downgrade note',
      facts: facts({ subscriptions: [sub('I-UP', PLAN_IDS.warlordMonthly, { paidPlanId: PLAN_IDS.eliteMonthly, paidThrough: days(12) })] }),
      title: 'Your membership: Elite',
      fields: { Tier: 'Elite', Source: 'PayPal subscription `I-UP`' },
      never: ['Warlord', 'you changed plans'],
    },
    {
      name: '"Also" names the tier paid for, not the plan revised to',
      facts: facts({ subscriptions: [sub('I-UP', PLAN_IDS.warlordMonthly, { paidPlanId: PLAN_IDS.eliteMonthly })], grants: [grant(3, 'titan')] }),
      title: 'Your membership: Titan',
      fields: { Also: 'Elite through PayPal subscription `I-UP` (active)' },
    },
    {
      name: 'an ended subscription is named by the tier paid for',
      facts: facts({ subscriptions: [sub('I-OLD', PLAN_IDS.warlordMonthly, { state: 'cancelled', accessUntil: days(-2), paidPlanId: PLAN_IDS.legendaryMonthly })] }),
      title: 'No membership',
      says: [`Your **Legendary** membership ended on ${D(-2)}`],
    },
    {
      name: 'an active subscription with nothing paid yet → no membership',
      facts: facts({ subscriptions: [sub('I-NP', PLAN_IDS.warlordMonthly, { paidPlanId: null, paidThrough: null, lastPaymentAt: null })] }),
      title: 'No membership',
    },
    {
      name: 'a cancelled subscription whose access ended → when it ended, plus the tiers',
      facts: facts({ subscriptions: [sub('I-OLD', PLAN_IDS.legendaryMonthly, { state: 'cancelled', accessUntil: days(-2) })] }),
      title: 'No membership',
      says: [`Your **Legendary** membership ended on ${D(-2)}`, '/subscribe'],
    },
    {
      name: 'a refund revoked it → says so',
      facts: facts({ subscriptions: [sub('I-R', PLAN_IDS.eliteMonthly, { state: 'revoked', revokedAt: days(-1) })] }),
      title: 'No membership',
      says: ['refund or chargeback'],
    },
    {
      name: 'an unapproved subscription → how to find the link again',
      facts: facts({ subscriptions: [sub('I-P', PLAN_IDS.eliteMonthly, { state: 'pending', nextBillingAt: null, paidThrough: null, lastPaymentAt: null })] }),
      title: 'No membership',
      says: ['waiting for your approval'],
    },
    {
      name: 'a grant that starts later → when',
      facts: facts({ grants: [grant(1, 'elite', { startsAt: days(3) })] }),
      title: 'No membership',
      says: [`**Elite** from ${D(3)}`],
    },
  ];

  it.each(rows)('$name', (row) => {
    const e = statusEmbed(row.facts, catalog, NOW);
    expect(e.title).toBe(row.title);
    for (const [name, value] of Object.entries(row.fields ?? {})) expect(field(e, name), name).toBe(value);
    for (const s of row.says ?? []) expect(text(e).toLowerCase()).toContain(typeof s === 'string' ? s.toLowerCase() : s);
    for (const s of row.never ?? []) expect(text(e)).not.toMatch(s);
    if (row.color !== undefined) expect(e.color).toBe(row.color);
  });

  it('stays inside Discord’s embed limits with many long tiers', () => {
    const tiers = Array.from({ length: 25 }, (_, i) => ({
      key: `t${i}`,
      name: `Tier ${i} ${'x'.repeat(80)}`,
      rank: i,
      role_id: String(100000000000000100n + BigInt(i)),
      plans: [`P-T${i}`],
      plan_options: [{ id: `P-T${i}`, name: 'Plan 1' }],
      price: 'p'.repeat(100),
      description: 'd'.repeat(500),
    }));
    const big: TierCatalog = buildCatalog({ ...catalog.file, tiers, scripts: [] });
    const e = statusEmbed(facts(), big, NOW);
    expect(e.fields?.length).toBeLessThanOrEqual(25);
    expect(text(e).length).toBeLessThan(6000);
    expect(field(e, 'More')).toMatch(/15 more tiers/);
  });
});

describe('scripts', () => {
  const rows: { tier: TestTierKey | null; unlocked: string[]; locked: string[] }[] = [
    { tier: null, unlocked: [], locked: [SCRIPT_KEYS.starter, SCRIPT_KEYS.advanced] },
    { tier: 'elite', unlocked: [SCRIPT_KEYS.starter], locked: [SCRIPT_KEYS.advanced] },
    { tier: 'legendary', unlocked: [SCRIPT_KEYS.starter, SCRIPT_KEYS.advanced], locked: [] },
    { tier: 'warlord', unlocked: [SCRIPT_KEYS.starter, SCRIPT_KEYS.advanced], locked: [] },
  ];
  it.each(rows)('access is cumulative by rank: $tier', ({ tier, unlocked, locked }) => {
    const access = listScriptAccess(tier === null ? null : (catalog.byKey(tier) ?? null), catalog);
    expect(access.filter((a) => a.unlocked).map((a) => a.script.key)).toEqual(unlocked);
    expect(access.filter((a) => !a.unlocked).map((a) => a.script.key)).toEqual(locked);
  });

  it('the embed lists unlocked scripts and each locked one with the tier that unlocks it', () => {
    const e = scriptsEmbed(catalog.byKey('elite') ?? null, catalog);
    expect(e.title).toBe('Your scripts (Elite)');
    expect(e.description).toContain('**Unlocked with Elite** (1 of 2)\n• Starter Scripts');
    expect(e.description).toContain('**Locked**\n• Advanced Scripts — needs Legendary');
  });

  it('no tier → everything locked, and how to subscribe', () => {
    const e = scriptsEmbed(null, catalog);
    expect(e.description).toMatch(/no membership.*\/subscribe/);
    expect(e.description).toContain('• Starter Scripts — needs Elite');
  });

  it('a serial, once known, shows next to its script', () => {
    const e = scriptsEmbed(catalog.byKey('legendary') ?? null, catalog, [{ scriptKey: SCRIPT_KEYS.starter, serial: 'CNC-7K2Q-M9XD-4TRB-PW3H', status: 'active' }]);
    expect(e.description).toContain('• Starter Scripts — serial `CNC-7K2Q-M9XD-4TRB-PW3H`');
    expect(e.description).toMatch(/^• Advanced Scripts$/m);
  });

  it('a suspended serial is not shown; its locked script says it comes back with the tier', () => {
    const serials = [
      { scriptKey: SCRIPT_KEYS.starter, serial: 'CNC-7K2Q-M9XD-4TRB-PW3H', status: 'active' },
      { scriptKey: SCRIPT_KEYS.advanced, serial: 'CNC-AAAA-BBBB-CCCC-DDDD', status: 'suspended' },
    ] as const;
    const e = scriptsEmbed(catalog.byKey('elite') ?? null, catalog, serials);
    expect(e.description).toContain('• Starter Scripts — serial `CNC-7K2Q-M9XD-4TRB-PW3H`');
    expect(e.description).toContain('• Advanced Scripts — needs Legendary (your serial is suspended until then)');
    expect(e.description).not.toContain('CNC-AAAA');
  });

  it('an empty catalogue says so; a huge one is cut inside Discord’s limit', () => {
    expect(scriptsEmbed(null, buildCatalog({ ...catalog.file, scripts: [] })).description).toMatch(/no scripts/);
    const scripts = Array.from({ length: 200 }, (_, i) => ({ key: `s${i}`, name: `Script ${i} ${'y'.repeat(60)}`, min_tier: i % 2 === 0 ? 'elite' : 'warlord' }));
    const e = scriptsEmbed(catalog.byKey('elite') ?? null, buildCatalog({ ...catalog.file, scripts }));
    expect(e.description.length).toBeLessThanOrEqual(4096);
    expect(e.description).toMatch(/…and \d+ more/);
  });
});

describe('planCancel', () => {
  interface Row {
    name: string;
    subs?: SummarySubscription[];
    grants?: GrantFacts[];
    on_cancel?: 'period_end' | 'immediate';
    plan: CancelPlan['kind'];
    id?: string;
    /** Tier and until the member keeps afterwards. */
    after?: [TestTierKey | null, number | null];
    says: RegExp;
  }
  const rows: Row[] = [
    { name: 'nothing', plan: 'nothing', says: /no PayPal subscription to cancel/ },
    { name: 'a pending subscription is not cancellable', subs: [sub('I-P', PLAN_IDS.eliteMonthly, { state: 'pending' })], plan: 'nothing', says: /no PayPal subscription/ },
    { name: 'a grant only', grants: [grant(1, 'titan')], plan: 'grant_only', says: /granted by staff.*nothing to cancel/ },
    {
      name: 'active, period_end → keeps the tier until paid-through',
      subs: [sub('I-A', PLAN_IDS.titanMonthly)],
      plan: 'cancellable',
      id: 'I-A',
      after: ['titan', days(20)],
      says: new RegExp(`You keep \\*\\*Titan\\*\\* until ${D(20)}`),
    },
    { name: 'active, immediate → ends now', subs: [sub('I-A', PLAN_IDS.titanMonthly)], on_cancel: 'immediate', plan: 'cancellable', id: 'I-A', after: [null, null], says: /access ends now/ },
    {
      name: 'past due with paid-through behind → ends now (the grace was for paying)',
      subs: [sub('I-PD', PLAN_IDS.eliteMonthly, { state: 'past_due', paidThrough: days(-1), accessUntil: days(2), graceUntil: days(2) })],
      plan: 'cancellable',
      id: 'I-PD',
      after: [null, null],
      says: /access ends now/,
    },
    {
      name: 'the subscription behind the current tier is chosen over a lower one',
      subs: [sub('I-LOW', PLAN_IDS.eliteMonthly, { createdAt: days(-1) }), sub('I-HIGH', PLAN_IDS.warlordMonthly)],
      plan: 'cancellable',
      id: 'I-HIGH',
      after: ['warlord', days(20)],
      says: /Warlord/,
    },
    {
      name: 'a downgrade in progress (titan paid, plan now elite) → keeps titan until the paid-through',
      subs: [sub('I-DG', PLAN_IDS.eliteMonthly, { paidPlanId: PLAN_IDS.titanMonthly, paidThrough: days(12) })],
      plan: 'cancellable',
      id: 'I-DG',
      after: ['titan', days(12)],
      says: /Titan/,
    },
    {
      name: 'an upgrade by revise not yet paid (elite paid, plan now warlord) → keeps elite, not warlord, until the paid-through',
      subs: [sub('I-UP', PLAN_IDS.warlordMonthly, { paidPlanId: PLAN_IDS.eliteMonthly, paidThrough: days(12) })],
      plan: 'cancellable',
      id: 'I-UP',
      after: ['elite', days(12)],
      says: new RegExp(`You keep \\*\\*Elite\\*\\* until ${D(12)}`),
    },
    {
      name: 'already cancelled with access left',
      subs: [sub('I-C', PLAN_IDS.eliteMonthly, { state: 'cancelled', accessUntil: days(4) })],
      plan: 'already_cancelled',
      id: 'I-C',
      after: ['elite', days(4)],
      says: new RegExp(`already cancelled\\. You keep \\*\\*Elite\\*\\* until ${D(4)}`),
    },
    { name: 'cancelled and over → nothing', subs: [sub('I-C', PLAN_IDS.eliteMonthly, { state: 'cancelled', accessUntil: days(-4) })], plan: 'nothing', says: /no PayPal subscription/ },
  ];

  it.each(rows)('$name', (row) => {
    const cat = row.on_cancel === undefined ? catalog : buildCatalog({ ...catalog.file, policy: { ...catalog.policy, on_cancel: row.on_cancel } });
    const plan = planCancel(row.subs ?? [], row.grants ?? [], cat, NOW);
    expect(plan.kind).toBe(row.plan);
    if (plan.kind === 'cancellable' || plan.kind === 'already_cancelled') {
      expect(plan.subscriptionId).toBe(row.id);
      expect([plan.after.tier?.key ?? null, plan.after.tier === null ? null : plan.after.until]).toEqual(row.after);
    }
    const shown = plan.kind === 'cancellable' ? cancelPrompt(plan, NOW).description : cancelRefusal(plan, NOW);
    expect(shown).toMatch(row.says);
  });

  it('the prediction matches what a CANCELLED read will store (paid-through; now when unknown)', () => {
    expect(computeAccessAfterCancel(sub('I', PLAN_IDS.eliteMonthly, { paidThrough: null }), catalog, NOW).tier).toBeNull();
    expect(computeAccessAfterCancel(sub('I', PLAN_IDS.eliteMonthly, { paidThrough: days(3) }), catalog, NOW)).toMatchObject({ until: days(3) });
  });
});

describe('cancel outcome texts', () => {
  const elite = catalog.byKey('elite') ?? null;
  it.each([
    ['cancelled, access left', { kind: 'cancelled', after: { tier: elite, until: days(5) } } as const, new RegExp(`^Cancelled\\. You keep \\*\\*Elite\\*\\* until ${D(5)}`)],
    ['cancelled, access over', { kind: 'cancelled', after: { tier: null, until: null } } as const, /^Cancelled\..*access has ended/],
    ['already cancelled', { kind: 'already_cancelled', after: { tier: elite, until: days(5) } } as const, /already cancelled\. You keep \*\*Elite\*\*/],
    ['not cancellable', { kind: 'not_cancellable', paypalStatus: 'EXPIRED' } as const, /expired, so there is nothing to cancel/],
    ['accepted, state to follow', { kind: 'accepted' } as const, /accepted the cancellation/],
    ['not the member’s', { kind: 'not_found' } as const, /not yours/],
  ])('%s', (_name, outcome, expected) => {
    expect(cancelOutcomeText(outcome, NOW)).toMatch(expected);
  });
});

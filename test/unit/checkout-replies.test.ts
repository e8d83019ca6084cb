import { describe, expect, it } from 'vitest';
import { checkoutReply } from '../../src/core/checkout-replies.ts';
import { formatDiscordDate } from '../../src/core/messages.ts';
import type { CheckoutOutcome } from '../../src/core/checkout.ts';
import { DAY_MS } from '../../src/core/time.ts';
import { PLAN_IDS, testCatalog } from '../helpers/tiers.ts';

const catalog = testCatalog();
const NOW = Date.parse('2024-03-15T12:00:00Z');
const tier = (key: string) => {
  const t = catalog.byKey(key);
  if (t === undefined) throw new Error(key);
  return t;
};
const LINK = 'https://www.paypal.com/webapps/billing/subscriptions?ba_token=BA-1';
const textOf = (r: ReturnType<typeof checkoutReply>) =>
  [r.content ?? '', r.embed?.title ?? '', r.embed?.description ?? '', ...(r.embed?.fields ?? []).map((f) => `${f.name}: ${f.value}`), r.embed?.footer?.text ?? ''].join('\n');

describe('checkoutReply', () => {
  it('a checkout: embed with price, plan and cumulative scripts, and a "Pay with PayPal" link', () => {
    const r = checkoutReply({ kind: 'checkout', tier: tier('titan'), plan: { id: PLAN_IDS.titanYearly, name: 'Yearly' }, approveUrl: LINK, reused: false }, catalog, 'Guild');
    expect(r.embed?.title).toBe('Subscribe to Titan');
    expect(r.embed?.fields).toEqual([
      { name: 'Price', value: '19.99 USD / month or 199.99 USD / year', inline: true },
      { name: 'Plan', value: 'Yearly', inline: true },
      { name: 'Unlocks', value: 'The Titan role and Starter Scripts, Advanced Scripts' },
    ]);
    expect(r.link).toEqual({ label: 'Pay with PayPal', url: LINK });
    expect(textOf(r)).toMatch(/Nothing is charged until you approve/);
    expect(textOf(r)).not.toMatch(/earlier/);
  });

  it('a one-plan tier shows no plan field; its description leads', () => {
    const r = checkoutReply({ kind: 'checkout', tier: tier('elite'), plan: { id: PLAN_IDS.eliteMonthly, name: 'Plan 1' }, approveUrl: LINK, reused: true }, catalog, 'Guild');
    expect(r.embed?.fields?.map((f) => f.name)).toEqual(['Price', 'Unlocks']);
    expect(r.embed?.description).toMatch(/^Entry tier\n\n/);
    expect(r.embed?.footer?.text).toMatch(/link from your earlier \/subscribe/);
  });

  it.each<[string, CheckoutOutcome, RegExp[]]>([
    [
      'upgrade',
      { kind: 'changing', tier: tier('titan'), plan: { id: PLAN_IDS.titanMonthly, name: 'Monthly' }, from: tier('elite'), direction: 'upgrade', paidThrough: NOW + 20 * DAY_MS, approveUrl: LINK },
      [/^Upgrade to Titan/, /from Elite to \*\*Titan\*\* at your next billing date/, /Titan takes effect once that payment completes/, /You keep Elite until then/],
    ],
    [
      'downgrade',
      { kind: 'changing', tier: tier('elite'), plan: { id: PLAN_IDS.eliteMonthly, name: 'Plan 1' }, from: tier('titan'), direction: 'downgrade', paidThrough: NOW + 20 * DAY_MS, approveUrl: LINK },
      [/^Change to Elite/, new RegExp(`You keep Titan until ${formatDiscordDate(NOW + 20 * DAY_MS)}, the end of the period you paid for; Elite starts then`)],
    ],
    [
      'downgrade with no paid-through known',
      { kind: 'changing', tier: tier('elite'), plan: { id: PLAN_IDS.eliteMonthly, name: 'Plan 1' }, from: tier('titan'), direction: 'downgrade', paidThrough: null, approveUrl: LINK },
      [/You keep Titan until the end of the period you paid for/],
    ],
    [
      'plan switch',
      { kind: 'changing', tier: tier('titan'), plan: { id: PLAN_IDS.titanYearly, name: 'Yearly' }, from: tier('titan'), direction: 'plan', paidThrough: null, approveUrl: LINK },
      [/^Switch Titan to Yearly/, /moves to the \*\*Yearly\*\* plan/],
    ],
  ])('a tier change (%s) states when it takes effect and links to PayPal', (_name, outcome, patterns) => {
    const r = checkoutReply(outcome, catalog, 'Guild');
    for (const p of patterns) expect(textOf(r).replace(/^\n/, '')).toMatch(p);
    expect(r.link).toEqual({ label: 'Approve on PayPal', url: LINK });
  });

  it('a revised upgrade never promises the higher tier before a payment at its price', () => {
    const r = checkoutReply(
      { kind: 'changing', tier: tier('warlord'), plan: { id: PLAN_IDS.warlordMonthly, name: 'Plan 1' }, from: tier('elite'), direction: 'upgrade', paidThrough: NOW + 20 * DAY_MS, approveUrl: LINK },
      catalog,
      'Guild',
    );
    expect(textOf(r)).not.toMatch(/as soon as PayPal confirms/);
    expect(textOf(r)).toMatch(/PayPal charges the new price from then/);
  });

  it('an instant upgrade: the fee today, until when it pays, the price after, and a pay link naming the fee', () => {
    const startsAt = NOW + 15 * DAY_MS;
    const base = { kind: 'upgrading', tier: tier('warlord'), plan: { id: PLAN_IDS.warlordMonthly, name: 'Plan 1' }, from: tier('elite'), fee: '22.50', currency: 'USD', startsAt, price: '49.99 USD / month', approveUrl: LINK } as const;
    const r = checkoutReply({ ...base, reused: false }, catalog, 'Guild');
    expect(r.embed?.title).toBe('Upgrade to Warlord now');
    expect(r.embed?.description).toContain('pay **22.50 USD today**');
    expect(r.embed?.description).toContain(`until ${formatDiscordDate(startsAt)}`);
    expect(r.embed?.description).toContain('your Elite subscription then ends');
    expect(r.embed?.description).toContain('renews at **49.99 USD / month**');
    expect(r.embed?.fields).toEqual([
      { name: 'Today', value: '22.50 USD', inline: true },
      { name: `From ${formatDiscordDate(startsAt)}`, value: '49.99 USD / month', inline: true },
      { name: 'Unlocks', value: 'The Warlord role and Starter Scripts, Advanced Scripts' },
    ]);
    expect(r.link).toEqual({ label: 'Pay 22.50 USD with PayPal', url: LINK });
    expect(r.embed?.footer?.text).not.toMatch(/earlier/);
    expect(checkoutReply({ ...base, reused: true }, catalog, 'Guild').embed?.footer?.text).toMatch(/link from your earlier \/subscribe/);
  });

  it('a change PayPal applied without asking the buyer has no link', () => {
    const r = checkoutReply(
      { kind: 'changing', tier: tier('titan'), plan: { id: PLAN_IDS.titanMonthly, name: 'Monthly' }, from: tier('elite'), direction: 'upgrade', paidThrough: null, approveUrl: null },
      catalog,
      'Guild',
    );
    expect(r.link).toBeUndefined();
    expect(r.embed?.description).toMatch(/without needing your approval/);
  });

  it.each<[string, CheckoutOutcome, string]>([
    ['renewing', { kind: 'held-subscription', tier: tier('titan'), subscriptionId: 'I-1', renewsAt: NOW, pastDueUntil: null }, `You already have **Titan** in **Guild**: your subscription renews on <t:${NOW / 1000}:D>. Use /status to see it.`],
    ['no renewal known', { kind: 'held-subscription', tier: tier('titan'), subscriptionId: 'I-1', renewsAt: null, pastDueUntil: null }, 'You already have **Titan** in **Guild**: your subscription is active. Use /status to see it.'],
    ['past due', { kind: 'held-subscription', tier: tier('titan'), subscriptionId: 'I-1', renewsAt: NOW, pastDueUntil: NOW + DAY_MS }, `update your payment method on PayPal before <t:${(NOW + DAY_MS) / 1000}:D>`],
    ['refused', { kind: 'refused', message: 'No such plan.' }, 'No such plan.'],
  ])('%s: a plain line, no link', (_name, outcome, expected) => {
    const r = checkoutReply(outcome, catalog, 'Guild');
    expect(r.content).toContain(expected);
    expect(r.link).toBeUndefined();
    expect(r.embed).toBeUndefined();
  });

  it('stays within Discord’s embed limits', () => {
    const r = checkoutReply({ kind: 'checkout', tier: tier('warlord'), plan: { id: PLAN_IDS.warlordMonthly, name: 'Plan 1' }, approveUrl: LINK, reused: true }, catalog, 'G'.repeat(100));
    expect(r.embed?.title.length).toBeLessThanOrEqual(256);
    expect(r.embed?.description.length).toBeLessThanOrEqual(4096);
    for (const f of r.embed?.fields ?? []) expect(f.value.length).toBeLessThanOrEqual(1024);
    expect(r.embed?.footer?.text.length).toBeLessThanOrEqual(2048);
  });
});

import { describe, expect, it } from 'vitest';
import { auditEmbed, memberDm, SEVERITY_COLORS } from '../../src/core/messages.ts';
import { testCatalog } from '../helpers/tiers.ts';

const catalog = testCatalog();

describe('audit embeds', () => {
  it('carries the member mention, subscription and event ids, colour by severity', () => {
    const e = auditEmbed({ id: 7, at: Date.parse('2026-11-23T10:00:00Z'), kind: 'subscription.revoked', severity: 'danger', message: 'refund', memberId: '300000000000000001', subscriptionId: 'I-ABC', eventId: 'WH-1' });
    expect(e.color).toBe(SEVERITY_COLORS.danger);
    expect(e.title).toMatch(/revoked/i);
    expect(e.fields?.map((f) => f.value).join(' ')).toContain('<@300000000000000001>');
    expect(e.fields?.map((f) => f.value)).toEqual(expect.arrayContaining(['I-ABC', 'WH-1']));
    expect(e.timestamp).toBe('2026-11-23T10:00:00.000Z');
  });

  it.each([
    ['roles.manual_edit', 'Manual role edit'],
    ['security.unconfirmed_event', 'Unconfirmed PayPal event (security)'],
    ['member.joined', 'Member rejoined'],
    ['payment.uncounted', 'Payment not counted'],
  ])('titles %s as staff read it', (kind, title) => {
    expect(auditEmbed({ id: 1, at: 0, kind, severity: 'info', message: 'x', memberId: null, subscriptionId: null, eventId: null }).title).toBe(title);
  });

  it('falls back to the kind as title and info colour for unknown entries', () => {
    const e = auditEmbed({ id: 1, at: 0, kind: 'something.new', severity: 'odd', message: 'x', memberId: null, subscriptionId: null, eventId: null });
    expect(e.title).toBe('something.new');
    expect(e.color).toBe(SEVERITY_COLORS.info);
    expect(e.fields).toBeUndefined();
  });
});

describe('member DMs', () => {
  it('welcome names the tier and what it unlocks', () => {
    const tier = catalog.tiers[catalog.tiers.length - 1];
    const dm = memberDm({ kind: 'welcome', tierKey: tier?.key ?? null, until: null, serverName: 'Guild', now: 0 }, catalog);
    expect(dm.title).toContain(tier?.name ?? '');
    for (const s of catalog.file.scripts) expect(dm.description).toContain(s.name);
  });

  it.each(['payment_failed', 'cancelled'] as const)('%s gives the date access ends and what to do', (kind) => {
    const dm = memberDm({ kind, tierKey: catalog.tiers[0]?.key ?? null, until: Date.parse('2026-12-01T00:00:00Z'), serverName: 'Guild', now: Date.parse('2026-11-20T00:00:00Z') }, catalog);
    expect(dm.description).toContain(`<t:${Date.parse('2026-12-01T00:00:00Z') / 1000}:D>`);
    expect(dm.description).toMatch(kind === 'cancelled' ? /\/subscribe/ : /payment method/);
  });

  it.each([
    ['access ended at the cancel (on_cancel: immediate)', Date.parse('2026-11-20T00:00:00Z')],
    ['no paid-through known', null],
  ])('a cancellation whose access already ended says so, not "you keep access until": %s', (_, until) => {
    const dm = memberDm({ kind: 'cancelled', tierKey: catalog.tiers[0]?.key ?? null, until, serverName: 'Guild', now: Date.parse('2026-11-20T00:00:00Z') }, catalog);
    expect(dm.description).toContain('Your access has ended.');
    expect(dm.description).not.toContain('You keep access');
  });
});

import { describe, expect, it } from 'vitest';
import {
  BACKFILL_OVERLAP_MS,
  backfillWindow,
  describeSubscriptionChange,
  findRoleDrift,
  FIRST_BACKFILL_LOOKBACK_MS,
  type Difference,
  type ReconcileReport,
  type SubscriptionFacts,
} from '../../src/core/reconcile.ts';
import { formatTable, renderReportForDiscord, renderReportText } from '../../src/core/reconcile-table.ts';
import { ROLE_IDS, testCatalog } from '../helpers/tiers.ts';

const catalog = testCatalog();
const NOW = Date.parse('2026-05-01T12:00:00Z');
const DAY = 86_400_000;
const OTHER_ROLE = '900000000000000001';

describe('describeSubscriptionChange', () => {
  const active: SubscriptionFacts = { state: 'active', paypalStatus: 'ACTIVE', paidThrough: Date.parse('2026-05-20T00:00:00Z'), memberTier: 'elite' };
  it.each<[string, SubscriptionFacts | null, SubscriptionFacts, string | null]>([
    ['nothing a person cares about changed', active, { ...active }, null],
    ['cancelled at PayPal, access to the paid-through', active, { ...active, state: 'cancelled', paypalStatus: 'CANCELLED' }, 'PayPal ACTIVE → CANCELLED; state active → cancelled'],
    ['a renewal nobody told us about', active, { ...active, paidThrough: Date.parse('2026-06-20T00:00:00Z') }, 'paid through 2026-05-20 → 2026-06-20'],
    ['suspended and the tier gone', active, { ...active, state: 'suspended', paypalStatus: 'SUSPENDED', memberTier: null }, 'PayPal ACTIVE → SUSPENDED; state active → suspended; tier Elite → none'],
    ['not in the store at all', null, active, 'not in the store; PayPal reports ACTIVE (state active, tier Elite)'],
  ])('%s', (_name, before, after, expected) => {
    expect(describeSubscriptionChange(before, after, catalog)).toBe(expected);
  });
});

describe('findRoleDrift', () => {
  it('lists holders without entitlement and entitled members without their role, in id order, and nothing else', () => {
    const held = new Map<string, string[]>([
      ['3', [ROLE_IDS.legendary]], // holds a role, entitled to none
      ['1', []], // entitled, holds nothing
      ['2', [ROLE_IDS.titan]], // right
      ['4', [ROLE_IDS.elite]], // wrong tier
      ['5', []], // neither: in the guild as a candidate only
    ]);
    const entitled = new Map([
      ['1', 'elite'],
      ['2', 'titan'],
      ['4', 'warlord'],
      ['6', 'elite'], // not in the guild: not drift
    ]);
    expect(findRoleDrift(held, entitled, catalog)).toEqual([
      { memberId: '1', add: [ROLE_IDS.elite], remove: [], difference: 'lacks Elite; entitled to Elite' },
      { memberId: '3', add: [], remove: [ROLE_IDS.legendary], difference: 'holds Legendary; entitled to none' },
      { memberId: '4', add: [ROLE_IDS.warlord], remove: [ROLE_IDS.elite], difference: 'holds Elite, lacks Warlord; entitled to Warlord' },
    ]);
  });

  it('never counts a role no tier manages', () => {
    expect(findRoleDrift(new Map([['1', [OTHER_ROLE]]]), new Map(), catalog)).toEqual([]);
  });
});

describe('backfillWindow', () => {
  it.each<[string, number | null, { start: number; end: number }]>([
    ['first run: a month back', null, { start: NOW - FIRST_BACKFILL_LOOKBACK_MS, end: NOW }],
    ['since the newest event seen, with the overlap', NOW - 2 * DAY, { start: NOW - 2 * DAY - BACKFILL_OVERLAP_MS, end: NOW }],
    ['never further back than the first run', NOW - 90 * DAY, { start: NOW - FIRST_BACKFILL_LOOKBACK_MS, end: NOW }],
    ['an event stamped in the future does not start the window after now', NOW + DAY, { start: NOW, end: NOW }],
  ])('%s', (_name, newest, expected) => {
    expect(backfillWindow(newest, NOW)).toEqual(expected);
  });
});

describe('report table', () => {
  const rows: Difference[] = [
    { check: 'paypal', subscriptionId: 'I-AAAAAAAAAAAA', memberId: '300000000000000001', difference: 'state active → cancelled', action: 'applied what PayPal reports' },
    { check: 'discord', subscriptionId: null, memberId: '300000000000000002', difference: 'holds Elite; entitled to none', action: 'role sync queued' },
  ];
  const report = (differences: Difference[], o: Partial<ReconcileReport> = {}): ReconcileReport => ({
    dryRun: false,
    startedAt: NOW,
    finishedAt: NOW + 1234,
    completed: true,
    failure: null,
    checked: { subscriptions: 12, events: 40, members: 9 },
    differences,
    ...o,
  });

  it('pads every column but the last and names the PayPal subscription and the Discord member of each row', () => {
    expect(formatTable(rows)).toEqual([
      'CHECK    PAYPAL SUBSCRIPTION  DISCORD MEMBER      DIFFERENCE                     ACTION',
      'paypal   I-AAAAAAAAAAAA       300000000000000001  state active → cancelled       applied what PayPal reports',
      'discord  -                    300000000000000002  holds Elite; entitled to none  role sync queued',
    ]);
  });

  it('says whether the run completed, and why not', () => {
    expect(renderReportText(report(rows))).toContain('reconcile completed (changes applied) in 1234 ms\n2 difference(s) (paypal 1, events 0, discord 1); checked 12 subscription(s), 40 PayPal event(s), 9 member(s)');
    expect(renderReportText(report([], { dryRun: true }))).toMatch(/completed \(dry run, nothing changed\)[\s\S]*no differences/);
    expect(renderReportText(report([], { completed: false, failure: 'PayPal unreachable' }))).toContain('NOT completed (changes applied): PayPal unreachable');
  });

  it('fits Discord: the first rows in a code block, the rest counted', () => {
    const many = Array.from({ length: 200 }, (_, i) => ({ ...rows[0], memberId: String(300000000000000000n + BigInt(i)) }) as Difference);
    const text = renderReportForDiscord(report(many), 3800);
    expect(text.length).toBeLessThanOrEqual(3800);
    const shown = text.split('\n').filter((l) => l.startsWith('paypal ')).length;
    expect(shown).toBeGreaterThan(10);
    expect(text).toContain(`… ${200 - shown} more: run \`npx concierge reconcile --dry-run\` for all`);
    expect(renderReportForDiscord(report([]))).toMatch(/No differences\.$/);
  });
});

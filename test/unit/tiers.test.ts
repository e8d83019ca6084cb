import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { parseTiers } from '../../src/core/tiers.ts';
import { PLAN_IDS, ROLE_IDS, SCRIPT_KEYS, STAFF_ROLE_ID, TIER_ORDER, TIERS_FIXTURE_PATH, UNKNOWN_PLAN_ID, testCatalog } from '../helpers/tiers.ts';

/** A small valid document; each row below breaks one thing in a fresh copy. */
function validDoc() {
  return {
    tiers: [
      { key: 'elite', name: 'Elite', rank: 1, role_id: '100000000000000001', plans: ['P-ELITE1'] },
      { key: 'legendary', name: 'Legendary', rank: 2, role_id: '100000000000000002', plans: ['P-LEGENDARY1'] },
      { key: 'titan', name: 'Titan', rank: 3, role_id: '100000000000000003', plans: ['P-TITAN1', 'P-TITAN12'] },
    ],
    scripts: [{ key: 'starter', name: 'Starter', min_tier: 'elite' }],
  };
}
type Doc = ReturnType<typeof validDoc>;

function problemsOf(doc: unknown): string[] {
  const r = parseTiers(doc);
  if (r.ok) throw new Error('expected the document to be rejected');
  return r.problems;
}

describe('parseTiers: the shared fixture', () => {
  it('parses, with tiers sorted by rank and every lookup working', () => {
    const result = parseTiers(parseYaml(readFileSync(TIERS_FIXTURE_PATH, 'utf8')));
    expect(result.ok).toBe(true);
    const catalog = testCatalog();
    expect(catalog.tiers.map((t) => t.key)).toEqual(TIER_ORDER);
    expect(catalog.tiers.map((t) => t.rank)).toEqual([1, 2, 3, 4]);
    for (const key of TIER_ORDER) expect(catalog.byKey(key)?.role_id).toBe(ROLE_IDS[key]);
    expect(catalog.byPlan(PLAN_IDS.eliteMonthly)?.key).toBe('elite');
    expect(catalog.byPlan(PLAN_IDS.legendaryMonthly)?.key).toBe('legendary');
    expect(catalog.byPlan(PLAN_IDS.titanMonthly)?.key).toBe('titan');
    expect(catalog.byPlan(PLAN_IDS.titanYearly)?.key).toBe('titan');
    expect(catalog.byPlan(PLAN_IDS.warlordMonthly)?.key).toBe('warlord');
    expect(catalog.byPlan(UNKNOWN_PLAN_ID)).toBeUndefined();
    expect(catalog.byKey('ghost')).toBeUndefined();
    expect([...catalog.managedRoleIds].sort()).toEqual(Object.values(ROLE_IDS).sort());
    expect(catalog.file.scripts.map((s) => [s.key, s.min_tier])).toEqual([
      [SCRIPT_KEYS.starter, 'elite'],
      [SCRIPT_KEYS.advanced, 'legendary'],
    ]);
    expect(catalog.file.staff_role_ids).toEqual([STAFF_ROLE_ID]);
    expect(catalog.policy).toEqual({ grace_days: 3, on_cancel: 'period_end', on_manual_role_edit: 'revert', on_partial_refund: 'keep' });
  });

  it('sorts by rank whatever the order in the file', () => {
    const doc = validDoc();
    doc.tiers.reverse();
    const r = parseTiers(doc);
    expect(r.ok && r.catalog.tiers.map((t) => t.key)).toEqual(['elite', 'legendary', 'titan']);
  });
});

describe('parseTiers: defaults', () => {
  it('applies the policy defaults and empty scripts / staff lists when left out', () => {
    const doc = validDoc() as Partial<Doc>;
    delete doc.scripts;
    const r = parseTiers(doc);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.catalog.policy).toEqual({ grace_days: 3, on_cancel: 'period_end', on_manual_role_edit: 'revert', on_partial_refund: 'keep' });
    expect(r.catalog.file.scripts).toEqual([]);
    expect(r.catalog.file.staff_role_ids).toEqual([]);
  });

  it('fills the policy fields left out of a partial policy', () => {
    const r = parseTiers({ ...validDoc(), policy: { grace_days: 0 } });
    expect(r.ok && r.catalog.policy).toEqual({ grace_days: 0, on_cancel: 'period_end', on_manual_role_edit: 'revert', on_partial_refund: 'keep' });
    const r2 = parseTiers({ ...validDoc(), policy: { on_cancel: 'immediate', on_manual_role_edit: 'report' } });
    expect(r2.ok && r2.catalog.policy).toEqual({ grace_days: 3, on_cancel: 'immediate', on_manual_role_edit: 'report', on_partial_refund: 'keep' });
    const r3 = parseTiers({ ...validDoc(), policy: { on_partial_refund: 'revoke' } });
    expect(r3.ok && r3.catalog.policy).toEqual({ grace_days: 3, on_cancel: 'period_end', on_manual_role_edit: 'revert', on_partial_refund: 'revoke' });
  });
});

describe('parseTiers: problems name what is wrong', () => {
  /** `edit` mutates the document in place, or returns a replacement. */
  const rows: { name: string; edit: (d: Doc) => unknown; mentions: string[] }[] = [
    { name: 'duplicate key', edit: (d) => void (d.tiers[1]!.key = 'elite'), mentions: ['key', '"elite"'] },
    { name: 'duplicate rank (two tiers with one rank)', edit: (d) => void (d.tiers[2]!.rank = 2), mentions: ['rank', '2'] },
    { name: 'duplicate role_id', edit: (d) => void (d.tiers[2]!.role_id = '100000000000000001'), mentions: ['role_id', '"100000000000000001"'] },
    { name: 'one plan selling two tiers', edit: (d) => void (d.tiers[2]!.plans = ['P-TITAN1', 'P-ELITE1']), mentions: ['plan', '"P-ELITE1"'] },
    { name: 'duplicate script key', edit: (d) => void d.scripts.push({ key: 'starter', name: 'Again', min_tier: 'titan' }), mentions: ['scripts', '"starter"'] },
    { name: 'script min_tier naming an unknown tier', edit: (d) => void (d.scripts[0]!.min_tier = 'diamond'), mentions: ['scripts.0.min_tier', '"diamond"'] },
    { name: 'role id too short', edit: (d) => void (d.tiers[0]!.role_id = '12345'), mentions: ['tiers.0.role_id'] },
    { name: 'role id given as a YAML number', edit: (d) => void ((d.tiers[0] as Record<string, unknown>)['role_id'] = 100000000000000001), mentions: ['tiers.0.role_id'] },
    { name: 'bad key characters', edit: (d) => void (d.tiers[1]!.key = 'Legendary Tier'), mentions: ['tiers.1.key', 'a-z'] },
    { name: 'bad plan id', edit: (d) => void (d.tiers[0]!.plans = ['plan-elite']), mentions: ['tiers.0.plans.0'] },
    { name: 'tier with no plans', edit: (d) => void (d.tiers[0]!.plans = []), mentions: ['tiers.0.plans'] },
    { name: 'non-integer rank', edit: (d) => void (d.tiers[0]!.rank = 1.5), mentions: ['tiers.0.rank'] },
    { name: 'empty tiers', edit: (d) => ({ ...d, tiers: [], scripts: [] }), mentions: ['tiers', 'at least one tier'] },
    { name: 'no tiers at all', edit: () => ({ scripts: [] }), mentions: ['tiers'] },
    { name: 'empty file', edit: () => null, mentions: ['(file)'] },
    { name: 'unknown on_cancel policy', edit: (d) => ({ ...d, policy: { on_cancel: 'never' } }), mentions: ['policy.on_cancel'] },
    { name: 'unknown on_partial_refund policy', edit: (d) => ({ ...d, policy: { on_partial_refund: 'sometimes' } }), mentions: ['policy.on_partial_refund'] },
    { name: 'negative grace_days', edit: (d) => ({ ...d, policy: { grace_days: -1 } }), mentions: ['policy.grace_days'] },
    { name: 'bad staff role id', edit: (d) => ({ ...d, staff_role_ids: ['admin'] }), mentions: ['staff_role_ids.0'] },
  ];

  it.each(rows)('$name', ({ edit, mentions }) => {
    const doc = validDoc();
    const edited = edit(doc);
    const problems = problemsOf(edited === undefined ? doc : edited);
    const text = problems.join('\n');
    for (const m of mentions) expect(text).toContain(m);
  });

  it('reports every problem at once, not only the first', () => {
    const d = validDoc();
    d.tiers[0]!.role_id = 'nope';
    d.tiers[2]!.rank = 2;
    d.scripts[0]!.min_tier = 'diamond';
    const text = problemsOf(d).join('\n');
    expect(text).toContain('tiers.0.role_id');
    expect(text).toContain('rank 2');
    expect(text).toContain('"diamond"');
  });
});

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { desiredManagedRoles, diffRoles } from '../../src/core/role-diff.ts';
import { ROLE_IDS, testCatalog } from '../helpers/tiers.ts';

const catalog = testCatalog();
const OTHER = '900000000000000001';

describe('role diff', () => {
  it.each([
    ['no tier, no roles', null, [], [], []],
    ['new elite member', 'elite', [], [ROLE_IDS.elite], []],
    ['already right', 'elite', [ROLE_IDS.elite, OTHER], [], []],
    ['upgrade elite → titan', 'titan', [ROLE_IDS.elite, OTHER], [ROLE_IDS.titan], [ROLE_IDS.elite]],
    ['lapsed', null, [ROLE_IDS.warlord, OTHER], [], [ROLE_IDS.warlord]],
    ['holds several tier roles', 'legendary', [ROLE_IDS.elite, ROLE_IDS.legendary, ROLE_IDS.titan], [], [ROLE_IDS.elite, ROLE_IDS.titan].sort()],
  ] as const)('%s', (_name, tier, held, add, remove) => {
    expect(diffRoles(held, desiredManagedRoles(tier, catalog), catalog.managedRoleIds)).toEqual({ add: [...add], remove: [...remove] });
  });

  it('never touches a role that no tier manages, and applying the diff reaches the desired state', () => {
    const roles = [...Object.values(ROLE_IDS), OTHER, '900000000000000002'];
    fc.assert(
      fc.property(fc.subarray(roles), fc.constantFrom(null, 'elite', 'legendary', 'titan', 'warlord'), (held, tier) => {
        const desired = desiredManagedRoles(tier, catalog);
        const d = diffRoles(held, desired, catalog.managedRoleIds);
        for (const r of [...d.add, ...d.remove]) expect(catalog.managedRoleIds.has(r)).toBe(true);
        const after = new Set(held.filter((r) => !d.remove.includes(r)).concat(d.add));
        for (const r of roles) {
          if (catalog.managedRoleIds.has(r)) expect(after.has(r)).toBe(desired.has(r));
          else expect(after.has(r)).toBe(held.includes(r));
        }
        // Idempotent: a second pass finds nothing to do.
        expect(diffRoles(after, desired, catalog.managedRoleIds)).toEqual({ add: [], remove: [] });
      }),
    );
  });
});

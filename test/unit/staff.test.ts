import { describe, expect, it } from 'vitest';
import { describeStaffAction, isStaff } from '../../src/core/staff.ts';

const STAFF = '200000000000000001';
const OTHER = '200000000000000099';

describe('isStaff', () => {
  it.each([
    ['a staff role', [OTHER, STAFF], false, [STAFF], true],
    ['Administrator without a staff role', [], true, [STAFF], true],
    ['Administrator when the file names no staff role', [], true, [], true],
    ['other roles only', [OTHER], false, [STAFF], false],
    ['no roles', [], false, [STAFF], false],
    ['no staff roles configured and no Administrator', [OTHER], false, [], false],
  ] as const)('%s → %s', (_name, roleIds, administrator, staffRoleIds, expected) => {
    expect(isStaff({ roleIds, administrator }, staffRoleIds)).toBe(expected);
  });
});

describe('describeStaffAction', () => {
  it('names the actor first, the target in the summary, and the reason', () => {
    expect(describeStaffAction({ action: 'revoke', actorId: '1', targetId: '2', summary: 'revoked <@2>', reason: ' chargeback ' })).toEqual({
      kind: 'staff.revoke',
      severity: 'warning',
      message: '<@1> revoked <@2> (reason: chargeback)',
    });
  });
  it('says when no reason was given', () => {
    expect(describeStaffAction({ action: 'grant', actorId: '1', targetId: '2', summary: 'granted <@2> Elite', reason: null }).message).toBe('<@1> granted <@2> Elite (no reason given)');
    expect(describeStaffAction({ action: 'end_access', actorId: '1', targetId: '2', summary: 'x', reason: '  ' })).toMatchObject({ kind: 'staff.end_access', severity: 'danger', message: '<@1> x (no reason given)' });
  });
});

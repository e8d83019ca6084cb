import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from '../helpers/harness.ts';
import { PLAN_IDS, ROLE_IDS, TIERS_FIXTURE_PATH } from '../helpers/tiers.ts';

/**
 * A tiers file edit that moves a tier to another Discord role: entitled
 * members get the new role without waiting for their next change, and the
 * old role (no longer managed) is left alone.
 */

let h: Harness;
let tiersFile: string;

beforeAll(async () => {
  tiersFile = join(mkdtempSync(join(tmpdir(), 'concierge-tiers-')), 'tiers.yaml');
  copyFileSync(TIERS_FIXTURE_PATH, tiersFile);
  h = await startHarness({ env: { TIERS_FILE: tiersFile }, overrides: { tiersPollMs: 50 } });
});
afterAll(async () => {
  await h.close();
});

describe('tiers file reload', () => {
  it('moving a tier to a new role gives entitled members the new role and leaves the old one alone', async () => {
    const member = '610000000000000001';
    h.discord.addMember(member);
    const sub = h.paypal.createSubscription({ planId: PLAN_IDS.eliteMonthly, customId: member });
    h.paypal.approve(sub.id);
    expect((await h.deliver(h.paypal.subscriptionEvent('BILLING.SUBSCRIPTION.ACTIVATED', sub.id))).status).toBe(200);
    await h.waitFor(() => h.discord.member(member)?.includes(ROLE_IDS.elite));

    const newRole = h.discord.addRole({ name: 'Elite (new)', position: 1 });
    writeFileSync(tiersFile, readFileSync(tiersFile, 'utf8').replace(`role_id: "${ROLE_IDS.elite}"`, `role_id: "${newRole}"`));
    await h.discord.waitForCalls('PUT', new RegExp(`/members/${member}/roles/${newRole}$`), 1, 10_000);
    await h.settle();
    expect(h.discord.member(member)?.sort()).toEqual([ROLE_IDS.elite, newRole].sort());
    expect(h.discord.callsTo('DELETE', new RegExp(`/roles/${ROLE_IDS.elite}$`))).toBe(0);
  });
});

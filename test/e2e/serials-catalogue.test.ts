import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from '../helpers/harness.ts';
import { TIERS_FIXTURE_PATH } from '../helpers/tiers.ts';

/**
 * A tiers file edit that adds a script to the catalogue: members whose tier
 * unlocks it get a serial without waiting for their next change, seen in
 * /scripts through the real discord.js client.
 */

let h: Harness;
let dir: string;
let tiersFile: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'concierge-tiers-'));
  tiersFile = join(dir, 'tiers.yaml');
  copyFileSync(TIERS_FIXTURE_PATH, tiersFile);
  h = await startHarness({ env: { TIERS_FILE: tiersFile }, overrides: { tiersPollMs: 50 } });
});
afterAll(async () => {
  await h.close();
  rmSync(dir, { recursive: true, force: true });
});

async function scripts(memberId: string): Promise<string> {
  const reply = await h.discord.interact({ type: 'command', name: 'scripts', userId: memberId }).response();
  return reply.data?.embeds?.[0]?.description ?? '';
}

describe('a script added to the catalogue', () => {
  it('gets a serial for every member whose tier unlocks it, and none for the others', async () => {
    const titan = '620000000000000001';
    const elite = '620000000000000002';
    for (const id of [titan, elite]) h.discord.addMember(id);
    h.grantTier(titan, 'titan', null);
    h.grantTier(elite, 'elite', null);

    const added = ['  - key: premium-pack', '    name: Premium Pack', '    min_tier: titan'].join('\n');
    writeFileSync(tiersFile, readFileSync(tiersFile, 'utf8').replace('policy:', `${added}\npolicy:`));

    // The watcher polls every 50 ms; /scripts is asked until the serial shows (or the deadline passes).
    let text = '';
    for (const deadline = Date.now() + 10_000; Date.now() < deadline && !/• Premium Pack — serial `CNC-/.test(text); ) {
      await new Promise((r) => setTimeout(r, 100));
      text = await scripts(titan);
    }
    expect(text).toMatch(/• Premium Pack — serial `CNC-/);
    expect(text).toMatch(/• Starter Scripts — serial `CNC-/);
    const other = await scripts(elite);
    expect(other).toContain('• Premium Pack — needs Titan');
    expect(other).not.toMatch(/Premium Pack — serial/);
  });
});

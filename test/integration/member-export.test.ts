import { createWriteStream, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeMembersCsv } from '../../src/app/export-members.ts';
import { writeExportFile } from '../../src/discord/commands/admin-export.ts';
import { openStore, type Store } from '../../src/store/db.ts';
import { members, subscriptions } from '../../src/store/schema.ts';
import { openReader } from '../../src/store/reader.ts';
import { parseCsv } from '../helpers/csv.ts';

/**
 * The member export on real SQLite: which subscription each row names, the
 * cells a spreadsheet would run as formulas neutralised, and the Discord
 * attachment gzipped when it is over the limit (or refused when even that is).
 */

const T = Date.parse('2026-04-01T00:00:00Z');
const DAY = 86_400_000;
let dir: string;
let store: Store;

function member(id: string, tier: string | null, source: string | null): void {
  store.db.insert(members).values({ discordUserId: id, entitledTier: tier, entitledSource: source, createdAt: T, updatedAt: T }).run();
}
function subscription(id: string, memberId: string, state: string, updatedAt: number): void {
  store.db
    .insert(subscriptions)
    .values({ id, memberId, planId: 'P-X', state, paypalStatus: state.toUpperCase(), paidThrough: T + 30 * DAY, lastPaymentAt: T, createdAt: T, updatedAt })
    .run();
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'concierge-export-'));
  store = openStore(join(dir, 'concierge.db'));
  member('100', 'titan', 'subscription:I-PAID');
  subscription('I-OLDER', '100', 'cancelled', T - DAY);
  subscription('I-PAID', '100', 'active', T - 2 * DAY);
  // A grant now; the member's last subscription is still worth showing.
  member('200', 'elite', 'grant:7');
  subscription('I-LAPSED', '200', 'expired', T);
  member('300', null, null);
  // Cells a spreadsheet would run, wherever they come from.
  for (const [i, text] of ['=1+1', '+1', '-1', '@SUM(A1)', '\tx', '\rx'].entries()) {
    member(`9${i}`, null, null);
    subscription(text, `9${i}`, 'expired', T);
  }
});
afterAll(() => {
  store.close();
  rmSync(dir, { recursive: true, force: true });
});

async function exportRows(): Promise<string[][]> {
  const out = join(dir, `export-${Math.random()}.csv`);
  const reader = openReader(join(dir, 'concierge.db'));
  try {
    const { rows } = await writeMembersCsv(reader, createWriteStream(out));
    const parsed = parseCsv(readFileSync(out, 'utf8'));
    expect(parsed).toHaveLength(rows + 1);
    return parsed;
  } finally {
    reader.close();
  }
}

describe('member export', () => {
  it('one row per member in id order, naming the subscription the entitlement comes from, else the latest', async () => {
    const rows = await exportRows();
    const iso = (t: number) => new Date(t).toISOString();
    expect(rows.slice(0, 4)).toEqual([
      ['discord_id', 'tier', 'source', 'state', 'paid_through', 'paypal_subscription_id', 'last_payment'],
      ['100', 'titan', 'subscription', 'active', iso(T + 30 * DAY), 'I-PAID', iso(T)],
      ['200', 'elite', 'grant', 'granted', iso(T + 30 * DAY), 'I-LAPSED', iso(T)],
      ['300', '', '', 'none', '', '', ''],
    ]);
  });

  it("prefixes ' to cells starting with = + - @ tab or CR", async () => {
    const ids = (await exportRows()).slice(4).map((r) => r[5]);
    expect(ids).toEqual(["'=1+1", "'+1", "'-1", "'@SUM(A1)", "'\tx", "'\rx"]);
  });

  it('for Discord: plain under the limit, gzipped over it, refused when even that does not fit; the temp directory goes away', async () => {
    const plain = await writeExportFile(store, T, 1_000_000);
    expect(plain).toMatchObject({ name: 'members-2026-04-01.csv', gzipped: false, rows: 9 });
    const csv = readFileSync(plain?.path ?? '');
    await plain?.dispose();
    expect(existsSync(dirname(plain?.path ?? ''))).toBe(false);

    const gz = await writeExportFile(store, T, csv.length - 1);
    expect(gz).toMatchObject({ name: 'members-2026-04-01.csv.gz', gzipped: true });
    expect(gunzipSync(readFileSync(gz?.path ?? ''))).toEqual(csv);
    await gz?.dispose();

    expect(await writeExportFile(store, T, 10)).toBeNull();
  });
});

import { Readable, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { stringify } from 'csv-stringify';
import type { Store } from '../store/db.ts';
import { iterateMemberExportRows, type MemberExportRow } from '../store/member-export-repo.ts';

/**
 * The member export (`/admin export`, `npx concierge export`): one CSV row per
 * member, streamed from a database iterator through csv-stringify into `out`
 * with backpressure, so 100,000 members never sit in memory at once.
 *
 * Cells starting with = + - @ tab or CR are prefixed with ' (csv-stringify's
 * escape_formulas, OWASP's CSV injection advice): a spreadsheet would
 * otherwise run them as formulas. Nothing in a row comes from a member's own
 * text today, but PayPal's ids and whatever the store holds pass through here.
 */

export const EXPORT_COLUMNS = ['discord_id', 'tier', 'source', 'state', 'paid_through', 'paypal_subscription_id', 'last_payment'] as const;

type ExportRecord = Record<(typeof EXPORT_COLUMNS)[number], string>;

const iso = (t: number | null) => (t === null ? '' : new Date(t).toISOString());

/** source: 'subscription' or 'grant' (or empty: no access now); state: the subscription's, 'granted' for a grant, 'none' without either. */
export function toExportRecord(r: MemberExportRow): ExportRecord {
  const source = r.source === null ? '' : (r.source.split(':')[0] ?? '');
  return {
    discord_id: r.memberId,
    tier: r.tier ?? '',
    source,
    state: source === 'grant' ? 'granted' : (r.state ?? 'none'),
    paid_through: iso(r.paidThrough),
    paypal_subscription_id: r.subscriptionId ?? '',
    last_payment: iso(r.lastPaymentAt),
  };
}

/** Writes the CSV (header first) to `out` and ends it; resolves with the number of member rows. */
export async function writeMembersCsv(source: Pick<Store, 'db' | 'sqlite'>, out: Writable): Promise<{ rows: number }> {
  let rows = 0;
  function* records(): Generator<ExportRecord> {
    for (const r of iterateMemberExportRows(source)) {
      rows += 1;
      yield toExportRecord(r);
    }
  }
  await pipeline(Readable.from(records()), stringify({ header: true, columns: [...EXPORT_COLUMNS], escape_formulas: true }), out);
  return { rows };
}

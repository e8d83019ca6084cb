import type { MemberFacts } from '../core/member-summary.ts';
import type { MemberSerial, SerialStatus } from '../core/serial.ts';
import type { Store } from '../store/db.ts';
import { listMemberGrants, type GrantRow } from '../store/grant-repo.ts';
import { latestPayment, type PaymentRow } from '../store/payment-repo.ts';
import { listMemberSerialRows, type SerialRow } from '../store/serial-repo.ts';
import type { SerialVault } from '../serials/serial-vault.ts';
import { listMemberSubscriptions, type SubscriptionRow } from '../store/subscription-repo.ts';

/** Everything /status, /scripts and /cancel read about one member. */
export interface MemberOverview extends MemberFacts {
  subscriptions: SubscriptionRow[];
  grants: GrantRow[];
  lastPayment: PaymentRow | null;
  /** Every serial the member holds, active or suspended, opened for showing to them. */
  serials: MemberSerial[];
}

/**
 * Reads a member's subscriptions, grants, latest payment and serials: four
 * indexed lookups (subscriptions, grants and serials by member_id, payments
 * by subscription_id), no PayPal call, so the command can answer without a
 * defer. A deferred (read) transaction gives them one snapshot without
 * taking the write lock that store.transaction() takes. Serials are opened
 * with the serial key after the transaction (a few AES-GCM decryptions).
 */
export function readMemberOverview(deps: { store: Pick<Store, 'db'>; vault: SerialVault }, memberId: string): MemberOverview {
  const { serialRows, ...rest } = deps.store.db.transaction(
    (tx) => {
      const subscriptions = listMemberSubscriptions(tx, memberId);
      const grants = listMemberGrants(tx, memberId);
      const lastPayment = latestPayment(tx, subscriptions.map((s) => s.id)) ?? null;
      return { subscriptions, grants, lastPayment, serialRows: listMemberSerialRows(tx, memberId) };
    },
    { behavior: 'deferred' },
  );
  return { ...rest, serials: openSerials(deps.vault, serialRows) };
}

/** Opens serial rows with the serial key; the marketplace sync sends them too (app/sync-marketplace.ts). */
export function openSerials(vault: SerialVault, rows: readonly SerialRow[]): MemberSerial[] {
  return rows.map((r) => ({ scriptKey: r.scriptKey, serial: vault.open(r.sealed, r), status: r.status as SerialStatus }));
}

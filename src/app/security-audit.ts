import type { SecurityAudit } from '../ingest/security-audit.ts';
import type { Store } from '../store/db.ts';
import { recordAudit } from './audit.ts';

/**
 * Records rejected webhooks in the audit trail, at most one entry per reason
 * per window: a flood of forged requests must not turn into a flood of disk
 * writes and channel posts. The suppressed count goes into the next entry;
 * every rejection is still logged and counted in metrics.
 */
export function createSecurityAudit(o: { store: Store; clock: () => number; windowMs?: number }): SecurityAudit {
  const windowMs = o.windowMs ?? 60_000;
  const last = new Map<string, { at: number; suppressed: number }>();
  return {
    rejected(reason, detail, meta) {
      const now = o.clock();
      const seen = last.get(reason);
      if (seen !== undefined && now - seen.at < windowMs) {
        seen.suppressed += 1;
        return;
      }
      const suppressed = seen?.suppressed ?? 0;
      last.set(reason, { at: now, suppressed: 0 });
      try {
        o.store.transaction((tx) =>
          recordAudit(
            tx,
            {
              kind: 'webhook.rejected',
              severity: 'danger',
              message: `Rejected a PayPal webhook from ${meta.ip}: ${reason} (${detail})${suppressed > 0 ? `; ${suppressed} more like it since the last entry` : ''}`,
              data: { reason, detail, ip: meta.ip, transmissionId: meta.transmissionId, suppressed },
            },
            now,
          ),
        );
      } catch {
        // The rejection was logged by the route; failing to audit it must not turn a 400 into a 500.
      }
    },
  };
}

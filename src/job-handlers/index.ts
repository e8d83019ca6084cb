import type { BackupSettings } from '../app/backup.ts';
import type { AuditChannel } from '../app/post-audit-entry.ts';
import type { ProcessDeps } from '../app/process-event.ts';
import type { GuildRoleReader, WebhookEventSource } from '../app/reconcile.ts';
import type { RunPacing } from '../app/reconcile-run.ts';
import type { ReplaceDeps } from '../app/replace-subscription.ts';
import type { RetentionPolicy } from '../app/retention.ts';
import type { MessageGateway } from '../app/send-member-dm.ts';
import type { MarketplaceGateway } from '../app/sync-marketplace.ts';
import type { RoleGateway } from '../app/sync-member-roles.ts';
import type { JobHandler } from '../jobs/handler.ts';
import { auditHandler } from './audit.ts';
import { backupHandler } from './backup.ts';
import { cancelReplacedHandler } from './cancel-replaced.ts';
import { dmHandler } from './dm.ts';
import { expiryWarningsHandler } from './expiry-warnings.ts';
import { lapseCheckHandler } from './lapse-check.ts';
import { marketplaceMemberHandler } from './marketplace-member.ts';
import { marketplacePublisherHandler } from './marketplace-publisher.ts';
import { processWebhookHandler } from './process-webhook.ts';
import { reconcileHandler } from './reconcile.ts';
import { refreshSubscriptionHandler } from './refresh-subscription.ts';
import { retentionHandler } from './retention.ts';
import { roleSyncHandler } from './role-sync.ts';

/** What the handlers need: the store and tiers, PayPal, and Discord and the marketplace through the ports app/ declares. */
export interface HandlerDeps extends ProcessDeps {
  paypal: ProcessDeps['paypal'] & ReplaceDeps['paypal'] & WebhookEventSource;
  roles: RoleGateway;
  messenger: MessageGateway & AuditChannel;
  /** null or absent: no marketplace configured (its jobs, queued by an earlier run, finish without a call). */
  marketplace?: MarketplaceGateway | null;
  /** The guild's member list, for scheduled reconciliation's Discord check. */
  guild: GuildRoleReader;
  /** The reconciliation schedule (null: off) and its PayPal pacing. */
  reconcile: RunPacing & { intervalMs: number | null };
  /** The scheduled jobs' settings: BACKUP_DIR and BACKUP_RETENTION, and what the store keeps. */
  backup: BackupSettings;
  retention: RetentionPolicy;
}

/**
 * One handler per kind of jobs/definitions.ts JOB_DEFINITIONS (the runner
 * refuses to start otherwise). Each is an entry point: it takes the parsed
 * payload to one use case in app/.
 */
export function createHandlers(deps: HandlerDeps): JobHandler[] {
  return [
    processWebhookHandler(deps),
    lapseCheckHandler(deps),
    roleSyncHandler(deps),
    auditHandler(deps),
    dmHandler(deps),
    refreshSubscriptionHandler(deps),
    cancelReplacedHandler(deps),
    marketplaceMemberHandler({ store: deps.store, marketplace: deps.marketplace ?? null, vault: deps.effects.vault }),
    marketplacePublisherHandler({ store: deps.store, marketplace: deps.marketplace ?? null, vault: deps.effects.vault }),
    reconcileHandler({ ...deps, ...deps.reconcile }),
    expiryWarningsHandler(deps),
    retentionHandler(deps),
    backupHandler(deps),
  ];
}

import type { ProcessDeps } from '../../app/process-event.ts';
import type { DiscordMessenger } from '../../discord/messenger.ts';
import type { MemberRoles } from '../../discord/roles.ts';
import type { JobHandler } from '../handler.ts';
import { auditHandler } from './audit.ts';
import { cancelReplacedHandler } from './cancel-replaced.ts';
import { dmHandler } from './dm.ts';
import { lapseCheckHandler } from './lapse-check.ts';
import { processWebhookHandler } from './process-webhook.ts';
import { refreshSubscriptionHandler } from './refresh-subscription.ts';
import { roleSyncHandler } from './role-sync.ts';

export interface HandlerDeps extends ProcessDeps {
  paypal: ProcessDeps['paypal'] & { cancelSubscription(id: string, reason: string): Promise<void> };
  roles: MemberRoles;
  messenger: DiscordMessenger;
}

/** One handler per kind of jobs/definitions.ts JOB_DEFINITIONS (the runner refuses to start otherwise). */
export function createHandlers(deps: HandlerDeps): JobHandler[] {
  return [
    processWebhookHandler(deps),
    lapseCheckHandler(deps),
    roleSyncHandler(deps),
    auditHandler(deps),
    dmHandler({ ...deps, sender: deps.messenger }),
    refreshSubscriptionHandler(deps),
    cancelReplacedHandler(deps),
  ];
}

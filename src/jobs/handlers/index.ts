import type { ProcessDeps } from '../../app/process-event.ts';
import { REFRESH_KIND } from '../../app/refresh-subscription.ts';
import { CANCEL_REPLACED_KIND } from '../../app/replace-subscription.ts';
import type { DiscordMessenger } from '../../discord/messenger.ts';
import type { MemberRoles } from '../../discord/roles.ts';
import type { Handlers } from '../handler.ts';
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

/** Every job kind Concierge runs: the explicit list the runner dispatches on. */
export function createHandlers(deps: HandlerDeps): Handlers {
  return {
    'process-webhook': processWebhookHandler(deps),
    'lapse-check': lapseCheckHandler(deps),
    'role-sync': roleSyncHandler(deps),
    audit: auditHandler(deps),
    dm: dmHandler({ ...deps, sender: deps.messenger }),
    [REFRESH_KIND]: refreshSubscriptionHandler(deps),
    [CANCEL_REPLACED_KIND]: cancelReplacedHandler(deps),
  };
}

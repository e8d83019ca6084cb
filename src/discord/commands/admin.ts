import { staffCommand } from './admin-guard.ts';
import { runExtend, runGrant, runLookup } from './admin-access.ts';
import { runRevoke } from './admin-revoke.ts';
import { MemberFacingError, type CommandDeps, type SlashCommand } from './types.ts';

/** Answered from the store alone (revoke's PayPal part waits for its button), so without a "thinking…" message. */
const STORE_ONLY = new Set(['lookup', 'grant', 'revoke', 'extend']);

/**
 * `/admin`: one handler per subcommand, behind the staff check. Lookup,
 * grant, revoke and extend answer from the store at once; resync, export and
 * reconcile defer and edit their reply as they go. No cooldown: a staff
 * member runs several subcommands in a row, and a repeated grant only
 * records a second grant.
 */
export function adminCommand(deps: CommandDeps): SlashCommand {
  return staffCommand('admin', deps.tiers, STORE_ONLY, async (sub, i, inv) => {
    switch (sub) {
      case 'lookup':
        return runLookup(deps, i, inv);
      case 'grant':
        return runGrant(deps, i, inv);
      case 'revoke':
        return runRevoke(deps, i, inv);
      case 'extend':
        return runExtend(deps, i, inv);
      case 'resync':
      case 'export':
      case 'reconcile':
        // Long work: it edits the deferred reply itself (progress, then the result); the router's final edit changes nothing.
        if (deps.maintenance === undefined) throw new MemberFacingError(`\`/admin ${sub}\` is not available in this process.`);
        await deps.maintenance.handle(sub, i, { routerDefers: true });
        return {};
      default:
        throw new MemberFacingError(`\`/admin ${sub}\` is not available in this version.`);
    }
  });
}

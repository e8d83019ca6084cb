import { adminCommand } from './admin.ts';
import { adminRevokeButton } from './admin-revoke.ts';
import { cancelButton, cancelCommand } from './cancel.ts';
import { publisherCommand } from './publisher.ts';
import { createIconProbe } from './publisher-icon.ts';
import { scriptsCommand } from './scripts.ts';
import { statusCommand } from './status.ts';
import { subscribeCommand } from './subscribe.ts';
import type { ButtonHandler, CommandDeps, SlashCommand } from './types.ts';

interface CommandSet {
  commands: SlashCommand[];
  buttons: ButtonHandler[];
}

/** The explicit list of member commands and their buttons (no filesystem autoload). */
export function createMemberCommands(deps: CommandDeps): CommandSet {
  return {
    commands: [subscribeCommand(deps), statusCommand(deps), scriptsCommand(deps), cancelCommand(deps)],
    buttons: [cancelButton(deps)],
  };
}

/** `/admin` and `/publisher` and their buttons; each checks the caller is staff. */
export function createStaffCommands(deps: CommandDeps): CommandSet {
  return {
    commands: [adminCommand(deps), publisherCommand({ ...deps, probe: createIconProbe() })],
    buttons: [adminRevokeButton(deps)],
  };
}

/** Every command the interaction router serves: the ones guildCommandDefinitions registers. */
export function createCommands(deps: CommandDeps): CommandSet {
  const member = createMemberCommands(deps);
  const staff = createStaffCommands(deps);
  return { commands: [...member.commands, ...staff.commands], buttons: [...member.buttons, ...staff.buttons] };
}

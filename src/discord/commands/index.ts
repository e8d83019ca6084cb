import { cancelButton, cancelCommand } from './cancel.ts';
import { scriptsCommand } from './scripts.ts';
import { statusCommand } from './status.ts';
import { subscribeCommand } from './subscribe.ts';
import type { ButtonHandler, CommandDeps, SlashCommand } from './types.ts';

/** The explicit list of member commands and their buttons (no filesystem autoload). */
export function createMemberCommands(deps: CommandDeps): { commands: SlashCommand[]; buttons: ButtonHandler[] } {
  return {
    commands: [subscribeCommand(deps), statusCommand(deps), scriptsCommand(deps), cancelCommand(deps)],
    buttons: [cancelButton(deps)],
  };
}

import type { CommandDeps, SlashCommand } from './types.ts';

/** /cancel: placeholder until built. */
export function cancelCommand(_deps: CommandDeps): SlashCommand {
  return { name: 'cancel', defer: false, run: async () => ({ content: 'Not available yet.' }) };
}

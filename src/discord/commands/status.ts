import type { CommandDeps, SlashCommand } from './types.ts';

/** /status: placeholder until built. */
export function statusCommand(_deps: CommandDeps): SlashCommand {
  return { name: 'status', defer: false, run: async () => ({ content: 'Not available yet.' }) };
}

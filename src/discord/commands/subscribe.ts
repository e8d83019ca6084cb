import type { CommandDeps, SlashCommand } from './types.ts';

/** /subscribe: placeholder until built. */
export function subscribeCommand(_deps: CommandDeps): SlashCommand {
  return { name: 'subscribe', defer: false, run: async () => ({ content: 'Not available yet.' }) };
}

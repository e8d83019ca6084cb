import type { CommandDeps, SlashCommand } from './types.ts';

/** /scripts: placeholder until built. */
export function scriptsCommand(_deps: CommandDeps): SlashCommand {
  return { name: 'scripts', defer: false, run: async () => ({ content: 'Not available yet.' }) };
}

import type { ChatInputCommandInteraction, InteractionEditReplyOptions } from 'discord.js';
import type { Logger } from '../../log.ts';

/**
 * A deferred reply edited as long work goes on: at most one edit every
 * `everyMs` (2 s: Discord's webhook route allows 5 edits per 2 s, and a
 * staff member cannot read faster), never two at once, and a final edit
 * that waits for the one in flight. A failed progress edit is logged and
 * skipped: the final one still says how it ended.
 */
export interface ProgressReply {
  /** Shows `text` unless an edit was made less than `everyMs` ago or is in flight. */
  update(text: string): void;
  /** The last word: waits for an edit in flight, then edits. */
  finish(reply: InteractionEditReplyOptions): Promise<void>;
}

export function createProgressReply(i: ChatInputCommandInteraction, log: Logger, everyMs = 2_000): ProgressReply {
  let lastAt = 0;
  let inFlight: Promise<void> | null = null;
  return {
    update(text) {
      if (inFlight !== null || Date.now() - lastAt < everyMs) return;
      lastAt = Date.now();
      inFlight = i
        .editReply({ content: text })
        .then(
          () => undefined,
          (err: unknown) => log.warn({ err }, 'progress edit failed'),
        )
        .finally(() => {
          inFlight = null;
        });
    },
    async finish(reply) {
      await inFlight;
      await i.editReply(reply);
    },
  };
}

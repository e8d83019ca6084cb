import { RESTEvents } from 'discord.js';
import type { DiscordClient } from './client.ts';

/**
 * Counts Discord's 429 answers to the bot's REST calls from now until
 * stopped (implements app/'s WatchRateLimits, app/resync.ts), for the bulk
 * resync's progress message. discord.js waits a 429 out by itself and reports
 * it only in its debug log, so the count comes from its per-response event.
 * That event hands each listener a clone of the response, so it is listened
 * to only while someone watches.
 */
export function watchRateLimits(discord: DiscordClient): { count(): number; stop(): void } {
  let n = 0;
  const onResponse = (_request: unknown, response: { status: number }) => {
    if (response.status === 429) n += 1;
  };
  discord.client.rest.on(RESTEvents.Response, onResponse);
  return { count: () => n, stop: () => void discord.client.rest.off(RESTEvents.Response, onResponse) };
}

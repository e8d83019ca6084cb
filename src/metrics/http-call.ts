/**
 * One HTTP exchange with Discord or PayPal, as their adapters report it to
 * monitoring. Lives below both adapters (neither imports the other) and
 * imports nothing, so an adapter depends on a type, not on prom-client.
 */
export interface HttpCall {
  method: string;
  /** The URL path as sent (ids and all); monitoring templates it (templateRoute). */
  path: string;
  /** The HTTP status, or null when no response came (timeout, refused connection, TLS failure). */
  status: number | null;
  seconds: number;
}

export type HttpCallObserver = (call: HttpCall) => void;

/** A segment kept as is: a lowercase word of the API's vocabulary (`guilds`, `v10`, `oauth2`, `@original`), never an id or a token. */
const WORD = /^@?[a-z][a-z0-9_-]{0,31}$/;

/**
 * `/v10/guilds/1234/members/5678/roles/9012?reason=x` → `/guilds/:id/members/:id/roles/:id`:
 * every segment that is not an API word becomes `:id`, so the route label has
 * one value per endpoint however many members, subscriptions or tokens pass
 * through it. Discord snowflakes are digits, PayPal ids are upper case
 * (`I-…`, `P-…`, `WH-…`), interaction tokens mixed case. With `afterVersion`
 * (Discord: DISCORD_API_URL's own path and the API version are settings, not
 * routes) everything up to the first `/v<n>` segment is dropped.
 */
export function templateRoute(path: string, o: { afterVersion: boolean } = { afterVersion: false }): string {
  const query = path.indexOf('?');
  let segments = (query === -1 ? path : path.slice(0, query)).split('/').filter((s) => s !== '');
  const version = o.afterVersion ? segments.findIndex((s) => /^v\d+$/.test(s)) : -1;
  if (version !== -1) segments = segments.slice(version + 1);
  return `/${segments.map((s) => (WORD.test(s) ? s : ':id')).join('/')}`;
}

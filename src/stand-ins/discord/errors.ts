/**
 * Discord's JSON error bodies: `{ code, message }`, plus `errors` for 50035.
 * Codes and messages as Discord sends them (JSON error codes table of the API docs).
 */

export class ApiFailure extends Error {
  constructor(
    readonly status: number,
    readonly code: number,
    message: string,
    readonly errors?: Record<string, unknown>,
  ) {
    super(message);
  }

  body(): Record<string, unknown> {
    return { message: this.message, code: this.code, ...(this.errors ? { errors: this.errors } : {}) };
  }
}

const UNKNOWN = {
  application: [10002, 'Unknown Application'],
  channel: [10003, 'Unknown Channel'],
  guild: [10004, 'Unknown Guild'],
  member: [10007, 'Unknown Member'],
  message: [10008, 'Unknown Message'],
  role: [10011, 'Unknown Role'],
  user: [10013, 'Unknown User'],
  webhook: [10015, 'Unknown Webhook'],
  command: [10063, 'Unknown application command'],
  interaction: [10062, 'Unknown interaction'],
} as const;

export function unknown(what: keyof typeof UNKNOWN): ApiFailure {
  const [code, message] = UNKNOWN[what];
  return new ApiFailure(404, code, message);
}

export const missingAccess = (): ApiFailure => new ApiFailure(403, 50001, 'Missing Access');
export const missingPermissions = (): ApiFailure => new ApiFailure(403, 50013, 'Missing Permissions');
export const cannotDm = (): ApiFailure => new ApiFailure(403, 50007, 'Cannot send messages to this user');
export const alreadyAcknowledged = (): ApiFailure => new ApiFailure(400, 40060, 'Interaction has already been acknowledged.');
export const emptyMessage = (): ApiFailure => new ApiFailure(400, 50006, 'Cannot send an empty message');
export const unauthorized = (): ApiFailure => new ApiFailure(401, 0, '401: Unauthorized');

/** One `_errors` entry at a path, e.g. `['embeds', 0, 'title']`. */
export interface FieldError {
  path: readonly (string | number)[];
  code: string;
  message: string;
}

/** 400 Invalid Form Body with Discord's nested `errors` object. */
export function invalidFormBody(fieldErrors: readonly FieldError[]): ApiFailure {
  const errors: Record<string, unknown> = {};
  for (const e of fieldErrors) {
    let node = errors;
    for (const key of e.path) {
      const k = String(key);
      node[k] ??= {};
      node = node[k] as Record<string, unknown>;
    }
    const list = (node['_errors'] ??= []) as { code: string; message: string }[];
    list.push({ code: e.code, message: e.message });
  }
  return new ApiFailure(400, 50035, 'Invalid Form Body', errors);
}

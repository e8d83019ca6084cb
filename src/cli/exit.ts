import { CommanderError } from 'commander';
import { ConfigError } from '../config.ts';
import { ConciergeError } from '../errors.ts';
import { DatabaseFileError } from '../store/open-guard.ts';
import { TiersFileError } from '../tiers.ts';

/**
 * Exit codes scripts can rely on: 0 done, 1 the command ran and failed (or
 * found problems), 2 it was called wrongly (unknown command or option, a
 * missing or malformed argument). `--help` exits 0.
 */
export const EXIT = { ok: 0, failure: 1, usage: 2 } as const;

/** A wrong call the command itself detects (e.g. neither an id nor --all-dead). */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** Commander's own exits: help and version keep their 0, every parse error is a usage error. */
export function exitCodeOfCommander(err: CommanderError): number {
  return err.exitCode === 0 ? EXIT.ok : EXIT.usage;
}

/**
 * Wraps a command's action: the failures Concierge explains (configuration,
 * tiers file, an adapter's or a use case's error) are printed as their
 * message and exit 1; a usage error exits 2. Anything else is a bug and
 * keeps its stack trace.
 */
export function explainFailures<A extends unknown[]>(fn: (...args: A) => Promise<void> | void): (...args: A) => Promise<void> {
  return async (...args) => {
    try {
      await fn(...args);
    } catch (err) {
      if (err instanceof UsageError) {
        process.stderr.write(`error: ${err.message} (see --help)\n`);
        process.exitCode = EXIT.usage;
        return;
      }
      if (!(err instanceof ConfigError || err instanceof TiersFileError || err instanceof ConciergeError || err instanceof DatabaseFileError)) throw err;
      process.stderr.write(`${err.message}\n`);
      process.exitCode = EXIT.failure;
    }
  };
}

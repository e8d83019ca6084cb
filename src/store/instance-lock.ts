/**
 * Whether a Concierge service holds the database at `databasePath`, for the
 * CLI commands that must not run under a live service (`restore`) or that
 * behave differently when one runs (`replay` waits for the outcome).
 *
 * TODO(issue 15 item 7, at merge): answer from the service's instance lock
 * (the exclusive side lock it holds for its whole life, see the ops branch's
 * `acquireInstanceLock` or similar in src/store/): try to take that lock and
 * release it at once; held → true. Until then this stub says false, so
 * `restore` does not yet refuse while the service runs; the rest of the
 * restore is written and tested against this function.
 */
export function isServiceRunning(databasePath: string): boolean {
  void databasePath;
  return false;
}

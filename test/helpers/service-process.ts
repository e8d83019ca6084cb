import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';

/** The real service as `npm start` runs it, in a child process: for tests of start-up, signals and crashes. */

const ROOT = new URL('../../', import.meta.url).pathname;

export interface ServiceProcess {
  child: ChildProcess;
  /** Everything it wrote to stdout and stderr so far. */
  output(): string;
  /** Resolves with the exit code (null when a signal ended it). */
  exited: Promise<number | null>;
}

/**
 * Runs src/main.ts (from source through tsx; `npm start` runs the same code compiled) with only the given
 * environment (no .env unless `cwd` has one), under a shell's usual umask 022 (group and others may read new
 * files) unless Concierge sets its own.
 */
export function startServiceProcess(env: NodeJS.ProcessEnv, cwd: string, user?: { uid: number; gid: number }): ServiceProcess {
  const child = spawn('/bin/sh', ['-c', 'umask 022 && exec "$0" "$@"', process.execPath, '--import', import.meta.resolve('tsx'), join(ROOT, 'src/main.ts')], {
    cwd,
    // Another user (tests run as root, who reads any file): for a file the service's user may not read.
    ...(user === undefined ? {} : { uid: user.uid, gid: user.gid }),
    env: { PATH: process.env['PATH'], NODE_EXTRA_CA_CERTS: process.env['NODE_EXTRA_CA_CERTS'], ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout?.on('data', (d) => (out += d.toString()));
  child.stderr?.on('data', (d) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, output: () => out, exited };
}

/** Waits until `base`/healthz answers. */
export async function waitHealthy(base: string, p: { output: () => string }): Promise<void> {
  // Start-up transforms TypeScript (tsx): seconds on a busy 2-core machine, so the wait is generous.
  const deadline = Date.now() + 40_000;
  for (;;) {
    const ok = await fetch(`${base}/healthz`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`service did not start:\n${p.output()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

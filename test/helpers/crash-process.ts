import { spawn } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Random } from './crash-random.ts';
import type { ServiceProcess } from './service-process.ts';

/**
 * The service under the crash storm: a child process started as `npm start`
 * does (compiled dist/main.js, which starts in about a second) or through
 * tsx when dist/ is missing or older than src/ (so a stale build is never
 * what a test checks), killed with SIGKILL at random moments and restarted.
 */

const ROOT = new URL('../../', import.meta.url).pathname;

/** The newest .ts/.js file under dir, skipping what the build leaves out (tsconfig.build.json: src/demo, src/stand-ins). */
function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      if (entry.name !== 'demo' && entry.name !== 'stand-ins') newest = Math.max(newest, newestMtime(path));
    } else if (/\.(ts|js)$/.test(entry.name)) newest = Math.max(newest, statSync(path).mtimeMs);
  }
  return newest;
}

/** The node arguments that run the service, and which form they are. */
export function serviceCommand(): { args: string[]; form: 'dist' | 'tsx' } {
  const compiled = join(ROOT, 'dist/main.js');
  if (existsSync(compiled) && newestMtime(join(ROOT, 'dist')) >= newestMtime(join(ROOT, 'src'))) return { args: [compiled], form: 'dist' };
  return { args: ['--import', import.meta.resolve('tsx'), join(ROOT, 'src/main.ts')], form: 'tsx' };
}

/**
 * Waits until /healthz answers. A start takes about a second on an idle machine and was measured at 13-19 s
 * with seven test suites on two cores (most of it loading modules), so the limit is generous; a process that
 * exits meanwhile fails at once.
 */
const START_LIMIT_MS = 120_000;

async function waitStarted(base: string, p: ServiceProcess): Promise<void> {
  const deadline = Date.now() + START_LIMIT_MS;
  let exited: number | null | undefined;
  void p.exited.then((code) => (exited = code));
  for (;;) {
    const ok = await fetch(`${base}/healthz`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) return;
    if (exited !== undefined) throw new Error(`service exited with ${exited} while starting:\n${p.output()}`);
    if (Date.now() > deadline) throw new Error(`service did not answer /healthz within ${START_LIMIT_MS} ms:\n${p.output()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Keeps the last part of a process's output: enough to explain a failure, bounded over a long storm. */
const OUTPUT_KEPT = 20_000;

function spawnService(args: string[], env: NodeJS.ProcessEnv, cwd: string): ServiceProcess {
  const child = spawn(process.execPath, args, {
    cwd,
    env: { PATH: process.env['PATH'], NODE_EXTRA_CA_CERTS: process.env['NODE_EXTRA_CA_CERTS'], ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const keep = (d: Buffer) => {
    out = (out + d.toString()).slice(-OUTPUT_KEPT);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, output: () => out, exited };
}

export interface CrashService {
  form: 'dist' | 'tsx';
  kills: number;
  restarts: number;
  /** Spawn → /healthz answering, per start, in ms. */
  startMs: number[];
  /** Output of every process so far (each one's tail). */
  output(): string;
  start(): Promise<void>;
  /** SIGKILL, and wait until the process is gone. */
  kill(): Promise<void>;
  /** SIGTERM and wait (the end of a run). */
  stop(): Promise<number | null>;
}

export function createCrashService(o: { env: NodeJS.ProcessEnv; cwd: string; base: string }): CrashService {
  const { args, form } = serviceCommand();
  let current: ServiceProcess | null = null;
  const outputs: string[] = [];
  const self: CrashService = {
    form,
    kills: 0,
    restarts: 0,
    startMs: [],
    output: () => [...outputs, current?.output() ?? ''].join('\n--- restart ---\n'),
    async start() {
      const started = Date.now();
      if (self.startMs.length > 0) self.restarts++;
      current = spawnService(args, o.env, o.cwd);
      await waitStarted(o.base, current);
      self.startMs.push(Date.now() - started);
    },
    async kill() {
      if (current === null) return;
      current.child.kill('SIGKILL');
      await current.exited;
      outputs.push(current.output());
      current = null;
      self.kills++;
    },
    async stop() {
      if (current === null) return null;
      current.child.kill('SIGTERM');
      const code = await current.exited;
      outputs.push(current.output());
      current = null;
      return code;
    },
  };
  return self;
}

/**
 * Kills the service `kills` times, each at a random moment `upMs` after it
 * became healthy, leaves it down for a random moment `downMs` (deliveries
 * meanwhile are refused and retried), then restarts it.
 */
export async function runChaos(service: CrashService, o: { kills: number; upMs: [number, number]; downMs: [number, number]; random: Random; signal: AbortSignal }): Promise<void> {
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
  while (service.kills < o.kills && !o.signal.aborted) {
    await sleep(o.random.int(o.upMs[0], o.upMs[1]));
    await service.kill();
    await sleep(o.random.int(o.downMs[0], o.downMs[1]));
    await service.start();
  }
}

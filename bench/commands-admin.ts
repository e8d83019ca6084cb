import { readFileSync } from 'node:fs';
import type { ChildProcess } from 'node:child_process';
import type { DiscordStandIn } from '../src/stand-ins/discord/server.ts';

/**
 * The staff rows of bench:commands: `/admin lookup` of random members and
 * `/admin export` of the whole store, both run by the guild owner
 * (Administrator, so staff) through the real discord.js client and the
 * Discord stand-in. The figure runs from just before the stand-in dispatches
 * INTERACTION_CREATE to the answer arriving at the stand-in: the lookup's
 * callback (it answers from the store, without a defer), the export's edit
 * of its "thinking…" message that carries the attachment.
 */

/** `n` lookups one after another, each of a member drawn at random from `ids` (seeded, so runs compare). */
export async function measureLookups(discord: DiscordStandIn, staffId: string, ids: readonly string[], n: number, seed = 7): Promise<number[]> {
  let a = seed;
  const random = () => ((a = (Math.imul(a, 1103515245) + 12345) >>> 0) / 4294967296);
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const member = ids[Math.floor(random() * ids.length)] ?? '';
    const t0 = performance.now();
    const call = discord.interact({ type: 'command', name: 'admin', subcommand: 'lookup', userId: staffId, options: { member } });
    const answer = await call.response(10_000);
    const elapsed = performance.now() - t0;
    if (answer.type !== 4 || answer.data?.embeds?.[0]?.description !== `<@${member}> (${member})`) throw new Error(`/admin lookup ${member}: unexpected reply ${JSON.stringify(answer).slice(0, 200)}`);
    out.push(elapsed);
  }
  return out;
}

export interface ExportRun {
  /** Interaction created → the edit with the attachment received, ms. */
  ms: number;
  /** Highest RSS sampled during the export minus RSS just before it, MB (10^6 bytes). */
  peakRssGrowthMb: number;
  rows: number;
  /** What Discord received: the attachment's name and size. */
  file: string;
  bytes: number;
}

/** RSS of a process, sampled every `everyMs` until stopped; `read` returns bytes. */
function sampleRss(read: () => number, everyMs: number): { stop(): number } {
  let peak = read();
  const timer = setInterval(() => (peak = Math.max(peak, read())), everyMs);
  return {
    stop: () => {
      clearInterval(timer);
      return Math.max(peak, read());
    },
  };
}

/** The resident set of another process from /proc (Linux): the same figure process.memoryUsage().rss gives for itself. */
export function rssOfPid(pid: number): number {
  const kb = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
  if (kb === undefined) throw new Error(`no VmRSS for process ${pid}`);
  return Number(kb) * 1024;
}

/**
 * One `/admin export`, RSS sampled every 20 ms from just before the
 * interaction until the attachment arrived. `rss` reads the process to
 * watch: this one (process.memoryUsage().rss) when Concierge runs in the
 * bench process, or the service's child process (rssOfPid).
 */
export async function measureExport(discord: DiscordStandIn, staffId: string, rss: () => number = () => process.memoryUsage().rss): Promise<ExportRun> {
  // Garbage from the runs before (the lookups) would otherwise be collected, or not, inside the window.
  (globalThis as { gc?: () => void }).gc?.();
  const before = rss();
  const sampler = sampleRss(rss, 20);
  const t0 = performance.now();
  const call = discord.interact({ type: 'command', name: 'admin', subcommand: 'export', userId: staffId });
  const edit = await waitForAttachment(call, 120_000);
  const ms = performance.now() - t0;
  const peak = sampler.stop();
  const file = edit.message?.attachments[0];
  const rows = Number(/^Member list: (\d+) member/.exec(edit.body?.content ?? '')?.[1] ?? NaN);
  return { ms, peakRssGrowthMb: (peak - before) / 1e6, rows, file: file?.filename ?? '(none)', bytes: file?.size ?? 0 };
}

type Call = ReturnType<DiscordStandIn['interact']>;

async function waitForAttachment(call: Call, timeoutMs: number) {
  const deadline = Date.now() + timeoutMs;
  for (let seen = 1; ; seen++) {
    const edits = await call.waitForEdits(seen, Math.max(1, deadline - Date.now()));
    const last = edits.at(-1);
    if (last !== undefined && (last.message?.attachments.length ?? 0) > 0) return last;
    if (last?.body?.content?.startsWith('The member list is larger') === true) throw new Error(`/admin export: ${last.body.content}`);
  }
}

/** CPU time (user + system) a process has used, in clock ticks (/proc/<pid>/stat fields 14 and 15). */
function cpuTicks(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
  return Number(fields[11]) + Number(fields[12]);
}

/**
 * Waits until `pid` has used under 5% of a core for a whole second (at most `timeoutMs`): the service's start-up
 * work (the serials check over every member, command registration) must be over before an RSS baseline is read.
 */
export async function waitForQuiet(pid: number, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = cpuTicks(pid);
  while (Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 1_000));
    const now = cpuTicks(pid);
    if (now - last <= 5) return;
    last = now;
  }
}

/** Waits until the service in `child` has connected to the stand-in's gateway and registered its commands. */
export async function waitForBot(discord: DiscordStandIn, child: ChildProcess, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!discord.commands().some((c) => c.name === 'admin')) {
    if (child.exitCode !== null) throw new Error(`the service exited (${child.exitCode}) before registering its commands`);
    if (Date.now() > deadline) throw new Error('the service did not register its commands in time');
    await new Promise((r) => setTimeout(r, 100));
  }
}

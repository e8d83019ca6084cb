import Database from 'better-sqlite3';
import type { DiscordStandIn } from '../../src/stand-ins/discord/server.ts';
import type { PaypalStandIn } from '../../src/stand-ins/paypal/server.ts';
import { expectedRoles, TIER_ROLE_IDS } from './crash-oracle.ts';
import type { MemberScript } from './crash-scripts.ts';
import type { Storm } from './crash-storm.ts';

/**
 * The crash suite's verdict after the last restart, once the queue drained:
 * what members see (roles, DMs, audit posts) against what PayPal says and
 * what was acknowledged. Each problem is one line naming the member or event,
 * so a failing run says what went wrong, not only that something did.
 */

export interface Verdict {
  problems: string[];
  counts: {
    eventsProcessed: number;
    outcomes: Record<string, number>;
    rolePuts: number;
    roleDeletes: number;
    dms: number;
    auditMessages: number;
    deadLetters: number;
  };
}

interface JobRow {
  id: number;
  kind: string;
  payload: string;
  status: string;
}

const ROLE_CALL = /^\/guilds\/\d+\/members\/(\d+)\/roles\/(\d+)$/;

/** Opens the service's database read-only (it may still be running: WAL readers do not block it). */
export function readDb<T>(dbPath: string, fn: (db: Database.Database) => T): T {
  const db = new Database(dbPath, { readonly: true, fileMustExist: true });
  try {
    return fn(db);
  } finally {
    db.close();
  }
}

/** True when every stored event is processed and no job is due or running. */
export function queueDrained(dbPath: string): boolean {
  return readDb(dbPath, (db) => {
    const { pending } = db.prepare('SELECT count(*) AS pending FROM webhook_events WHERE processed_at IS NULL').get() as { pending: number };
    const { due } = db.prepare(`SELECT count(*) AS due FROM jobs WHERE status = 'running' OR (status = 'queued' AND run_at <= ?)`).get(Date.now()) as { due: number };
    return pending === 0 && due === 0;
  });
}

/** Role PUT/DELETEs Discord applied for a member, in order, replayed from no roles: a call that changes nothing is a doubled one. */
function roleCallProblems(discord: DiscordStandIn, problems: string[]): { puts: number; deletes: number } {
  const held = new Map<string, Set<string>>();
  let puts = 0;
  let deletes = 0;
  for (const r of discord.requests) {
    const m = ROLE_CALL.exec(r.path);
    if (m === null || r.status !== 204 || (r.method !== 'PUT' && r.method !== 'DELETE')) continue;
    const [, memberId = '', roleId = ''] = m;
    const roles = held.get(memberId) ?? new Set<string>();
    held.set(memberId, roles);
    if (r.method === 'PUT') {
      puts++;
      if (roles.has(roleId)) problems.push(`member ${memberId}: role ${roleId} added again while held (doubled PUT at ${r.at.toISOString()})`);
      roles.add(roleId);
    } else {
      deletes++;
      if (!roles.has(roleId)) problems.push(`member ${memberId}: role ${roleId} removed again while not held (doubled DELETE at ${r.at.toISOString()})`);
      roles.delete(roleId);
    }
  }
  return { puts, deletes };
}

/** Every message job posted exactly one message (its nonce), none twice and none lost. */
function messageProblems(jobs: JobRow[], nonces: Map<string, number>, kind: 'dm' | 'audit', problems: string[]): void {
  for (const job of jobs.filter((j) => j.kind === kind)) {
    const payload = JSON.parse(job.payload) as { auditId?: number; memberId?: string };
    const nonce = kind === 'dm' ? `dm-${job.id}` : `audit-${payload.auditId ?? '?'}`;
    const n = nonces.get(nonce) ?? 0;
    if (job.status === 'done' && n !== 1) problems.push(`${kind} job ${job.id} (${job.payload}): ${n} messages with nonce ${nonce}, expected 1`);
  }
  for (const [nonce, n] of nonces) if (n > 1) problems.push(`${n} ${kind} messages with nonce ${nonce}`);
}

const countBy = <T,>(xs: readonly T[], key: (x: T) => string) => {
  const m = new Map<string, number>();
  for (const x of xs) m.set(key(x), (m.get(key(x)) ?? 0) + 1);
  return m;
};

export function judge(o: { dbPath: string; paypal: PaypalStandIn; discord: DiscordStandIn; members: readonly MemberScript[]; storm: Storm }): Verdict {
  const problems: string[] = [];
  const subs = o.paypal.subscriptions();

  for (const m of o.members) {
    const want = expectedRoles(subs, m.memberId);
    const have = (o.discord.member(m.memberId) ?? []).filter((r) => TIER_ROLE_IDS.has(r)).sort();
    if (JSON.stringify(want) !== JSON.stringify(have)) problems.push(`member ${m.memberId} (${m.planId}, ${m.ending}): Discord roles ${JSON.stringify(have)}, PayPal entitles ${JSON.stringify(want)}`);
  }

  const acked = new Set(o.storm.deliveries.filter((d) => d.result?.acknowledged === true).map((d) => d.eventId));
  for (const d of o.storm.deliveries) if (d.result?.acknowledged !== true) problems.push(`event ${d.eventId} (${d.eventType}) was never acknowledged after ${d.result?.attempts.length ?? 0} attempts`);

  const { inbox, jobs, audits } = readDb(o.dbPath, (db) => ({
    inbox: db.prepare('SELECT id, processed_at AS processedAt, outcome FROM webhook_events').all() as { id: string; processedAt: number | null; outcome: string }[],
    jobs: db.prepare('SELECT id, kind, payload, status FROM jobs').all() as JobRow[],
    audits: db.prepare('SELECT id, kind, event_id AS eventId, member_id AS memberId, message FROM audit_entries').all() as { id: number; kind: string; eventId: string | null; memberId: string | null; message: string }[],
  }));

  const stored = new Set(inbox.map((e) => e.id));
  for (const id of acked) if (!stored.has(id)) problems.push(`acknowledged event ${id} (${o.storm.events.get(id)?.eventType}) is not in the inbox: lost`);
  for (const e of inbox) {
    if (!acked.has(e.id)) problems.push(`inbox holds event ${e.id}, which was never acknowledged`);
    if (e.processedAt === null) problems.push(`event ${e.id} (${o.storm.events.get(e.id)?.eventType}) was never processed`);
  }
  const processJobs = countBy(
    jobs.filter((j) => j.kind === 'process-webhook'),
    (j) => (JSON.parse(j.payload) as { eventId: string }).eventId,
  );
  for (const id of stored) if (processJobs.get(id) !== 1) problems.push(`event ${id}: ${processJobs.get(id) ?? 0} process-webhook jobs, expected 1`);
  for (const [key, n] of countBy(
    audits.filter((a) => a.eventId !== null),
    (a) => `${a.eventId} ${a.kind}`,
  )) {
    if (n <= 1) continue;
    const texts = audits.filter((a) => `${a.eventId} ${a.kind}` === key).map((a) => a.message);
    problems.push(`audit entry ${key} (${o.storm.events.get(key.split(' ')[0] ?? '')?.eventType}) recorded ${n} times for one event: ${JSON.stringify(texts)}`);
  }

  const auditNonces = countBy(o.discord.messages(o.discord.auditChannelId), (m) => String(m.nonce));
  messageProblems(jobs, auditNonces, 'audit', problems);
  const dmMessages = o.members.flatMap((m) => o.discord.dms(m.memberId));
  messageProblems(jobs, countBy(dmMessages, (m) => String(m.nonce)), 'dm', problems);
  dmLimits(jobs, o.members, problems);

  const dead = jobs.filter((j) => j.status === 'dead');
  for (const j of dead) problems.push(`dead letter: job ${j.id} ${j.kind} ${j.payload}`);
  const roles = roleCallProblems(o.discord, problems);
  return {
    problems,
    counts: {
      eventsProcessed: inbox.filter((e) => e.processedAt !== null).length,
      outcomes: Object.fromEntries(countBy(inbox, (e) => e.outcome)),
      rolePuts: roles.puts,
      roleDeletes: roles.deletes,
      dms: dmMessages.length,
      auditMessages: o.discord.messages(o.discord.auditChannelId).length,
      deadLetters: dead.length,
    },
  };
}

/** A member's DMs of one kind never outnumber what their script can cause (one subscription: one welcome, one cancellation notice). */
function dmLimits(jobs: JobRow[], members: readonly MemberScript[], problems: string[]): void {
  const byMember = new Map(members.map((m) => [m.memberId, m]));
  const kinds = countBy(
    jobs.filter((j) => j.kind === 'dm'),
    (j) => {
      const p = JSON.parse(j.payload) as { memberId: string; kind: string };
      return `${p.memberId} ${p.kind}`;
    },
  );
  for (const [key, n] of kinds) {
    const [memberId = '', kind = ''] = key.split(' ');
    const m = byMember.get(memberId);
    const limit = kind === 'payment_failed' ? (m?.failures ?? 0) : 1;
    if (n > limit) problems.push(`member ${memberId}: ${n} '${kind}' DMs, at most ${limit} expected`);
  }
}

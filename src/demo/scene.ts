import type { Actions, Delivery, Reply } from './actions.ts';
import { check, eventually, StepFailure } from './expect.ts';
import type { Report } from './report.ts';
import type { Stage } from './stage.ts';

/**
 * What every chapter of the story shares: the cast, the step runner (a step
 * that does not hold stops the story and is named in the result), the clock
 * jumps, and the checks that read what Discord shows. Chapters live in
 * chapters/; story.ts plays them in order.
 */

export const DAY = 86_400_000;
export const HOUR = 3_600_000;

/** The members, by name. alice … frank play the lifecycle; gina, hana and jack join for staff, serials and operations. */
export const MEMBERS = {
  alice: '920000000000000001',
  bob: '920000000000000002',
  carol: '920000000000000003',
  dave: '920000000000000004',
  erin: '920000000000000005',
  frank: '920000000000000006',
  gina: '920000000000000007',
  hana: '920000000000000008',
  jack: '920000000000000009',
} as const;
export type MemberName = keyof typeof MEMBERS;

/** sam moderates the server: holds the Staff role the demo tiers file names in staff_role_ids. */
export const STAFF_ID = '920000000000000099';

export interface StepOutcome {
  did: string;
  concierge: string;
  discord: string;
}

export type Scene = ReturnType<typeof createScene>;

export function createScene(stage: Stage, act: Actions, report: Report) {
  const names: Record<string, string> = { ...Object.fromEntries(Object.entries(MEMBERS).map(([k, v]) => [v, k])), [stage.discord.ownerId]: 'owner (a moderator)', [STAFF_ID]: 'sam (staff)' };
  /** Discord markup as a person reads it: mentions by name, timestamps as dates (UTC), no bold markers. */
  const readable = (s: string) =>
    s
      .replace(/<@!?(\d+)>/g, (_, id: string) => `@${names[id] ?? id}`)
      .replace(/<t:(\d+):\w>/g, (_, t: string) => new Date(Number(t) * 1000).toISOString().slice(0, 16).replace('T', ' ').replace(' 00:00', ''))
      // Bold markers go; code spans (a masked serial's asterisks) stay as they are.
      .replace(/`[^`\n]*`|\*\*([^*\n]+)\*\*/g, (m: string, bold: string | undefined) => bold ?? m);
  /** A reply's title and first sentence, as a timeline line. */
  const firstLine = (r: Reply | string) => {
    const [title = '', body = ''] = readable(typeof r === 'string' ? r : r.text).split('\n');
    const sentence = /^.*?[.](?=\s|$)/.exec(body)?.[0] ?? body;
    return sentence === '' ? title : `${title} — ${sentence}`;
  };
  const rolesText = (who: MemberName) => `${who}: ${(act.tierRoles(MEMBERS[who]) ?? ['(not in server)']).join(', ') || '—'}`;
  const same = (a: readonly string[] | null, b: readonly string[]) => a !== null && a.join(',') === b.join(',');
  /** Waits until the member holds exactly `expected` (tier role names, highest first) at Discord. */
  const roles = (who: MemberName, expected: string[]) =>
    eventually(() => act.tierRoles(MEMBERS[who]), (r) => same(r, expected), `${who} to hold ${expected.join(', ') || 'no tier role'} at Discord`).then(() => rolesText(who));
  const accepted = (d: Delivery, status = 200) => {
    check(d.status === status, `the webhook to be answered ${status}`, `${d.status} ${d.body}`);
    return `${d.event.event_type} → ${d.status}${status === 200 ? '' : ` ${d.body}`}`;
  };
  const auditTitles = (who: MemberName) => act.auditAbout(MEMBERS[who]).flatMap((m) => m.embeds.map((e) => e.title ?? ''));
  /** Waits for an audit message titled `title` about the member, among those after the first `from`. */
  const audited = async (who: MemberName, title: string, from = 0) => {
    await eventually(() => auditTitles(who).slice(from), (t) => t.includes(title), `an audit message "${title}" about ${who}`);
    return `audit: ${title}`;
  };
  const dmTitles = (who: MemberName) => act.dms(MEMBERS[who]).map((m) => m.embeds[0]?.title ?? '');
  const dmed = async (who: MemberName, title: string) => {
    await eventually(() => dmTitles(who), (t) => t.includes(title), `a DM "${title}" to ${who}`);
    return `DM to ${who}: "${title}"`;
  };
  /** Everything Discord would show about a member: roles, role calls, audit messages, DMs. */
  const footprint = (who: MemberName) => [act.tierRoles(MEMBERS[who]), stage.discord.callsTo('PUT', new RegExp(`/members/${MEMBERS[who]}/roles/`)), stage.discord.callsTo('DELETE', new RegExp(`/members/${MEMBERS[who]}/roles/`)), auditTitles(who).length, act.dms(MEMBERS[who]).length];

  let n = 0;
  let failedStep: string | null = null;
  async function step(title: string, run: () => Promise<StepOutcome>): Promise<void> {
    if (failedStep !== null) return;
    n += 1;
    const started = performance.now();
    try {
      const o = await run();
      report.step({ n, title, ...o, ms: Math.round(performance.now() - started), ok: true });
    } catch (err) {
      failedStep = title;
      const error = err instanceof StepFailure ? err.message : `${(err as Error).message}`;
      report.step({ n, title, did: '', concierge: '', discord: '', ms: Math.round(performance.now() - started), ok: false, error });
    }
  }
  async function fastForward(ms: number, why: string): Promise<void> {
    if (failedStep !== null) return;
    await stage.advance(ms);
    const [amount, unit] = ms >= DAY ? [Math.round((ms / DAY) * 10) / 10, 'day'] : [Math.round(ms / HOUR), 'hour'];
    const span = `${amount} ${unit}${amount === 1 ? '' : 's'}`;
    report.note(`⏩ ${why}: the clock moves ${span} (offset file + SIGUSR2, no waiting) → ${new Date(stage.now()).toISOString().slice(0, 16).replace('T', ' ')}`);
  }
  /** A chapter's heading and what it is about, skipped once a step failed. */
  function chapter(title: string, about: string): void {
    if (failedStep !== null) return;
    report.heading(title);
    report.note(about);
  }

  return {
    stage,
    act,
    report,
    readable,
    firstLine,
    rolesText,
    same,
    roles,
    accepted,
    auditTitles,
    audited,
    dmTitles,
    dmed,
    footprint,
    step,
    fastForward,
    chapter,
    failedStep: () => failedStep,
    /** Marks the story failed outside a step (the final table). */
    fail: (what: string) => {
      failedStep ??= what;
    },
    steps: () => n,
  };
}

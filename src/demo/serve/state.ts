import type { APIMessage } from 'discord-api-types/v10';
import type { Actions } from '../actions.ts';
import type { Stage } from '../stage.ts';

/**
 * What the `--serve` page shows, as data: the members the demo added with
 * their tier roles at the Discord stand-in and their subscription at the
 * PayPal stand-in, the last reply each got, the audit channel as text, the
 * shared clock and whether Concierge runs. The page renders this with
 * textContent only: member names and embed text are untrusted.
 */

export interface DemoMember {
  id: string;
  name: string;
}

/** Who is in the server when `--serve` starts (ids apart from the scripted story's). */
export const SERVE_MEMBERS: readonly DemoMember[] = [
  { id: '930000000000000001', name: 'alice' },
  { id: '930000000000000002', name: 'bob' },
  { id: '930000000000000003', name: 'carol' },
  { id: '930000000000000004', name: 'dave' },
];

export interface MemberView {
  id: string;
  name: string;
  /** Tier role names at Discord, highest first; null when not in the server. */
  roles: string[] | null;
  /** The member's newest subscription at PayPal, e.g. "Legendary — ACTIVE"; null when none. */
  paypal: string | null;
  /** A /subscribe reply left an approve link not followed yet. */
  pendingApprove: boolean;
  lastReply: { action: string; text: string; ok: boolean; at: string } | null;
}

export interface AuditView {
  at: string;
  title: string;
  lines: string[];
}

export interface PageState {
  /** The shared clock (ISO) and how many days it runs ahead of real time. */
  now: string;
  aheadDays: number;
  service: 'running' | 'starting' | 'stopped';
  tiers: { key: string; name: string; price: string | null }[];
  members: MemberView[];
  /** The audit channel, newest first. */
  audit: AuditView[];
}

const DAY = 86_400_000;
const AUDIT_SHOWN = 25;

export type ServeState = ReturnType<typeof createServeState>;

export function createServeState(stage: Stage, act: Actions, members: readonly DemoMember[]) {
  const names = new Map(members.map((m) => [m.id, m.name]));
  const approveUrls = new Map<string, string>();
  const replies = new Map<string, NonNullable<MemberView['lastReply']>>();
  let starting = false;

  /** Discord markup as a person reads it: mentions by name, timestamps as dates, no bold markers. */
  const readable = (s: string): string =>
    s
      .replace(/<@!?(\d+)>/g, (_, id: string) => `@${names.get(id) ?? id}`)
      .replace(/<t:(\d+):\w>/g, (_, t: string) => new Date(Number(t) * 1000).toISOString().slice(0, 10))
      .replace(/\*\*/g, '');

  function paypalOf(id: string): string | null {
    const s = act.subscriptionsOf(id)[0];
    if (s === undefined) return null;
    return `${stage.catalog.byPlan(s.planId)?.name ?? s.planId} — ${s.status}`;
  }

  function auditOf(m: APIMessage): AuditView[] {
    if (m.embeds.length === 0) return [{ at: m.timestamp, title: readable(m.content), lines: [] }];
    return m.embeds.map((e) => ({
      at: m.timestamp,
      title: readable(e.title ?? '(no title)'),
      lines: [...(e.description ?? '').split('\n').filter((l) => l !== ''), ...(e.fields ?? []).map((f) => `${f.name}: ${f.value}`)].map(readable),
    }));
  }

  return {
    members,
    has: (id: string): boolean => names.has(id),
    approveUrl: (id: string): string | null => approveUrls.get(id) ?? null,
    setApproveUrl(id: string, url: string | null): void {
      if (url === null) approveUrls.delete(id);
      else approveUrls.set(id, url);
    },
    setReply(id: string, action: string, text: string, ok: boolean): void {
      replies.set(id, { action, text: readable(text), ok, at: new Date(stage.now()).toISOString() });
    },
    setStarting(v: boolean): void {
      starting = v;
    },
    view(): PageState {
      const now = stage.now();
      return {
        now: new Date(now).toISOString(),
        aheadDays: Math.round((now - Date.now()) / DAY),
        service: starting ? 'starting' : stage.serviceRunning() ? 'running' : 'stopped',
        tiers: stage.catalog.tiers.map((t) => ({ key: t.key, name: t.name, price: t.price ?? null })),
        members: members.map((m) => ({
          id: m.id,
          name: m.name,
          roles: act.tierRoles(m.id),
          paypal: paypalOf(m.id),
          pendingApprove: approveUrls.has(m.id),
          lastReply: replies.get(m.id) ?? null,
        })),
        audit: stage.discord.messages(stage.discord.auditChannelId).flatMap(auditOf).reverse().slice(0, AUDIT_SHOWN),
      };
    },
  };
}

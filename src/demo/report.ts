import type { APIMessage } from 'discord-api-types/v10';

/**
 * The demo's output: a timeline written as the story plays (what the member
 * did → what Concierge did → what Discord shows, with the time it took), the
 * audit channel as staff read it, and a final table of every member's expected
 * and actual tier. Colour only when `color` is on (a terminal without
 * NO_COLOR): a pipe or a CI log gets plain text with no escape codes.
 */

const CODES = { bold: [1, 22], dim: [2, 22], red: [31, 39], green: [32, 39], yellow: [33, 39], blue: [34, 39], magenta: [35, 39], cyan: [36, 39] } as const;
export type Style = keyof typeof CODES;

/** Whether output to this stream may be coloured (https://no-color.org). */
export function wantsColor(stream: { isTTY?: boolean }, env: NodeJS.ProcessEnv = process.env): boolean {
  return stream.isTTY === true && (env['NO_COLOR'] ?? '') === '';
}

export interface StepRecord {
  n: number;
  title: string;
  /** What the member (or PayPal, or a moderator) did. */
  did: string;
  /** What Concierge did, as seen from outside (replies, pages, webhook answers, DMs, audit). */
  concierge: string;
  /** What Discord shows afterwards. */
  discord: string;
  ms: number;
  ok: boolean;
  error?: string;
}

export interface MemberRow {
  name: string;
  expected: string[];
  actual: string[] | null;
}

export type Report = ReturnType<typeof createReport>;

export function createReport(write: (text: string) => void, color: boolean) {
  const paint = (style: Style, s: string) => (color ? `\x1b[${CODES[style][0]}m${s}\x1b[${CODES[style][1]}m` : s);
  const line = (s = '') => write(`${s}\n`);
  const indent = (label: string, style: Style, text: string) => {
    const [first = '', ...rest] = text.split('\n');
    line(`     ${paint(style, label.padEnd(10))}${first}`);
    for (const r of rest) line(`     ${' '.repeat(10)}${r}`);
  };

  return {
    paint,
    heading(title: string): void {
      line();
      line(paint('bold', title));
      line(paint('dim', '─'.repeat(Math.min(78, title.length + 10))));
    },
    note(text: string): void {
      line(`   ${paint('dim', text)}`);
    },
    step(r: StepRecord): void {
      const mark = r.ok ? paint('green', 'ok') : paint('red', 'FAILED');
      const head = `${String(r.n).padStart(2)}. ${r.title}`;
      line(`${paint('bold', head)}${' '.repeat(Math.max(1, 64 - head.length))}${paint('dim', `${r.ms} ms`.padStart(8))}  ${mark}`);
      if (r.did !== '') indent('did', 'cyan', r.did);
      if (r.concierge !== '') indent('concierge', 'magenta', r.concierge);
      if (r.discord !== '') indent('discord', 'blue', r.discord);
      if (r.error !== undefined) indent('expected', 'red', r.error);
    },
    /** The audit channel as staff read it: one block per embed, ids and all. */
    audit(messages: readonly APIMessage[], nameOf: (text: string) => string): void {
      for (const m of messages) {
        for (const e of m.embeds) {
          const title = e.title ?? '(no title)';
          const style: Style = e.color === 0xed4245 ? 'red' : e.color === 0xfee75c ? 'yellow' : e.color === 0x57f287 ? 'green' : 'cyan';
          const at = e.timestamp === undefined ? '' : `${paint('dim', e.timestamp.slice(0, 16).replace('T', ' '))}  `;
          line(`   ${paint(style, '▌')} ${at}${paint('bold', title)}`);
          if (e.description) for (const d of e.description.split('\n')) line(`     ${nameOf(d)}`);
          const fields = (e.fields ?? []).map((f) => `${f.name}: ${nameOf(f.value)}`);
          if (fields.length > 0) line(`     ${paint('dim', fields.join(' · '))}`);
        }
        if (m.embeds.length === 0 && m.content !== '') line(`   ▌ ${nameOf(m.content)}`);
      }
    },
    table(rows: readonly MemberRow[]): void {
      const show = (roles: readonly string[] | null) => (roles === null ? '(not in server)' : roles.length === 0 ? '—' : roles.join(', '));
      const cells = rows.map((r) => {
        const ok = r.actual !== null && r.actual.join(',') === r.expected.join(',');
        return { name: r.name, expected: show(r.expected), actual: show(r.actual), ok };
      });
      const w = (k: 'name' | 'expected' | 'actual', title: string) => Math.max(title.length, ...cells.map((c) => c[k].length));
      const [wn, we, wa] = [w('name', 'member'), w('expected', 'expected roles'), w('actual', 'roles at Discord')];
      line(`   ${paint('bold', `${'member'.padEnd(wn)}  ${'expected roles'.padEnd(we)}  ${'roles at Discord'.padEnd(wa)}`)}`);
      for (const c of cells) line(`   ${c.name.padEnd(wn)}  ${c.expected.padEnd(we)}  ${c.actual.padEnd(wa)}  ${c.ok ? paint('green', 'ok') : paint('red', 'MISMATCH')}`);
    },
    verdict(ok: boolean, text: string): void {
      line();
      line(ok ? paint('green', paint('bold', text)) : paint('red', paint('bold', text)));
    },
  };
}

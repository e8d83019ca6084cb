import { randomBytes } from 'node:crypto';
import { MessageFlags, type ChatInputCommandInteraction } from 'discord.js';
import { runReconcile, type ReconcileDeps, type ReconcileProgress } from '../../app/reconcile.ts';
import type { Resync, ResyncProgress } from '../../app/resync.ts';
import { resyncMember } from '../../app/resync-member.ts';
import { recordStaffAction } from '../../app/staff-action.ts';
import { SEVERITY_COLORS } from '../../core/messages.ts';
import { renderReportForDiscord } from '../../core/reconcile-table.ts';
import type { Logger } from '../../log.ts';
import type { Store } from '../../store/db.ts';
import type { TiersSource } from '../../tiers.ts';
import { writeExportFile } from './admin-export.ts';
import { createProgressReply } from './admin-progress.ts';
import type { MemberEffects } from '../../app/member-effects.ts';

/**
 * `/admin resync [member]`, `/admin export` and `/admin reconcile`: the staff
 * maintenance commands. The /admin router calls `handle` only after the
 * staff check passed; each answers in an ephemeral deferred reply (these run
 * longer than Discord's 3 s), edited with progress where the work is long,
 * and writes one audit entry naming the staff member.
 */

export type MaintenanceSubcommand = 'resync' | 'export' | 'reconcile';

export interface AdminMaintenanceDeps {
  store: Store;
  tiers: TiersSource;
  clock: () => number;
  log: Logger;
  effects: MemberEffects;
  resync: Pick<Resync, 'resyncAll'>;
  /** PayPal, the guild's member list and pacing, for the dry run. */
  reconcile: Omit<ReconcileDeps, 'store' | 'tiers' | 'clock' | 'log' | 'effects'>;
  /** A connection for the export's long read (store/reader.ts); closed after it. */
  openReader(): Pick<Store, 'db' | 'sqlite'> & { close(): void };
  /** Least time between two progress edits; default 2 s. */
  progressEveryMs?: number;
}

/** An interaction token lasts 15 minutes; the last edits must land before it expires. */
const REPLY_WINDOW_MS = 13 * 60_000;
/** Discord's attachment limit when the interaction does not say (a server without boosts). */
const DEFAULT_ATTACHMENT_LIMIT = 10 * 1024 * 1024;

export interface AdminMaintenance {
  /**
   * `routerDefers`: the /admin router (interactions.ts) is deferring the reply itself; wait for that
   * instead of deferring a second time (Discord answers a second acknowledgement with 40060).
   */
  handle(sub: MaintenanceSubcommand, interaction: ChatInputCommandInteraction, o?: { routerDefers?: boolean }): Promise<void>;
}

export function createAdminMaintenance(deps: AdminMaintenanceDeps): AdminMaintenance {
  return {
    async handle(sub, i, o = {}) {
      const log = deps.log.child({ interactionId: i.id, command: `admin ${sub}`, userId: i.user.id });
      if (o.routerDefers === true) await waitForDeferral(i);
      else await i.deferReply({ flags: MessageFlags.Ephemeral });
      try {
        if (sub === 'resync') await runResync(deps, i, log);
        else if (sub === 'export') await runExport(deps, i, log);
        else await runDryReconcile(deps, i, log);
      } catch (err) {
        const ref = randomBytes(4).toString('hex');
        log.error({ err, ref }, 'admin command failed');
        await i.editReply({ content: `/admin ${sub} failed and changed nothing more; the log has the details under reference \`${ref}\`.` });
      }
    },
  };
}

/** Resolves once the interaction's deferral has been acknowledged (the router sends it right after starting the handler). */
async function waitForDeferral(i: ChatInputCommandInteraction): Promise<void> {
  // Discord's 3 s deadline for the acknowledgement bounds the wait.
  for (let waited = 0; !i.deferred && !i.replied && waited < 3000; waited += 10) await new Promise((r) => setTimeout(r, 10));
}

async function runResync(deps: AdminMaintenanceDeps, i: ChatInputCommandInteraction, log: Logger): Promise<void> {
  const member = i.options.getUser('member');
  if (member !== null) {
    const r = await resyncMember(deps, { memberId: member.id, staffId: i.user.id });
    const tierName = (key: string | null) => (key === null ? 'no tier' : (deps.tiers.current().byKey(key)?.name ?? key));
    const text =
      r.kind === 'synced'
        ? `Roles of <@${member.id}> are in line with their entitlement: ${tierName(r.tier)}.`
        : r.kind === 'failed'
          ? `Role sync of <@${member.id}> failed: ${r.error.slice(0, 1500)}`
          : `Role sync of <@${member.id}> is queued (job ${r.jobId}) and still waiting on Discord; it finishes in the background.`;
    log.info({ memberId: member.id, outcome: r.kind }, 'staff resync of one member');
    await i.editReply({ content: text });
    return;
  }
  const started = Date.now();
  const progress = createProgressReply(i, log, deps.progressEveryMs);
  await i.editReply({ content: 'Fetching the member list from Discord…' });
  const run = await deps.resync.resyncAll({ onProgress: (p) => progress.update(`Resyncing roles: ${describeResync(p)}`) });
  deps.store.transaction((tx) =>
    recordStaffAction(tx, { staffId: i.user.id, action: 'resync', memberId: null, summary: `resynced the roles of every member (${run.members})`, reason: 'requested with /admin resync' }, deps.clock()),
  );
  const window = new Promise<null>((resolve) => setTimeout(() => resolve(null), REPLY_WINDOW_MS).unref());
  const last = await Promise.race([run.finished, window]);
  const seconds = Math.round((Date.now() - started) / 1000);
  if (last === null || !last.finished) {
    await progress.finish({ content: `Resync still running after ${seconds} s (${run.members} members); it goes on in the background, progress in the log.` });
    return;
  }
  const failed = last.failed > 0 ? ` ${last.failed} member(s) could not be synced: their dead-lettered jobs are in the audit channel.` : '';
  await progress.finish({ content: `Resync finished in ${seconds} s: ${describeResync(last)}.${failed}` });
}

function describeResync(p: ResyncProgress): string {
  return `${p.done} / ${p.total} members done · ${p.rateLimited} × 429 from Discord · ${p.failed} error(s)`;
}

async function runExport(deps: AdminMaintenanceDeps, i: ChatInputCommandInteraction, log: Logger): Promise<void> {
  const reader = deps.openReader();
  const limit = i.attachmentSizeLimit > 0 ? i.attachmentSizeLimit : DEFAULT_ATTACHMENT_LIMIT;
  let file;
  try {
    file = await writeExportFile(reader, deps.clock(), limit);
  } finally {
    reader.close();
  }
  if (file === null) {
    await i.editReply({ content: 'The member list is larger than Discord lets me attach, even compressed. Run `npx concierge export --out members.csv` on the server instead.' });
    return;
  }
  try {
    deps.store.transaction((tx) =>
      recordStaffAction(tx, { staffId: i.user.id, action: 'export', memberId: null, summary: `exported the member list (${file.rows} members, CSV)`, reason: 'requested with /admin export' }, deps.clock()),
    );
    const how = file.gzipped ? ' (gzipped: over the attachment limit as plain CSV)' : '';
    await i.editReply({ content: `Member list: ${file.rows} member(s)${how}.`, files: [{ attachment: file.path, name: file.name }] });
    log.info({ rows: file.rows, bytes: file.bytes, gzipped: file.gzipped }, 'member export sent');
  } finally {
    await file.dispose();
  }
}

async function runDryReconcile(deps: AdminMaintenanceDeps, i: ChatInputCommandInteraction, log: Logger): Promise<void> {
  const progress = createProgressReply(i, log, deps.progressEveryMs);
  const report = await runReconcile(
    { ...deps.reconcile, store: deps.store, tiers: deps.tiers, clock: deps.clock, effects: deps.effects, log },
    { dryRun: true, deadlineAt: deps.clock() + REPLY_WINDOW_MS, onProgress: (p) => progress.update(`Reconciling (dry run, nothing changes): ${describeCheck(p)}`) },
  );
  deps.store.transaction((tx) =>
    recordStaffAction(
      tx,
      { staffId: i.user.id, action: 'reconcile', memberId: null, summary: `ran a reconciliation dry run (${report.differences.length} difference(s))`, reason: 'requested with /admin reconcile' },
      deps.clock(),
    ),
  );
  const color = !report.completed ? SEVERITY_COLORS.danger : report.differences.length > 0 ? SEVERITY_COLORS.warning : SEVERITY_COLORS.success;
  await progress.finish({ content: '', embeds: [{ title: 'Reconciliation (dry run: nothing was changed)', description: renderReportForDiscord(report), color }] });
}

function describeCheck(p: ReconcileProgress): string {
  const what = { events: 'PayPal events listed', paypal: 'subscriptions re-read from PayPal', discord: 'members compared with Discord' }[p.check];
  return `${p.done}${p.total === null ? '' : ` / ${p.total}`} ${what}`;
}

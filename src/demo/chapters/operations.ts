import Database from 'better-sqlite3';
import { check, checkText, eventually, staysSame } from '../expect.ts';
import { MEMBERS, STAFF_ID, type Scene } from '../scene.ts';
import type { CliRun } from '../stage.ts';

/**
 * Chapter 5, operations: webhooks PayPal sent that never arrived, and a
 * cancellation nobody told Concierge about, shown by staff's /admin
 * reconcile (a dry run, which changes nothing) and fixed by the operator's
 * `npx concierge reconcile`; an online backup, checked; the job queue
 * without dead letters; /metrics. The CLI is the real one, run beside the
 * service the way an operator runs it (stage.cli).
 */

/** The lines of a CLI's output that mention any of `needles`, for the timeline. */
const linesWith = (text: string, ...needles: string[]) => text.split('\n').filter((l) => needles.some((n) => l.includes(n)));

export async function playOperationsChapter(s: Scene): Promise<void> {
  const { stage, act, step, roles, audited, auditTitles, readable } = s;
  /** `concierge <args>`; a non-zero exit fails the step with what it printed. */
  const succeeded = async (args: readonly string[], running: Promise<CliRun>): Promise<CliRun> => {
    const run = await running;
    check(run.code === 0, `concierge ${args.join(' ')} to exit 0`, `exit ${run.code}\n${run.stdout}${run.stderr}`.slice(0, 1500));
    return run;
  };
  /**
   * The operator's three commands start together, as from three terminals: each CLI start-up (tsx, the SDKs)
   * takes seconds, a minute on a busy machine, and `backup` and `jobs` only read. Promises that never reject:
   * a step that fails first leaves none unhandled.
   */
  let later: { backup: Promise<CliRun>; jobs: Promise<CliRun> } | null = null;
  const startLater = () => (later ??= { backup: stage.cli(['backup']), jobs: stage.cli(['jobs']) });
  const statusState = async (who: 'carol') => /State: (.*)/.exec((await act.status(MEMBERS[who])).text)?.[1] ?? '(no state)';

  s.chapter('Operations — reconcile, backup, jobs, metrics', 'what an operator runs on the server (`npx concierge …`), beside the running service');
  act.join(MEMBERS.jack, 'jack');

  let lostSale = '';
  await step("jack subscribes, but PayPal's webhooks never reach Concierge", async () => {
    const reply = await act.subscribe(MEMBERS.jack, 'elite');
    check(reply.approveUrl !== null, 'a PayPal link', reply.text);
    const page = await act.approve(reply.approveUrl);
    checkText(page.text, 'You are now Elite', 'the return page');
    const sub = act.billedSubscription(MEMBERS.jack);
    stage.paypal.loseEvent(stage.paypal.subscriptionEvent('BILLING.SUBSCRIPTION.ACTIVATED', sub.id));
    const sale = stage.paypal.saleEvent('PAYMENT.SALE.COMPLETED', sub.sales[0]?.id ?? '');
    stage.paypal.loseEvent(sale);
    lostSale = sale.id;
    const shown = await roles('jack', ['Elite']);
    await audited('jack', 'Tier changed');
    await staysSame(() => auditTitles('jack').includes('Payment recorded'), 'no payment recorded for jack');
    return { did: '/subscribe tier:elite, pays; PayPal sends ACTIVATED and PAYMENT.SALE.COMPLETED, lost on the way (an outage)', concierge: `return page "${page.heading}"; audit: Tier changed; no payment on record for jack`, discord: shown };
  });

  let carolSub = '';
  await step('carol cancels on PayPal’s site; that webhook never arrives either', async () => {
    carolSub = act.billedSubscription(MEMBERS.carol).id;
    stage.paypal.setStatus(carolSub, 'CANCELLED');
    const state = await statusState('carol');
    check(state === 'Active', '/status to still say Active (Concierge was not told)', state);
    return { did: `carol cancels ${carolSub} at PayPal; no webhook`, concierge: `/status for carol still says "State: ${state}"`, discord: s.rolesText('carol') };
  });

  await step('sam runs /admin reconcile in Discord: a dry run shows both differences and changes nothing', async () => {
    const { handle } = await act.staff('admin', 'reconcile', STAFF_ID);
    const embed = await eventually(() => handle.original()?.embeds[0], (e) => e?.title !== undefined, 'the reconciliation embed', undefined, 20_000);
    const text = embed?.description ?? '';
    check(embed?.title === 'Reconciliation (dry run: nothing was changed)', 'the dry-run embed', embed?.title);
    const events = linesWith(text, lostSale);
    check(events.some((l) => l.startsWith('events') && l.includes('would ingest it')), `an events row for the lost sale ${lostSale}`, text);
    const cancel = linesWith(text, carolSub);
    check(cancel.some((l) => l.startsWith('paypal') && l.includes('PayPal ACTIVE → CANCELLED') && l.includes('would apply what PayPal reports')), `a paypal row for ${carolSub}`, text);
    const state = await statusState('carol');
    check(state === 'Active', 'carol still Active after a dry run', state);
    check(!auditTitles('jack').includes('Payment recorded'), 'no payment recorded for jack after a dry run');
    const [summary = '', counts = ''] = text.split('\n');
    const rows = text.split('\n').filter((l) => /^(CHECK|events|paypal|discord) /.test(l));
    return { did: '/admin reconcile (by sam)', concierge: [`embed "${embed?.title ?? ''}"`, summary, counts, ...rows].join('\n'), discord: 'nothing changed: carol /status "Active", no payment for jack' };
  });

  await step('`concierge reconcile` ingests the lost events and applies the cancellation', async () => {
    const reconcile = stage.cli(['reconcile']);
    startLater();
    const run = await succeeded(['reconcile'], reconcile);
    checkText(run.stdout, 'reconcile completed (changes applied)', 'the output');
    const payment = await audited('jack', 'Payment recorded');
    const state = await statusState('carol');
    check(state === 'Cancelled', '/status for carol to say Cancelled', state);
    const shown = await roles('carol', ['Titan']);
    return { did: '$ npx concierge reconcile', concierge: `${run.stdout.split('\n').slice(0, 2).join('\n')}\njack: ${payment} (through the inbox, as if delivered); carol /status "State: ${state}", keeps Titan to the end of her paid month`, discord: `${shown}; ${s.rolesText('jack')}` };
  });

  await step('`concierge backup` takes an online backup and checks it', async () => {
    const run = await succeeded(['backup'], startLater().backup);
    const m = /^backup (\S+) written and checked \((.*)\)$/m.exec(run.stdout);
    check(m?.[1] !== undefined, 'a "backup … written and checked" line', run.stdout);
    const copy = new Database(m[1], { readonly: true, fileMustExist: true });
    let checked: string;
    let members: number;
    try {
      checked = String(copy.pragma('integrity_check', { simple: true }));
      members = (copy.prepare('SELECT count(*) AS n FROM members').get() as { n: number }).n;
    } finally {
      copy.close();
    }
    check(checked === 'ok' && members === 9, 'the copy to pass integrity_check and hold all 9 members', `${checked}, ${members} members`);
    return { did: '$ npx concierge backup', concierge: `${run.stdout.trim()}\nopened the copy: integrity_check ${checked}, ${members} members`, discord: '' };
  });

  await step('`concierge jobs`: the queue by kind, no dead letters', async () => {
    const run = await succeeded(['jobs'], startLater().jobs);
    check(!run.stdout.includes('dead letters ('), 'no dead letters listed', run.stdout);
    const rows = run.stdout.trim().split('\n');
    const deadColumn = rows[0]?.trim().split(/\s+/).indexOf('dead') ?? -1;
    check(rows.slice(1).every((r) => deadColumn < 0 || r.trim().split(/\s+/)[deadColumn] === '0'), 'a dead count of 0 for every kind', run.stdout);
    return { did: '$ npx concierge jobs', concierge: run.stdout.trimEnd(), discord: '' };
  });

  await step('/metrics for Prometheus', async () => {
    const res = await fetch(`${stage.serviceUrl}/metrics`, { headers: { authorization: `Bearer ${stage.metricsToken}` } });
    const text = await res.text();
    check(res.status === 200, '/metrics to answer 200 with the bearer token', `${res.status}`);
    const ours = text.split('\n').filter((l) => l.startsWith('concierge_') && !/^concierge_(process|nodejs)_/.test(l) && !l.includes('_bucket{'));
    const value = (re: RegExp) => Number(ours.find((l) => re.test(l))?.split(' ').at(-1) ?? NaN);
    check(value(/^concierge_webhooks_total\{result="stored"\}/) > 10, 'stored webhooks counted', ours.join('\n'));
    check(value(/^concierge_webhooks_total\{result="bad_signature"\}/) >= 1, 'the forged webhook counted as bad_signature', ours.join('\n'));
    const dead = value(/^concierge_jobs\{status="dead"\}/);
    check(Number.isNaN(dead) || dead === 0, 'no dead jobs', ours.join('\n'));
    const unauthorised = (await fetch(`${stage.serviceUrl}/metrics`)).status;
    check(unauthorised === 401, 'no metrics without the token', `${unauthorised}`);
    return { did: `GET /metrics (Authorization: Bearer …)`, concierge: readable(ours.slice(0, 12).join('\n')), discord: '' };
  });
}

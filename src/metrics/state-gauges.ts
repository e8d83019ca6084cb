import { Gauge, type Registry } from 'prom-client';

/**
 * Gauges read on each scrape rather than kept up to date: the store (and the
 * backup folder) is the truth, survives restarts, and sees what the CLI did
 * too. Each read is an index-only query (store/metrics-repo.ts), so a scrape
 * stays in milliseconds at 100,000 members.
 */

export type GatewayStateName = 'connecting' | 'ready' | 'reconnecting' | 'closed';
const GATEWAY_STATES: readonly GatewayStateName[] = ['connecting', 'ready', 'reconnecting', 'closed'];

/** The last scheduled reconciliation, as app/reconcile-schedule.ts records it. */
export interface LastReconcile {
  at: number;
  completed: boolean;
  differences: Record<string, number>;
}

export interface StateSources {
  /** Service clock, ms. */
  clock(): number;
  /** Every job kind the runner knows: each gets an oldest-due series, zero when none is due. */
  jobKinds: readonly string[];
  openJobs(): { kind: string; status: string; n: number }[];
  earliestQueuedRunAt(kind: string): number | null;
  membersByTier(): { tier: string; n: number }[];
  gatewayState(): GatewayStateName;
  /** Time (ms) of the newest checked backup in BACKUP_DIR, null when there is none. */
  lastBackupAt(): number | null;
  lastReconcile(): LastReconcile | null;
}

const seconds = (ms: number): number => Math.floor(ms / 1000);

export function registerStateGauges(registers: Registry[], s: StateSources): void {
  new Gauge({
    name: 'concierge_jobs',
    help: 'Jobs in the queue that are not done, by kind and status (queued, running, dead) (count)',
    labelNames: ['kind', 'status'] as const,
    registers,
    collect() {
      this.reset();
      for (const r of s.openJobs()) this.set({ kind: r.kind, status: r.status }, r.n);
    },
  });
  new Gauge({
    name: 'concierge_job_oldest_due_age_seconds',
    help: 'How long the oldest due queued job of each kind has been waiting past its run time; 0 when none is due (seconds)',
    labelNames: ['kind'] as const,
    registers,
    collect() {
      const now = s.clock();
      for (const kind of s.jobKinds) {
        const at = s.earliestQueuedRunAt(kind);
        this.set({ kind }, at === null || at > now ? 0 : (now - at) / 1000);
      }
    },
  });
  new Gauge({
    name: 'concierge_members',
    help: 'Members entitled to a tier now (paid, in grace, or granted), by tier key (count)',
    labelNames: ['tier'] as const,
    registers,
    collect() {
      this.reset();
      for (const r of s.membersByTier()) this.set({ tier: r.tier }, r.n);
    },
  });
  registerGatewayGauges(registers, s);
  registerOperationGauges(registers, s);
}

function registerGatewayGauges(registers: Registry[], s: StateSources): void {
  new Gauge({
    name: 'concierge_discord_gateway_up',
    help: 'Whether the Discord gateway session is ready (1) or not (0: connecting, reconnecting or closed)',
    registers,
    collect() {
      this.set(s.gatewayState() === 'ready' ? 1 : 0);
    },
  });
  new Gauge({
    name: 'concierge_discord_gateway_state',
    help: 'The Discord gateway state: 1 for the current one of connecting, ready, reconnecting, closed',
    labelNames: ['state'] as const,
    registers,
    collect() {
      const now = s.gatewayState();
      for (const state of GATEWAY_STATES) this.set({ state }, state === now ? 1 : 0);
    },
  });
}

function registerOperationGauges(registers: Registry[], s: StateSources): void {
  new Gauge({
    name: 'concierge_backup_last_success_timestamp_seconds',
    help: 'When the newest backup in BACKUP_DIR that passed its integrity check was taken; 0 when there is none (unix seconds)',
    registers,
    collect() {
      this.set(seconds(s.lastBackupAt() ?? 0));
    },
  });
  new Gauge({
    name: 'concierge_reconcile_last_run_timestamp_seconds',
    help: 'When the last scheduled reconciliation finished, complete or not; 0 when none has run (unix seconds)',
    registers,
    collect() {
      this.set(seconds(s.lastReconcile()?.at ?? 0));
    },
  });
  new Gauge({
    name: 'concierge_reconcile_last_run_completed',
    help: 'Whether the last scheduled reconciliation checked everything (1) or stopped early, e.g. PayPal unreachable (0)',
    registers,
    collect() {
      this.reset();
      const last = s.lastReconcile();
      if (last !== null) this.set(last.completed ? 1 : 0);
    },
  });
  new Gauge({
    name: 'concierge_reconcile_differences',
    help: 'Differences the last scheduled reconciliation found (and corrected), by check: paypal, events, discord (count)',
    labelNames: ['check'] as const,
    registers,
    collect() {
      this.reset();
      for (const [check, n] of Object.entries(s.lastReconcile()?.differences ?? {})) this.set({ check }, n);
    },
  });
}

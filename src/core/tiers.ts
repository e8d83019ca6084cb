import { z } from 'zod';

/**
 * The tiers file schema (SPEC "Contracts"). Pure: parsing and cross-checks
 * only; reading and watching the file lives in src/tiers.ts.
 */

const snowflake = z.string().regex(/^\d{17,20}$/, 'must be a Discord id in quotes (17–20 digits)');

const planId = z.string().regex(/^P-[A-Z0-9]+$/, 'must be a PayPal plan id such as P-1AB23456CD789012EF345678');
/** What a member picks in /subscribe's `plan` option ("Monthly", "Yearly"); Discord allows 100 characters. */
const planName = z.string().trim().min(1).max(40);

// Strict objects throughout: a misspelt key (`grace_day: 7`, `role-id`) is refused by name instead of being
// dropped silently while its default (3 grace days, no role) takes effect.
const tierSchema = z
  .strictObject({
    key: z.string().regex(/^[a-z0-9_-]+$/, 'must use only a-z, 0-9, _ and -'),
    name: z.string().min(1).max(100),
    rank: z.number().int(),
    role_id: snowflake,
    /** A plan is its id, or `{ id, name }` when a tier sells several (monthly, yearly…) and members choose by name. */
    plans: z.array(z.union([planId, z.strictObject({ id: planId, name: planName })])).min(1),
    price: z.string().max(100).optional(),
    description: z.string().max(500).optional(),
  })
  .transform(({ plans, ...tier }) => ({
    ...tier,
    plans: plans.map((p) => (typeof p === 'string' ? p : p.id)),
    /** One entry per plan, in file order; unnamed plans are "Plan 1", "Plan 2"… */
    plan_options: plans.map((p, i) => ({ id: typeof p === 'string' ? p : p.id, name: typeof p === 'string' ? `Plan ${i + 1}` : p.name })),
  }));

const scriptSchema = z.strictObject({
  key: z.string().regex(/^[a-z0-9_-]+$/, 'must use only a-z, 0-9, _ and -'),
  name: z.string().min(1).max(100),
  min_tier: z.string(),
});

const policySchema = z.strictObject({
  grace_days: z.number().min(0).max(60).default(3),
  on_cancel: z.enum(['period_end', 'immediate']).default('period_end'),
  on_manual_role_edit: z.enum(['revert', 'report']).default('revert'),
  /** A partial refund is often goodwill (a discount after a complaint): by default it keeps access; `revoke` treats it like a full refund. */
  on_partial_refund: z.enum(['keep', 'revoke']).default('keep'),
});

function duplicates<T>(values: T[]): T[] {
  const seen = new Set<T>();
  const dup = new Set<T>();
  for (const v of values) (seen.has(v) ? dup : seen).add(v);
  return [...dup];
}

export const tiersFileSchema = z
  .strictObject({
    tiers: z.array(tierSchema).min(1, 'must list at least one tier'),
    scripts: z.array(scriptSchema).default([]),
    policy: policySchema.default({ grace_days: 3, on_cancel: 'period_end', on_manual_role_edit: 'revert', on_partial_refund: 'keep' }),
    staff_role_ids: z.array(snowflake).default([]),
  })
  .superRefine((file, ctx) => {
    const check = (values: (string | number)[], what: string, path: string) => {
      for (const d of duplicates(values)) ctx.addIssue({ code: 'custom', path: [path], message: `two tiers share ${what} ${JSON.stringify(d)}; each must be unique` });
    };
    check(file.tiers.map((t) => t.key), 'key', 'tiers');
    check(file.tiers.map((t) => t.rank), 'rank', 'tiers');
    check(file.tiers.map((t) => t.role_id), 'role_id', 'tiers');
    check(file.tiers.flatMap((t) => t.plans), 'plan', 'tiers');
    file.tiers.forEach((t, i) => {
      // zod still runs this refinement when a tier failed its own schema, and then its transform has not run.
      const options: readonly { name: string }[] = (t as Partial<typeof t>).plan_options ?? [];
      for (const d of duplicates(options.map((p) => p.name.toLowerCase()))) {
        ctx.addIssue({ code: 'custom', path: ['tiers', i, 'plans'], message: `tier ${t.key} names two plans ${JSON.stringify(d)}; each plan name must be unique within a tier` });
      }
    });
    for (const d of duplicates(file.scripts.map((s) => s.key))) {
      ctx.addIssue({ code: 'custom', path: ['scripts'], message: `two scripts share key ${JSON.stringify(d)}` });
    }
    const keys = new Set(file.tiers.map((t) => t.key));
    file.scripts.forEach((s, i) => {
      if (!keys.has(s.min_tier)) ctx.addIssue({ code: 'custom', path: ['scripts', i, 'min_tier'], message: `script ${s.key} needs tier ${JSON.stringify(s.min_tier)}, which is not defined in tiers` });
    });
  });

export type TiersFile = z.output<typeof tiersFileSchema>;
export type Tier = TiersFile['tiers'][number];
export type Script = TiersFile['scripts'][number];
export type Policy = TiersFile['policy'];

/** A parsed tiers file plus the lookups every consumer needs. */
export interface TierCatalog {
  readonly file: TiersFile;
  readonly tiers: readonly Tier[]; // sorted by rank, lowest first
  readonly policy: Policy;
  byKey(key: string): Tier | undefined;
  byPlan(planId: string): Tier | undefined;
  /** Role ids that some tier manages: the only roles role sync may touch. */
  readonly managedRoleIds: ReadonlySet<string>;
}

export function buildCatalog(file: TiersFile): TierCatalog {
  const tiers = [...file.tiers].sort((a, b) => a.rank - b.rank);
  const byKey = new Map(tiers.map((t) => [t.key, t]));
  const byPlan = new Map(tiers.flatMap((t) => t.plans.map((p) => [p, t] as const)));
  return {
    file,
    tiers,
    policy: file.policy,
    byKey: (key) => byKey.get(key),
    byPlan: (plan) => byPlan.get(plan),
    managedRoleIds: new Set(tiers.map((t) => t.role_id)),
  };
}

/** Access is cumulative by rank: a tier unlocks every script whose minimum tier ranks at or below it. */
export function unlocks(catalog: TierCatalog, tier: Tier, script: Script): boolean {
  const min = catalog.byKey(script.min_tier);
  return min !== undefined && tier.rank >= min.rank;
}

/** The catalogue scripts `tier` unlocks, in file order. */
export function listUnlockedScripts(catalog: TierCatalog, tier: Tier): Script[] {
  return catalog.file.scripts.filter((s) => unlocks(catalog, tier, s));
}

export type ParseTiersResult = { ok: true; catalog: TierCatalog } | { ok: false; problems: string[] };

/** zod's wording, except for a required field left out, which it words as a type error ("expected string, received undefined"). */
function describeIssue(i: z.core.$ZodIssue): string {
  return i.code === 'invalid_type' && /received undefined$/.test(i.message) ? `missing (required, ${i.expected})` : i.message;
}

/** Validates an already-parsed YAML document. */
export function parseTiers(doc: unknown): ParseTiersResult {
  const parsed = tiersFileSchema.safeParse(doc);
  if (!parsed.success) {
    return { ok: false, problems: parsed.error.issues.map((i) => `${i.path.length > 0 ? i.path.join('.') : '(file)'}: ${describeIssue(i)}`) };
  }
  return { ok: true, catalog: buildCatalog(parsed.data) };
}

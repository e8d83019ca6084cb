import { SEVERITY_COLORS, type Embed } from './messages.ts';
import type { MemberSerial } from './serial.ts';
import { unlocks, type Script, type Tier, type TierCatalog } from './tiers.ts';

/**
 * Which catalogue scripts a tier unlocks, and the /scripts embed. Access is
 * cumulative by rank (SPEC "Tiers"): a script is unlocked when the member's
 * tier ranks at least as high as the script's `min_tier`. Pure.
 */

export interface ScriptAccess {
  script: Script;
  unlocked: boolean;
  /** The lowest tier that unlocks it (undefined only if the tiers file lost it, which validation prevents). */
  minTier: Tier | undefined;
}

/** Every script of the catalogue, in file order, with whether `tier` unlocks it. */
export function listScriptAccess(tier: Tier | null, catalog: TierCatalog): ScriptAccess[] {
  return catalog.file.scripts.map((script) => {
    const minTier = catalog.byKey(script.min_tier);
    return { script, minTier, unlocked: tier !== null && unlocks(catalog, tier, script) };
  });
}

/** Discord caps an embed description at 4096 characters; leave room for the "…and N more" line. */
const DESCRIPTION_BUDGET = 3900;

/** Lines under a heading, cut (with a count of the rest) once the description would pass Discord's limit. */
function section(out: string[], heading: string, lines: string[], used: () => number): void {
  if (lines.length === 0) return;
  out.push(heading);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] ?? '';
    if (used() + line.length + 40 > DESCRIPTION_BUDGET) {
      out.push(`…and ${lines.length - i} more`);
      return;
    }
    out.push(line);
  }
}

/**
 * /scripts: the member's unlocked scripts, each with its serial (SPEC
 * "Serials"), and the locked ones with the tier that unlocks each. A
 * serial shows only while active; a locked script whose serial is
 * suspended says the same serial comes back with the tier.
 */
export function scriptsEmbed(tier: Tier | null, catalog: TierCatalog, serials: readonly MemberSerial[] = []): Embed {
  const access = listScriptAccess(tier, catalog);
  const active = new Map(serials.filter((s) => s.status === 'active').map((s) => [s.scriptKey, s.serial]));
  const suspended = new Set(serials.filter((s) => s.status === 'suspended').map((s) => s.scriptKey));
  if (access.length === 0) {
    return { title: 'Scripts', description: 'This server has no scripts in its catalogue yet.', color: SEVERITY_COLORS.info };
  }
  const unlocked = access.filter((a) => a.unlocked);
  const locked = access.filter((a) => !a.unlocked);
  const out: string[] = [];
  const used = () => out.join('\n').length;
  if (tier === null) out.push('You have no membership, so every script is locked. Use `/subscribe` to get a tier.', '');
  section(
    out,
    `**Unlocked with ${tier?.name ?? 'no tier'}** (${unlocked.length} of ${access.length})`,
    unlocked.map((a) => {
      const serial = active.get(a.script.key);
      return `• ${a.script.name}${serial === undefined ? '' : ` — serial \`${serial}\``}`;
    }),
    used,
  );
  if (unlocked.length > 0 && locked.length > 0) out.push('');
  section(
    out,
    '**Locked**',
    locked.map((a) => `• ${a.script.name} — needs ${a.minTier?.name ?? a.script.min_tier}${suspended.has(a.script.key) ? ' (your serial is suspended until then)' : ''}`),
    used,
  );
  if (tier !== null && locked.length > 0) out.push('', 'Use `/subscribe` to move to a higher tier.');
  return {
    title: tier === null ? 'Scripts' : `Your scripts (${tier.name})`,
    description: out.join('\n'),
    color: tier === null ? SEVERITY_COLORS.info : SEVERITY_COLORS.success,
  };
}

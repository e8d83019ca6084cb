import type { Actions } from './actions.ts';
import { playMarketplaceChapter } from './chapters/marketplace.ts';
import { playMemberChapter } from './chapters/member.ts';
import { playOperationsChapter } from './chapters/operations.ts';
import { playSerialsChapter } from './chapters/serials.ts';
import { playStaffChapter } from './chapters/staff.ts';
import type { MemberRow, Report } from './report.ts';
import { createScene, MEMBERS, type MemberName } from './scene.ts';
import type { Stage } from './stage.ts';

/**
 * The demo's story, chapter by chapter (chapters/): the member lifecycle,
 * staff at work, serials and the license API, the marketplace sync, and the
 * operator's tools. Every step goes through the real interfaces and is
 * checked; a step that does not hold stops the story and is named in the
 * result. Every new feature adds its part to a chapter (README "For
 * contributors").
 */

export { MEMBERS, type MemberName } from './scene.ts';

/** Each member's tier roles when the story ends. */
const EXPECTED_END: Record<MemberName, string[]> = {
  alice: ['Legendary'],
  bob: ['Elite'],
  // Cancelled at PayPal without a webhook; reconcile applies it, and the paid month is kept (policy period_end).
  carol: ['Titan'],
  dave: [],
  erin: [],
  // Revoked by staff with the PayPal cancel: the paid month is kept.
  frank: ['Legendary'],
  // A 7-day staff grant that ran out.
  gina: [],
  // Back on a subscription after her grant ended.
  hana: ['Elite'],
  jack: ['Elite'],
};

export interface StoryResult {
  ok: boolean;
  /** The title of the step that did not hold. */
  failedStep: string | null;
  steps: number;
  members: MemberRow[];
}

export async function playStory(stage: Stage, act: Actions, report: Report): Promise<StoryResult> {
  const scene = createScene(stage, act, report);
  await playMemberChapter(scene);
  await playStaffChapter(scene);
  await playSerialsChapter(scene);
  await playMarketplaceChapter(scene);
  await playOperationsChapter(scene);

  const members = (Object.keys(MEMBERS) as MemberName[]).map((who) => ({ name: who, expected: EXPECTED_END[who], actual: act.tierRoles(MEMBERS[who]) }));
  report.heading('Audit channel — what staff read');
  report.audit(stage.discord.messages(stage.discord.auditChannelId), scene.readable);
  report.heading('Members — expected vs Discord');
  report.table(members);
  if (!members.every((m) => scene.same(m.actual, m.expected))) scene.fail('final table');
  return { ok: scene.failedStep() === null, failedStep: scene.failedStep(), steps: scene.steps(), members };
}

import { createActions } from './actions.ts';
import { createReport } from './report.ts';
import { startStage, type Stage } from './stage.ts';
import { playStory, type StoryResult } from './story.ts';

/**
 * One demo run: the stage up, the story played and reported, everything
 * stopped. `prepare` runs on the stage before the story (a test breaks a step
 * on purpose there, e.g. a Discord fault).
 */
export interface DemoOptions {
  write: (text: string) => void;
  color: boolean;
  prepare?: (stage: Stage) => void;
}

export interface DemoResult extends StoryResult {
  ms: number;
}

export async function runDemo(o: DemoOptions): Promise<DemoResult> {
  const started = performance.now();
  const report = createReport(o.write, o.color);
  report.heading('Concierge demo — the real service against local Discord, PayPal and marketplace stand-ins');
  report.note('starting the Discord, PayPal and marketplace stand-ins, then Concierge (node --import tsx src/main.ts) with a temporary database …');
  const stage = await startStage();
  let result: StoryResult;
  try {
    report.note(`Concierge is up at ${stage.serviceUrl} (started in ${Math.round(performance.now() - started)} ms)`);
    o.prepare?.(stage);
    result = await playStory(stage, createActions(stage), report);
    if (!result.ok && stage.serviceOutput().trim() !== '') {
      report.heading("Concierge's log (warnings and errors)");
      o.write(`${stage.serviceOutput().trim().split('\n').slice(-30).join('\n')}\n`);
    }
  } finally {
    await stage.close();
  }
  const ms = Math.round(performance.now() - started);
  report.verdict(result.ok, result.ok ? `The story held: ${result.steps} steps, every member as expected (${(ms / 1000).toFixed(1)} s).` : `The story did not hold: step "${result.failedStep}" failed (${(ms / 1000).toFixed(1)} s).`);
  return { ...result, ms };
}

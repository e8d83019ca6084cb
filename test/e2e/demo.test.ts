import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { runDemo } from '../../src/demo/run-demo.ts';
import { MEMBERS } from '../../src/demo/story.ts';

/**
 * `npm run demo` (SPEC "Contracts"): with no environment beyond PATH and HOME
 * it runs the real service against the stand-ins and exits 0 with its final
 * table; a step that does not hold makes it exit non-zero naming that step.
 * The story itself also proves CLOCK_OFFSET_FILE + SIGUSR2 move the real
 * process's clock: erin's cancelled membership lapses, and bob's downgrade
 * takes effect, only because the offset passes their paid-through time.
 */

const ROOT = new URL('../../', import.meta.url).pathname;

function npmRunDemo(): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const child = spawn('npm', ['run', '--silent', 'demo'], { cwd: ROOT, env: { PATH: process.env['PATH'], HOME: process.env['HOME'] }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    child.on('exit', (code) => resolve({ code, out }));
  });
}

describe('npm run demo', { timeout: 90_000 }, () => {
  it('plays the whole story and exits 0 with the final table, in plain text through a pipe', async () => {
    const { code, out } = await npmRunDemo();
    expect(code, out).toBe(0);
    expect(out).not.toContain('\x1b[');
    expect(out).toContain('Timeline — member → Concierge → Discord');
    expect(out).toContain('Audit channel — what staff read');
    expect(out).toMatch(/past the paid period: erin lapses, bob moves to Elite\s+\d+ ms {2}ok/);
    expect(out).toMatch(/^ {3}erin +— +— +ok$/m);
    expect(out).toMatch(/^ {3}carol +Titan +Titan +ok$/m);
    expect(out).not.toMatch(/ms {2}FAILED/);
    expect(out).toMatch(/The story held: \d+ steps/);
  });

  it('a Discord that refuses the role for one member fails that step by name', async () => {
    let out = '';
    const result = await runDemo({
      write: (t) => (out += t),
      color: false,
      // Discord refuses every role change for bob (as when the bot's role sits below the tier role).
      prepare: (stage) => void stage.discord.fault({ method: 'PUT', path: new RegExp(`/members/${MEMBERS.bob}/roles/`), status: 403, body: { message: 'Missing Permissions', code: 50013 } }),
    });
    expect(result.ok).toBe(false);
    expect(result.failedStep).toBe('bob subscribes to Titan');
    expect(out).toMatch(/bob subscribes to Titan\s+\d+ ms {2}FAILED/);
    expect(out).toContain('bob to hold Titan at Discord');
    expect(out).toContain('The story did not hold: step "bob subscribes to Titan" failed');
    expect(result.members.find((m) => m.name === 'alice')?.actual).toEqual(['Legendary']);
  });
});

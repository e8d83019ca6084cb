import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { checkSizes, reportSizes } from '../../scripts/check-sizes.ts';

/**
 * The CI checks of README "Code layout" (dependency-cruiser with
 * .dependency-cruiser.cjs, scripts/check-sizes.ts) on small trees written here: each rule is broken
 * once in a way the script must see, next to imports it must let through.
 */

const CONFIG = resolve('.dependency-cruiser.cjs');
const DEPCRUISE = resolve('node_modules/dependency-cruiser/bin/dependency-cruise.mjs');

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** Writes files (path → text) under a fresh temp folder; returns its src/ path. */
function tree(files: Record<string, string>): string {
  const root = mkdtempSync(join(tmpdir(), 'concierge-layout-'));
  dirs.push(root);
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), text);
  }
  return join(root, 'src');
}

const BROKEN = {
  'src/core/a.ts': "import { z } from 'zod';\nimport { readFileSync } from 'node:fs';\nimport { openStore } from '../store/db.ts';\nimport { b } from './b.ts';\nexport const a = [z, readFileSync, openStore, b];\n",
  'src/core/b.ts': 'export const b = 1;\nexport type T = number;\n',
  'src/store/db.ts': "import type { T } from '../core/b.ts';\nimport { type T as U } from '../core/b.ts';\nimport { b } from '../core/b.ts';\nimport { describe } from '../errors.ts';\nexport const openStore = (t: T, u: U) => [t, u, b, describe];\n",
  'src/jobs/runner.ts': [
    "import type { UseCase } from '../app/use.ts';",
    "export { post } from '../discord/post.ts';",
    "import { openStore } from '../store/db.ts';",
    'export async function run(u: UseCase) {',
    "  const s = await import('../http/server.ts');",
    '  return [u, s, openStore];',
    '}',
    '',
  ].join('\n'),
  'src/app/use.ts': "export type UseCase = 1;\nexport const w = new URL('../http/worker.ts', import.meta.url);\nexport const data = new URL('./tiers.yaml', import.meta.url);\n",
  'src/discord/post.ts': "import { route } from '../http/server.ts';\nexport const post = route;\n",
  'src/http/server.ts': "import { post } from '../discord/post.ts';\nexport const route = post;\n",
  'src/errors.ts': "import { run } from './jobs/runner.ts';\nexport const describe = run;\n",
  'src/cli/main.ts': "import '../http/server.ts';\nimport '../discord/post.ts';\n",
};

/** Runs dependency-cruiser with the project's rules on a tree written here; returns "from → to (rule)" lines. */
function cruise(src: string): string[] {
  const root = dirname(src);
  const out = execFileSync(process.execPath, [DEPCRUISE, 'src', '--config', CONFIG, '--output-type', 'json'], { cwd: root, encoding: 'utf8' });
  const result = JSON.parse(out) as { summary: { violations: { from: string; to: string; rule: { name: string } }[] } };
  return result.summary.violations.map((v) => `${v.from} → ${v.to.replace(/^.*node_modules\//, '')} (${v.rule.name})`).sort();
}

describe('the layering rules (.dependency-cruiser.cjs, npm run check:imports)', () => {
  it('finds every import that breaks a layering rule, and only those', () => {
    expect(cruise(tree(BROKEN))).toEqual([
      'src/core/a.ts → fs (core-has-no-io)', // core is pure: zod is its only package
      'src/core/a.ts → src/store/db.ts (core-is-pure)',
      'src/discord/post.ts → src/http/server.ts (discord-not-http)',
      'src/http/server.ts → src/discord/post.ts (http-not-discord)',
      'src/jobs/runner.ts → src/app/use.ts (jobs-below-use-cases)', // a type-only import still ties the layers
      'src/jobs/runner.ts → src/discord/post.ts (jobs-below-use-cases)', // re-export
      'src/jobs/runner.ts → src/http/server.ts (jobs-below-use-cases)', // import()
      'src/store/db.ts → src/core/b.ts (store-on-core-types)', // a value, not a type
      'src/store/db.ts → src/errors.ts (store-on-core-only)',
    ]);
  }, 30_000);

  it('passes a tree that keeps the rules', () => {
    const clean = tree({
      'src/core/a.ts': "import { z } from 'zod';\nimport { b } from './b.ts';\nexport const a = [z, b];\n",
      'src/core/b.ts': 'export type B = 1;\nexport const b = 1;\n',
      'src/store/repo.ts': "import type { B } from '../core/b.ts';\nimport { db } from './db.ts';\nexport const repo = (x: B) => [x, db];\n",
      'src/store/db.ts': 'export const db = 1;\n',
      'src/app/use.ts': "import { repo } from '../store/repo.ts';\nimport { enqueue } from '../jobs/queue.ts';\nexport const use = [repo, enqueue];\n",
      'src/jobs/queue.ts': "import { db } from '../store/db.ts';\nexport const enqueue = db;\n",
      'src/discord/roles.ts': "import { use } from '../app/use.ts';\nexport const roles = use;\n",
      'src/http/server.ts': "import { use } from '../app/use.ts';\nexport const server = use;\n",
    });
    expect(cruise(clean)).toEqual([]);
  }, 30_000);
});

describe('scripts/check-sizes.ts', () => {
  const lines = (n: number, prefix = '') => `${prefix}${Array.from({ length: n - prefix.split('\n').length + 1 }, (_, i) => `export const v${i} = ${i};`).join('\n')}\n`;
  const body = (n: number) => Array.from({ length: n }, (_, i) => `  const x${i} = ${i};`).join('\n');

  it('fails a file over 300 lines unless a // size: comment near the top says why', () => {
    const src = tree({
      'src/big.ts': lines(301),
      'src/big-with-reason.ts': lines(301, '// size: one generated table, split would scatter it\n'),
      'src/fine.ts': lines(300),
    });
    const out: string[] = [];
    expect(reportSizes(src, (l) => out.push(l))).toBe(1);
    expect(out[1]).toBe("src/big.ts: 301 lines (over 300: split it, or say why in a '// size: <reason>' comment near the top)");
    const report = checkSizes(src);
    expect(report.files).toEqual([
      { file: 'src/big-with-reason.ts', lines: 301, reason: 'one generated table, split would scatter it' },
      { file: 'src/big.ts', lines: 301, reason: null },
    ]);
  });

  it("reports functions over 60 lines of their own; a factory's closures count for themselves", () => {
    const factory = `export function createThing() {\n  return {\n    a() {\n${body(40)}\n    },\n    b() {\n${body(40)}\n    },\n  };\n}\n`;
    const long = `// size: a flat table of cases reads best in one place\nexport function decide() {\n${body(61)}\n}\nconst helper = () => {\n${body(70)}\n};\n`;
    const report = checkSizes(tree({ 'src/factory.ts': factory, 'src/long.ts': long }));
    expect(report.functions).toEqual([
      { file: 'src/long.ts', line: 2, name: 'decide', lines: 63, reason: 'a flat table of cases reads best in one place' },
      { file: 'src/long.ts', line: 65, name: 'helper', lines: 72, reason: null },
    ]);
  });
});

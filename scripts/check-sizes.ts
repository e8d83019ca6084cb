import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import ts from 'typescript';
import { listSourceFiles } from './source-files.ts';

/**
 * STYLE rule 3 in numbers, checked in CI: `node --import tsx
 * scripts/check-sizes.ts [srcDir]` fails for a file over MAX_FILE_LINES
 * lines unless a `// size: <reason>` comment near its top says why, and
 * lists functions with more than LONG_FUNCTION_LINES lines of their own (a report, not a failure:
 * a long table-like function can be the clearest form; a `// size: <reason>`
 * comment just above one marks it as considered).
 */

export const MAX_FILE_LINES = 300;
export const LONG_FUNCTION_LINES = 60;
/** How far down the file a `// size:` reason may sit (after the imports of a big file). */
const REASON_WITHIN_LINES = 30;
const SIZE_REASON = /^\s*\/\/\s*size:\s*\S/;

export interface OversizedFile {
  file: string;
  lines: number;
  /** The `// size:` reason, or null when there is none (a failure). */
  reason: string | null;
}

export interface LongFunction {
  file: string;
  line: number;
  name: string;
  lines: number;
  reason: string | null;
}

export interface SizeReport {
  files: OversizedFile[];
  functions: LongFunction[];
}

function countLines(text: string): number {
  return text.length === 0 ? 0 : text.split('\n').length - (text.endsWith('\n') ? 1 : 0);
}

function reasonIn(lines: readonly string[]): string | null {
  const hit = lines.find((l) => SIZE_REASON.test(l));
  return hit === undefined ? null : hit.replace(/^\s*\/\/\s*size:\s*/, '').trim();
}

/** A readable name for a function node: its own name, the variable or property it is assigned to, or `(anonymous)`. */
function nameOf(node: ts.FunctionLikeDeclaration, source: ts.SourceFile): string {
  if (node.name !== undefined) return node.name.getText(source);
  const parent = node.parent;
  if ((ts.isVariableDeclaration(parent) || ts.isPropertyAssignment(parent)) && parent.name !== undefined) return parent.name.getText(source);
  return '(anonymous)';
}

/**
 * Functions whose own code runs over `limit` lines, with the `// size:` reason
 * in the lines just above, if any. A function's own lines leave out the
 * functions nested in it: a factory that returns a dozen closures is as long
 * as its longest closure, not as all of them together.
 */
export function findLongFunctions(file: string, text: string, limit = LONG_FUNCTION_LINES): LongFunction[] {
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
  const allLines = text.split('\n');
  const found: LongFunction[] = [];
  const lineOf = (pos: number): number => source.getLineAndCharacterOfPosition(pos).line;
  const spanOf = (node: ts.Node): number => lineOf(node.getEnd()) - lineOf(node.getStart(source)) + 1;
  const isFunction = (node: ts.Node): node is ts.FunctionLikeDeclaration => ts.isFunctionLike(node) && 'body' in node && node.body !== undefined;
  /** Lines taken by the outermost functions nested under node. */
  const nestedLines = (node: ts.Node): number => {
    let sum = 0;
    ts.forEachChild(node, (child) => {
      sum += isFunction(child) ? spanOf(child) : nestedLines(child);
    });
    return sum;
  };
  const visit = (node: ts.Node): void => {
    if (isFunction(node) && node.body !== undefined) {
      const lines = spanOf(node) - nestedLines(node.body);
      if (lines > limit) {
        const start = lineOf(node.getStart(source));
        // The statement that holds the function (export, const, property) may start a few lines above it.
        const reason = reasonIn(allLines.slice(Math.max(0, start - 3), start + 1));
        found.push({ file, line: start + 1, name: nameOf(node, source), lines, reason });
      }
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

export function checkSizes(srcDir: string): SizeReport {
  const root = resolve(srcDir);
  const base = dirname(root);
  const report: SizeReport = { files: [], functions: [] };
  for (const file of listSourceFiles(root, base)) {
    const text = readFileSync(join(base, file), 'utf8');
    const lines = countLines(text);
    if (lines > MAX_FILE_LINES) report.files.push({ file, lines, reason: reasonIn(text.split('\n').slice(0, REASON_WITHIN_LINES)) });
    report.functions.push(...findLongFunctions(file, text));
  }
  return report;
}

/** Writes oversized files and long functions; returns the exit code (1 when a file is over the limit without a reason). */
export function reportSizes(srcDir: string, out: (line: string) => void): number {
  const { files, functions } = checkSizes(srcDir);
  const unexplained = files.filter((f) => f.reason === null);
  for (const f of files) out(`${f.file}: ${f.lines} lines${f.reason === null ? ` (over ${MAX_FILE_LINES}: split it, or say why in a '// size: <reason>' comment near the top)` : ` (size: ${f.reason})`}`);
  if (functions.length > 0) {
    out(`\nFunctions with more than ${LONG_FUNCTION_LINES} lines of their own (nested functions not counted; a report, not a failure):`);
    for (const f of functions) out(`  ${f.file}:${f.line}  ${f.name}  ${f.lines} lines${f.reason === null ? '' : `  (size: ${f.reason})`}`);
  }
  if (unexplained.length > 0) {
    out(`\n${unexplained.length} file(s) over ${MAX_FILE_LINES} lines without a reason.`);
    return 1;
  }
  out(`\nno file in ${srcDir}/ is over ${MAX_FILE_LINES} lines without a reason`);
  return 0;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  process.exitCode = reportSizes(process.argv[2] ?? 'src', (line) => process.stdout.write(`${line}\n`));
}

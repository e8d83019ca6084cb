import { readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { pathToFileURL } from 'node:url';
import ts from 'typescript';
import { listSourceFiles } from './source-files.ts';

/**
 * The layering rules of src/ (README "Code layout"), checked in CI:
 * `node --import tsx scripts/check-imports.ts [srcDir]` prints every import
 * that breaks one, with file, line and specifier, and exits 1 if any does.
 *
 * A layer is the first folder under src/ (`jobs/runner.ts` is in `jobs`); a
 * file directly in src/ is a layer of its own (`errors.ts` is `errors`).
 * Imports are read with TypeScript's own parser, so `import type`, re-exports,
 * `import()` in code and in types, and a worker's `new URL('./x.ts',
 * import.meta.url)` all count; only relative specifiers are ours, the rest are
 * packages. dependency-cruiser would do this too; it is not a dependency and
 * these few rules do not need one.
 */

export interface LayerRule {
  layer: string;
  /** Layers of ours this one must never import. */
  forbids?: readonly string[];
  /** When set, the only other layers of ours it may import. */
  onlyFrom?: readonly string[];
  /** Imports allowed by onlyFrom must be type-only (`import type`, `export type`, `import('x').T`). */
  typesOnly?: boolean;
  /** When set, the only packages it may import (`node:` built-ins included). */
  packages?: readonly string[];
  /** The rule as README states it; printed with each violation. */
  text: string;
}

export const LAYER_RULES: readonly LayerRule[] = [
  { layer: 'core', onlyFrom: [], packages: ['zod'], text: 'core imports nothing of ours outside core, and no package but zod (it is pure: no I/O, no SDK)' },
  { layer: 'jobs', forbids: ['app', 'discord', 'paypal', 'http'], text: 'jobs (queue, runner, definitions) imports neither app, discord, paypal nor http' },
  { layer: 'discord', forbids: ['http'], text: 'discord and http never import each other' },
  { layer: 'http', forbids: ['discord'], text: 'discord and http never import each other' },
  { layer: 'store', onlyFrom: ['core'], typesOnly: true, text: 'store imports only core, and only its types' },
  { layer: 'app', forbids: ['discord', 'http'], text: 'app imports neither discord nor http' },
];

export interface ImportEdge {
  specifier: string;
  line: number;
  typeOnly: boolean;
}

export interface ImportViolation {
  /** Relative to the folder that holds srcDir, e.g. `src/jobs/runner.ts`. */
  file: string;
  line: number;
  specifier: string;
  from: string;
  /** The imported layer, or the package name. */
  to: string;
  rule: string;
}

/** Every module a file refers to: import/export declarations, import() calls and types, and `new URL(<code file>, import.meta.url)`. */
export function readImports(fileName: string, text: string): ImportEdge[] {
  const source = ts.createSourceFile(fileName, text, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
  const edges: ImportEdge[] = [];
  const add = (literal: ts.StringLiteralLike, typeOnly: boolean): void => {
    edges.push({ specifier: literal.text, line: source.getLineAndCharacterOfPosition(literal.getStart(source)).line + 1, typeOnly });
  };
  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node) && ts.isStringLiteral(node.moduleSpecifier)) {
      add(node.moduleSpecifier, isTypeOnlyImport(node.importClause));
    } else if (ts.isExportDeclaration(node) && node.moduleSpecifier !== undefined && ts.isStringLiteral(node.moduleSpecifier)) {
      const named = node.exportClause !== undefined && ts.isNamedExports(node.exportClause) ? node.exportClause.elements : undefined;
      add(node.moduleSpecifier, node.isTypeOnly || (named !== undefined && named.length > 0 && named.every((e) => e.isTypeOnly)));
    } else if (ts.isImportEqualsDeclaration(node) && ts.isExternalModuleReference(node.moduleReference) && ts.isStringLiteral(node.moduleReference.expression)) {
      add(node.moduleReference.expression, node.isTypeOnly);
    } else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument) && ts.isStringLiteral(node.argument.literal)) {
      add(node.argument.literal, true);
    } else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword && node.arguments[0] !== undefined && ts.isStringLiteralLike(node.arguments[0])) {
      add(node.arguments[0], false);
    } else if (isCodeUrl(node)) {
      add(node.arguments[0], false);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return edges;
}

function isTypeOnlyImport(clause: ts.ImportClause | undefined): boolean {
  if (clause === undefined) return false; // `import './x.ts'` runs the module
  if (clause.isTypeOnly) return true;
  if (clause.name !== undefined) return false;
  const bindings = clause.namedBindings;
  return bindings !== undefined && ts.isNamedImports(bindings) && bindings.elements.length > 0 && bindings.elements.every((e) => e.isTypeOnly);
}

/** `new URL('./writer.ts', import.meta.url)`: how a worker thread or child process names its module. Data files (.yaml, .pem) do not count. */
function isCodeUrl(node: ts.Node): node is ts.NewExpression & { arguments: readonly [ts.StringLiteralLike, ts.Expression] } {
  if (!ts.isNewExpression(node) || !ts.isIdentifier(node.expression) || node.expression.text !== 'URL') return false;
  const [first, second] = node.arguments ?? [];
  if (first === undefined || second === undefined || !ts.isStringLiteralLike(first) || !/\.[cm]?[jt]s$/.test(first.text)) return false;
  return ts.isPropertyAccessExpression(second) && ts.isMetaProperty(second.expression) && second.name.text === 'url';
}

/** The layer of a path relative to srcDir: its first folder, or the file's name without `.ts` for a file directly in src/. */
export function layerOf(pathInSrc: string): string {
  const [first, ...rest] = pathInSrc.split('/');
  return rest.length === 0 ? (first ?? '').replace(/\.ts$/, '') : (first ?? '');
}

/** `@scope/pkg/sub` → `@scope/pkg`, `drizzle-orm/sqlite-core` → `drizzle-orm`, `node:fs` stays. */
export function packageOf(specifier: string): string {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : (parts[0] ?? specifier);
}

function breaks(rule: LayerRule, to: string, ours: boolean, typeOnly: boolean): boolean {
  if (!ours) return rule.packages !== undefined && !rule.packages.includes(to);
  if (to === rule.layer) return false;
  if (rule.forbids?.includes(to) === true) return true;
  if (rule.onlyFrom === undefined) return false;
  return !rule.onlyFrom.includes(to) || (rule.typesOnly === true && !typeOnly);
}

/** Checks every .ts file under srcDir against the rules; violations in file order. */
export function findImportViolations(srcDir: string, rules: readonly LayerRule[] = LAYER_RULES): ImportViolation[] {
  const root = resolve(srcDir);
  const base = dirname(root);
  const violations: ImportViolation[] = [];
  for (const file of listSourceFiles(root, base)) {
    const abs = join(base, file);
    const from = layerOf(relative(root, abs).split(sep).join('/'));
    const applying = rules.filter((r) => r.layer === from);
    if (applying.length === 0) continue;
    for (const edge of readImports(abs, readFileSync(abs, 'utf8'))) {
      const ours = edge.specifier.startsWith('.');
      const inSrc = relative(root, resolve(dirname(abs), edge.specifier)).split(sep).join('/');
      const to = !ours ? packageOf(edge.specifier) : inSrc.startsWith('..') ? '(outside src)' : layerOf(inSrc);
      for (const rule of applying) {
        if (breaks(rule, to, ours, edge.typeOnly)) violations.push({ file, line: edge.line, specifier: edge.specifier, from, to, rule: rule.text });
      }
    }
  }
  return violations;
}

export function formatViolation(v: ImportViolation): string {
  return `${v.file}:${v.line}  ${v.from} → ${v.to}  '${v.specifier}'  (${v.rule})`;
}

/** Writes each violation, then a summary; returns the exit code (1 when any import breaks a rule). */
export function reportImportViolations(srcDir: string, write: (line: string) => void): number {
  const violations = findImportViolations(srcDir);
  for (const v of violations) write(formatViolation(v));
  if (violations.length === 0) {
    write(`import rules hold in ${srcDir}/`);
    return 0;
  }
  write(`\n${violations.length} import(s) break the layering rules (README "Code layout").`);
  return 1;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  process.exitCode = reportImportViolations(process.argv[2] ?? 'src', (line) => process.stdout.write(`${line}\n`));
}

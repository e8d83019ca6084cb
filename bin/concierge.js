#!/usr/bin/env node
// Thin launcher for `npx concierge`: runs the compiled CLI (dist/, built by `npm ci` through the `prepare`
// script), so no TypeScript loader starts with each command. Tests run the CLI from source (test/helpers/cli.ts).
import { existsSync } from 'node:fs';

const cli = new URL('../dist/cli/main.js', import.meta.url);
if (!existsSync(cli)) {
  process.stderr.write('Concierge is not built: run `npm run build` (`npm ci` runs it).\n');
  process.exit(1);
}
await import(cli.href);

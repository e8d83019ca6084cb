#!/usr/bin/env node
// Thin launcher: the CLI is TypeScript run through tsx, so `npx concierge`
// works right after `npm ci` with no build step.
import { register } from 'tsx/esm/api';

register();
await import('../src/cli/main.ts');

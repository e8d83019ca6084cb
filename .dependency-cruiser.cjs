/**
 * The layering rules of README "Code layout", checked in CI (`npm run check:imports`).
 * Paths are relative to the repository root; only our own modules are cruised.
 */
const layer = (name) => `^src/${name}/`;

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'core-is-pure',
      comment: 'core/ decides and returns data: it imports nothing of ours outside core/.',
      severity: 'error',
      from: { path: layer('core') },
      to: { path: '^src/', pathNot: layer('core') },
    },
    {
      name: 'core-has-no-io',
      comment: 'core/ does no I/O: no package but zod (no discord.js, fastify, drizzle, SDKs, node:fs, node:net…).',
      severity: 'error',
      from: { path: layer('core') },
      to: { dependencyTypes: ['npm', 'npm-dev', 'npm-optional', 'npm-peer', 'npm-no-pkg', 'npm-unknown', 'core'], pathNot: '(^|/)node_modules/zod/' },
    },
    {
      name: 'jobs-below-use-cases',
      comment: 'The queue (jobs/) knows no use case and no adapter: handlers live in job-handlers/.',
      severity: 'error',
      from: { path: layer('jobs') },
      to: { path: `${layer('app')}|${layer('discord')}|${layer('paypal')}|${layer('http')}|${layer('marketplace')}|${layer('job-handlers')}` },
    },
    {
      name: 'discord-not-http',
      comment: 'Two adapters never import each other; shared types live below both (app/ or core/).',
      severity: 'error',
      from: { path: layer('discord') },
      to: { path: layer('http') },
    },
    {
      name: 'http-not-discord',
      comment: 'Two adapters never import each other; shared types live below both (app/ or core/).',
      severity: 'error',
      from: { path: layer('http') },
      to: { path: layer('discord') },
    },
    {
      name: 'store-on-core-only',
      comment: 'store/ maps rows; the only thing of ours it may know is core/ types.',
      severity: 'error',
      from: { path: layer('store') },
      to: { path: '^src/', pathNot: `${layer('store')}|${layer('core')}` },
    },
    {
      name: 'store-on-core-types',
      comment: 'store/ uses core/ for types only: a decision made in store/ would hide from the use cases.',
      severity: 'error',
      from: { path: layer('store') },
      to: { path: layer('core'), dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'app-owns-its-ports',
      comment: 'app/ declares the ports it needs; discord/, http/ and marketplace/ implement or call them, never the reverse.',
      severity: 'error',
      from: { path: layer('app') },
      to: { path: `${layer('discord')}|${layer('http')}|${layer('marketplace')}` },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(node_modules|dist)/' },
    tsPreCompilationDeps: true,
    enhancedResolveOptions: { extensions: ['.ts', '.js', '.mjs', '.json'] },
  },
};

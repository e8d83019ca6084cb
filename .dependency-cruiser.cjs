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
      name: 'jobs-below-use-cases',
      comment: 'The queue (jobs/) knows no use case and no adapter: handlers live in job-handlers/.',
      severity: 'error',
      from: { path: layer('jobs') },
      to: { path: `${layer('app')}|${layer('discord')}|${layer('paypal')}|${layer('http')}|${layer('job-handlers')}` },
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
      name: 'app-owns-its-ports',
      comment: 'app/ declares the ports it needs; discord/ and http/ implement or call them, never the reverse.',
      severity: 'error',
      from: { path: layer('app') },
      to: { path: `${layer('discord')}|${layer('http')}` },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(node_modules|dist)/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { extensions: ['.ts', '.js', '.mjs', '.json'] },
  },
};

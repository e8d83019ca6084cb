import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

// Tests trust the test CA the way an operator trusts a private one. Node reads
// NODE_EXTRA_CA_CERTS only at start-up; set here, before vitest forks its
// workers, it reaches every worker whether tests run via `npm test` or `npx vitest`.
// (It replaces any machine-wide value: tests never leave loopback.)
process.env['NODE_EXTRA_CA_CERTS'] = fileURLToPath(new URL('./src/stand-ins/tls/ca.pem', import.meta.url));

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Integration tests start loopback servers and real SQLite files; two cores
    // are all this machine has, so keep the pool small and timeouts generous.
    pool: 'forks',
    maxWorkers: 2,
    testTimeout: 20_000,
    hookTimeout: 20_000,
  },
});

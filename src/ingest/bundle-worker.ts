import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const bundles = new Map<string, Promise<string>>();

/**
 * A worker thread's TypeScript module and what it imports, bundled into one
 * CommonJS script for `new Worker(script, { eval: true })`, once per process.
 *
 * Why not load the .ts files in the worker: a worker thread does not inherit
 * `--import tsx`, and registering tsx there starts a module-loader thread of
 * its own and transforms every imported file again: measured +50 MB RSS for
 * the webhook writer, against +10 MB bundled. Packages named in `external`
 * (native addons) stay `require`s, by absolute path so the worker's working
 * directory does not matter.
 */
export function bundleWorker(entry: URL, external: readonly string[] = []): Promise<string> {
  const cached = bundles.get(entry.href);
  if (cached !== undefined) return cached;
  const bundle = compile(entry, external);
  bundles.set(entry.href, bundle);
  // A failed build is not cached: the next start tries again.
  bundle.catch(() => bundles.delete(entry.href));
  return bundle;
}

async function compile(entry: URL, external: readonly string[]): Promise<string> {
  const require = createRequire(entry);
  const result = await build({
    entryPoints: [fileURLToPath(entry)],
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    write: false,
    logLevel: 'silent',
    plugins: [
      {
        name: 'external-by-path',
        setup(b) {
          for (const name of external) {
            b.onResolve({ filter: new RegExp(`^${name.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&')}$`) }, () => ({ path: require.resolve(name), external: true }));
          }
        },
      },
    ],
  });
  const text = result.outputFiles[0]?.text;
  if (text === undefined) throw new Error(`bundling the worker ${entry.href} produced no output`);
  return text;
}

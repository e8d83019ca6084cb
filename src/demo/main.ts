import { Command, InvalidArgumentError } from 'commander';
import { wantsColor } from './report.ts';
import { runDemo } from './run-demo.ts';
import { runServe } from './serve/run-serve.ts';

/**
 * `npm run demo`: the whole product against the local stand-ins, no account
 * and no network. Exits 0 only when the story held (SPEC "Contracts").
 */
const program = new Command('demo')
  .description('Runs Concierge against local Discord and PayPal stand-ins and plays a scripted membership story')
  .option('--serve', 'leave Concierge and the stand-ins running, with a page on 127.0.0.1 to try it by hand')
  .option('--port <n>', 'the --serve page\'s port (default: any free one)', (v) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError('a port number from 0 to 65535');
    return n;
  })
  .parse();

const opts = program.opts<{ serve?: boolean; port?: number }>();
if (opts.serve === true) {
  process.exit(await runServe({ port: opts.port ?? 0, write: (t) => process.stdout.write(t) }));
}

try {
  const result = await runDemo({ write: (t) => process.stdout.write(t), color: wantsColor(process.stdout) });
  process.exitCode = result.ok ? 0 : 1;
} catch (err) {
  process.stderr.write(`The demo could not run: ${(err as Error).message}\n`);
  process.exitCode = 1;
}

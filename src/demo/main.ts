import { Command } from 'commander';
import { wantsColor } from './report.ts';
import { runDemo } from './run-demo.ts';

/**
 * `npm run demo`: the whole product against the local stand-ins, no account
 * and no network. Exits 0 only when the story held (SPEC "Contracts").
 */
const program = new Command('demo')
  .description('Runs Concierge against local Discord and PayPal stand-ins and plays a scripted membership story')
  .option('--serve', 'leave Concierge and the stand-ins running for trying it by hand (not yet)')
  .parse();

if (program.opts<{ serve?: boolean }>().serve === true) {
  process.stderr.write('npm run demo -- --serve is not built yet; run npm run demo for the scripted story.\n');
  process.exit(2);
}

try {
  const result = await runDemo({ write: (t) => process.stdout.write(t), color: wantsColor(process.stdout) });
  process.exitCode = result.ok ? 0 : 1;
} catch (err) {
  process.stderr.write(`The demo could not run: ${(err as Error).message}\n`);
  process.exitCode = 1;
}
